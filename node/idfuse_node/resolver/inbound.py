"""Inbound normalisation: the raw request target into typed, validated arguments.

Everything a client sends is checked here, before any read: the path is percent-decoded exactly
once and strictly (a ``%`` not followed by two hex digits, or bytes that are not UTF-8, are
refused), sizes are bounded, handles and prefixes follow the identifier rules, and query
parameters are parsed without guessing. Failures raise
:class:`~idfuse_node.resolver.errors.ResolverHTTPError` (400 with a Handle response code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from idfuse_node.resolver.errors import ResolverHTTPError, bad_request, invalid_handle
from idfuse_node.resolver.settings import ResolverSettings
from idfuse_sdk.exceptions import ValidationError
from idfuse_sdk.identifiers import parse_handle, validate_prefix
from idfuse_sdk.types import MAX_PREFIX_BYTES, MAX_SUFFIX_BYTES, MAX_TYPE_BYTES, Prefix

_PERCENT: Final = re.compile(rb"%([0-9A-Fa-f]{2})")
_HANDLE_BYTES: Final = MAX_PREFIX_BYTES + 1 + MAX_SUFFIX_BYTES
_INT: Final = re.compile(r"0|[1-9][0-9]{0,9}")
_ADDRESS: Final = re.compile(r"0x[0-9a-fA-F]{40}")
_HEX32: Final = re.compile(r"0x[0-9a-fA-F]{64}")
_TRUE_FALSE: Final = {"true": True, "false": False}


def percent_decode(raw: bytes, title: str) -> str:
    """Decode ``%XX`` escapes once, strictly, then UTF-8 (no replacement characters).

    :raises ResolverHTTPError: a stray ``%`` or bytes that are not well-formed UTF-8.
    """
    if b"%" in raw:
        if raw.count(b"%") != len(_PERCENT.findall(raw)):
            raise bad_request(f"{title} has a '%' that is not followed by two hex digits")
        raw = _PERCENT.sub(lambda match: bytes((int(match.group(1), 16),)), raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request(f"{title} is not UTF-8 once percent-decoded") from None


def parse_query(query_string: bytes, settings: ResolverSettings) -> list[tuple[str, str]]:
    """The query's ``name=value`` pairs in order, each decoded once (``+`` is a space).

    :raises ResolverHTTPError: too many parameters, or an undecodable one.
    """
    if not query_string:
        return []
    pairs = query_string.split(b"&")
    if len(pairs) > settings.max_query_params:
        raise bad_request(f"at most {settings.max_query_params} query parameters are accepted")
    result = []
    for pair in pairs:
        if not pair:
            continue
        name, _, value = pair.partition(b"=")
        result.append(
            (
                percent_decode(name.replace(b"+", b" "), "a query parameter name"),
                percent_decode(value.replace(b"+", b" "), "a query parameter"),
            )
        )
    return result


def check_target_size(raw_path: bytes, query_string: bytes, settings: ResolverSettings) -> None:
    """Refuse a request target longer than the limit (400, Handle code 4)."""
    if len(raw_path) + len(query_string) > settings.max_url_bytes:
        raise bad_request(f"the request target is longer than {settings.max_url_bytes} bytes")


def parse_handle_text(text: str) -> tuple[Prefix, str]:
    """A handle's prefix and suffix.

    :raises ResolverHTTPError: 400 with code 102 when it breaks the identifier rules.
    """
    if len(text.encode("utf-8", "surrogatepass")) > _HANDLE_BYTES:
        raise invalid_handle(f"a handle is at most {_HANDLE_BYTES} bytes", handle=text)
    try:
        return parse_handle(text)
    except ValidationError as error:
        raise invalid_handle(str(error), handle=text) from None


def parse_prefix_text(text: str, title: str = "prefix") -> Prefix:
    """A prefix.

    :raises ResolverHTTPError: 400 with code 102 when it breaks the prefix rules.
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_PREFIX_BYTES:
        raise invalid_handle(f"{title} is at most {MAX_PREFIX_BYTES} bytes")
    try:
        return validate_prefix(text, title)
    except ValidationError as error:
        raise invalid_handle(str(error)) from None


def parse_int(text: str, title: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    """A decimal integer without sign or leading zeros, within bounds.

    :raises ResolverHTTPError: 400 (code 4) otherwise.
    """
    if _INT.fullmatch(text) is None:
        raise bad_request(f"{title} must be a decimal integer, not {text[:40]!r}")
    value = int(text)
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise bad_request(f"{title} must be {bound}")
    return value


def parse_bool(text: str, title: str) -> bool:
    """``true`` or ``false`` (lower case, as Handle's query flags).

    :raises ResolverHTTPError: 400 (code 4) otherwise.
    """
    try:
        return _TRUE_FALSE[text]
    except KeyError:
        raise bad_request(f"{title} must be true or false") from None


def parse_address(text: str) -> str:
    """A 20-byte hex address, returned lower-case without checks of its EIP-55 case.

    :raises ResolverHTTPError: 400 (code 4) otherwise.
    """
    if _ADDRESS.fullmatch(text) is None:
        raise bad_request("address must be 0x followed by 40 hex digits")
    return text.lower()


def parse_hex32(text: str, title: str) -> bytes:
    """A 32-byte id written as 0x and 64 hex digits.

    :raises ResolverHTTPError: 400 (code 4) otherwise.
    """
    if _HEX32.fullmatch(text) is None:
        raise bad_request(f"{title} must be 0x followed by 64 hex digits")
    return bytes.fromhex(text[2:])


@dataclass(frozen=True, slots=True)
class HandleQuery:
    """The query of ``GET /api/handles/{handle}``: value filters and referral following."""

    types: tuple[str, ...] = ()
    indexes: tuple[int, ...] = ()
    follow: bool = False


def parse_handle_query(pairs: list[tuple[str, str]]) -> HandleQuery:
    """Read ``type=`` and ``index=`` (repeatable), ``follow=``, and Handle's ``auth=`` (accepted,
    meaningless here: every answer comes from the index) and ``publicOnly=`` (only ``true``:
    this resolver has no authentication).

    :raises ResolverHTTPError: an unknown parameter, or a malformed value.
    """
    types: list[str] = []
    indexes: list[int] = []
    follow = False
    for name, value in pairs:
        if name == "type":
            if not 0 < len(value.encode("utf-8", "surrogatepass")) <= MAX_TYPE_BYTES:
                raise bad_request(f"type must be 1 to {MAX_TYPE_BYTES} bytes")
            types.append(value)
        elif name == "index":
            indexes.append(parse_int(value, "index", maximum=2**32 - 1))
        elif name == "follow":
            follow = parse_bool(value, "follow")
        elif name == "auth":
            parse_bool(value, "auth")
        elif name == "publicOnly" and not parse_bool(value, "publicOnly"):
            raise ResolverHTTPError(
                401, 402, "publicOnly=false needs authentication, which this resolver does not offer"
            )
        # other parameters are ignored, as Handle servers ignore what they do not know
    return HandleQuery(tuple(types), tuple(indexes), follow)


@dataclass(frozen=True, slots=True)
class Page:
    """A Handle-style page: ``page`` (0-based) of ``size`` entries."""

    page: int
    size: int

    @property
    def offset(self) -> int:
        return self.page * self.size


def parse_page(page: str | None, page_size: str | None, settings: ResolverSettings) -> Page:
    """Handle's ``page`` (0-based) and ``pageSize`` (capped at the settings' maximum).

    :raises ResolverHTTPError: malformed numbers, or a page too deep.
    """
    size = settings.default_page_size
    if page_size is not None:
        size = parse_int(page_size, "pageSize", minimum=1, maximum=settings.max_page_size)
    number = 0 if page is None else parse_int(page, "page", maximum=settings.max_page_offset)
    if number * size > settings.max_page_offset:
        raise bad_request(
            f"page * pageSize must be at most {settings.max_page_offset}; page the /v1 API by cursor instead"
        )
    return Page(number, size)


def parse_uint(text: str, title: str, *, bits: int = 256) -> int:
    """A decimal unsigned integer of at most ``bits`` bits (no sign, no leading zeros).

    :raises ResolverHTTPError: 400 (code 4) otherwise.
    """
    if not text.isascii() or not text.isdigit() or len(text) > 78 or (len(text) > 1 and text[0] == "0"):
        raise bad_request(f"{title} must be a decimal integer, not {text[:40]!r}")
    value = int(text)
    if value >= 2**bits:
        raise bad_request(f"{title} must be below 2**{bits}")
    return value


def parse_limit(text: str | None, settings: ResolverSettings) -> int:
    """A ``/v1`` page size: 1 to the settings' maximum, the default when absent."""
    if text is None:
        return settings.default_page_size
    return parse_int(text, "limit", minimum=1, maximum=settings.max_page_size)


def parse_cursor(text: str | None, parts: int, title: str = "after") -> tuple[int, ...] | None:
    """A history cursor ``block.log[.record]`` (what a previous page's ``next`` said)."""
    if text is None:
        return None
    pieces = text.split(".")
    if len(pieces) != parts:
        raise bad_request(f"{title} must be {parts} dot-separated integers, as a page's next gives")
    return tuple(parse_uint(piece, title, bits=64) for piece in pieces)
