"""Identifier rules and ids: prefixes, labels, suffixes, handles, node ids and handle keys.

Exactly the rules of docs/data-model.md ("Prefixes", "Handles"); ``PrefixRegistry`` and
``IdentifierRegistry`` enforce the same ones on chain. Every validator raises
:class:`~idfuse_sdk.exceptions.ValidationError` with a message that names the input
(``title``), the rule and the byte position where it breaks.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Final

from idfuse_sdk.exceptions import ValidationError
from idfuse_sdk.hashing import keccak
from idfuse_sdk.types import (
    MAX_LABEL_BYTES,
    MAX_PREFIX_BYTES,
    MAX_SUFFIX_BYTES,
    ZERO32,
    Handle,
    HandleKey,
    Node,
    Prefix,
)

PREFIX_CACHE_SIZE = 4096
"""Valid prefixes (and their node ids) remembered, per process."""

_LABEL_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def _describe(character: str) -> str:
    """``'é' (U+00E9)``; control characters are shown by code point only."""
    code = ord(character)
    if character.isprintable():
        return f"{character!r} (U+{code:04X})"
    return f"U+{code:04X}"


def _byte_offsets(value: str) -> Iterator[tuple[int, str]]:
    """Each character of ``value`` with the byte offset it starts at in UTF-8."""
    offset = 0
    for character in value:
        yield offset, character
        code = ord(character)
        offset += 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4


def _utf8_length(value: str) -> int:
    return len(value.encode("utf-8", "surrogatepass"))


def _require_str(value: object, title: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{title} must be a string, got {type(value).__name__}")
    return value


def _label_fault(label: str) -> tuple[str, int, str] | None:
    """The first way ``label`` breaks the label rule, or None: ("empty", 0, ""),
    ("long", its byte length, ""), or ("character", byte offset, the character)."""
    if not label:
        return ("empty", 0, "")
    length = _utf8_length(label)
    if length > MAX_LABEL_BYTES:
        return ("long", length, "")
    for offset, character in _byte_offsets(label):
        if character not in _LABEL_CHARACTERS:
            return ("character", offset, character)
    return None


def _check_label(label: str, start: int, title: str) -> None:
    """Check one label that starts at byte ``start`` of the prefix being validated."""
    fault = _label_fault(label)
    if fault is None:
        return
    kind, number, character = fault
    if kind == "empty":
        raise ValidationError(f"{title} must not have an empty label, but has one at byte {start}")
    if kind == "long":
        raise ValidationError(
            f"{title} must have labels of at most {MAX_LABEL_BYTES} bytes, "
            f"but the label at byte {start} has {number}"
        )
    raise ValidationError(
        f"{title} must hold only ASCII letters, digits and '-' in a label: "
        f"{_describe(character)} at byte {start + number}"
    )


def validate_label(value: str, title: str = "label") -> str:
    """Check one prefix label: 1-63 bytes of ``[A-Za-z0-9-]``.

    :param value: The label, e.g. ``"88"`` or ``"acme-1"``.
    :param title: What to call the input in an error message.
    :return: ``value`` unchanged.
    :raises ValidationError: The label is empty, too long or holds another character.
    """
    label = _require_str(value, title)
    fault = _label_fault(label)
    if fault is None:
        return label
    kind, number, character = fault
    if kind == "empty":
        raise ValidationError(f"{title} must not be empty")
    if kind == "long":
        raise ValidationError(f"{title} must be at most {MAX_LABEL_BYTES} bytes, got {number}")
    raise ValidationError(
        f"{title} must hold only ASCII letters, digits and '-': {_describe(character)} at byte {number}"
    )


def validate_prefix(value: str, title: str = "prefix") -> Prefix:
    """Check a whole prefix: labels joined by ``.``, at most 128 bytes in all.

    :param value: The prefix, e.g. ``"88.100.1"``.
    :param title: What to call the input in an error message.
    :return: ``value`` unchanged (case preserved), typed as :data:`Prefix`.
    :raises ValidationError: The prefix is empty or too long, or a label breaks the label rule.
    """
    return _validated_prefix(_require_str(value, title), title)


@functools.lru_cache(maxsize=PREFIX_CACHE_SIZE)
def _validated_prefix(prefix: str, title: str) -> Prefix:
    # Cached: a resolver or a batch checks the same few prefixes over and over (refusals raise,
    # so only valid prefixes are remembered).
    if not prefix:
        raise ValidationError(f"{title} must not be empty")
    length = _utf8_length(prefix)
    if length > MAX_PREFIX_BYTES:
        raise ValidationError(f"{title} must be at most {MAX_PREFIX_BYTES} bytes, got {length}")
    start = 0
    for label in prefix.split("."):
        _check_label(label, start, title)
        start += len(label) + 1  # ASCII once checked, so characters are bytes
    return Prefix(prefix)


def normalise_prefix(value: str, title: str = "prefix") -> Prefix:
    """The lower-cased form of a prefix, for comparing prefixes case-insensitively.

    :param value: The prefix.
    :param title: What to call the input in an error message.
    :return: The prefix in lower case.
    :raises ValidationError: ``value`` is not a valid prefix.
    """
    return Prefix(validate_prefix(value, title).lower())


def _check_suffix_length(length: int, title: str) -> None:
    if length == 0:
        raise ValidationError(f"{title} must not be empty")
    if length > MAX_SUFFIX_BYTES:
        raise ValidationError(f"{title} must be at most {MAX_SUFFIX_BYTES} bytes of UTF-8, got {length}")


_SUFFIX_FAULT = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""Any character :func:`_check_suffix_characters` refuses (a quick test before the slow report)."""


def _check_suffix_characters(suffix: str, title: str) -> None:
    """Refuse the first control character or lone surrogate, reporting its byte offset."""
    if _SUFFIX_FAULT.search(suffix) is None:
        return
    for offset, character in _byte_offsets(suffix):
        code = ord(character)
        if code < 0x20 or 0x7F <= code <= 0x9F:
            raise ValidationError(f"{title} must not contain control character U+{code:04X} at byte {offset}")
        if 0xD800 <= code <= 0xDFFF:
            raise ValidationError(
                f"{title} must be well-formed UTF-8: lone surrogate U+{code:04X} at byte {offset}"
            )


def validate_suffix(value: str, title: str = "suffix") -> str:
    """Check a suffix: 1-255 bytes of UTF-8 without C0 controls, DEL or C1 controls.

    A Python string holding a lone surrogate has no UTF-8 encoding and is refused. As on
    chain, the length is checked first, then the first offending character is reported.

    :param value: The suffix, e.g. ``"PN-0001"`` or ``"零件/甲"``.
    :param title: What to call the input in an error message.
    :return: ``value`` unchanged.
    :raises ValidationError: The suffix is empty, too long, not encodable or holds a control.
    """
    suffix = _require_str(value, title)
    _check_suffix_length(_utf8_length(suffix), title)
    _check_suffix_characters(suffix, title)
    return suffix


def decode_suffix(raw: bytes, title: str = "suffix") -> str:
    """Decode a suffix read as bytes (calldata, storage) and check it.

    Malformed UTF-8 is what Python's strict decoder refuses (overlong forms, surrogates,
    code points above U+10FFFF, stray or missing continuation bytes). As on chain, the
    length is checked first, then the first offending byte (control or malformed) is reported.

    :param raw: The suffix's UTF-8 bytes.
    :param title: What to call the input in an error message.
    :return: The suffix.
    :raises ValidationError: ``raw`` breaks the suffix rule.
    """
    data = bytes(raw)
    _check_suffix_length(len(data), title)
    try:
        suffix = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        _check_suffix_characters(data[: exc.start].decode("utf-8"), title)
        raise ValidationError(
            f"{title} must be well-formed UTF-8: {exc.reason} at byte {exc.start}"
        ) from None
    _check_suffix_characters(suffix, title)
    return suffix


def parse_handle(text: str, title: str = "handle") -> tuple[Prefix, str]:
    """Split a handle at its first ``/`` and check both halves.

    :param text: The handle, e.g. ``"88.100.1/PN-0001"`` (the suffix may contain ``/``).
    :param title: What to call the input in an error message.
    :return: The prefix and the suffix.
    :raises ValidationError: There is no ``/``, or a half breaks its rule.
    """
    handle = _require_str(text, title)
    prefix, slash, suffix = handle.partition("/")
    if not slash:
        raise ValidationError(f"{title} must be prefix/suffix, but has no '/'")
    return validate_prefix(prefix, f"{title} prefix"), validate_suffix(suffix, f"{title} suffix")


def format_handle(prefix: str, suffix: str) -> Handle:
    """Join a prefix and a suffix into a handle.

    :param prefix: The prefix.
    :param suffix: The suffix.
    :return: ``prefix/suffix``.
    :raises ValidationError: A half breaks its rule.
    """
    return Handle(f"{validate_prefix(prefix)}/{validate_suffix(suffix)}")


_BYTES_LIKE: Final = (bytes, bytearray, memoryview)


def validate_bytes32(value: bytes, title: str) -> bytes:
    """Check a 32-byte id (node, handle key, template id, commitment).

    :param value: The bytes.
    :param title: What to call the input in an error message.
    :return: ``value`` as immutable ``bytes``.
    :raises ValidationError: ``value`` is not 32 bytes.
    """
    if type(value) is bytes and len(value) == 32:  # the common case, checked by the hundred thousand
        return value
    if not isinstance(value, _BYTES_LIKE):
        raise ValidationError(f"{title} must be 32 bytes, got {type(value).__name__}")
    raw = bytes(value)
    if len(raw) != 32:
        raise ValidationError(f"{title} must be 32 bytes, got {len(raw)}")
    return raw


def labelhash(label: str) -> bytes:
    """``keccak(lower(label))``: a label's hash as node ids use it (case-insensitive).

    :param label: One label.
    :return: 32 bytes.
    :raises ValidationError: ``label`` breaks the label rule.
    """
    return keccak(validate_label(label).lower().encode("ascii"))


def child_node(parent: bytes, label: str) -> Node:
    """The node id of ``label`` under the prefix whose node id is ``parent``.

    :param parent: The parent's node id (zero for a top-level prefix).
    :param label: One label.
    :return: ``keccak(parent ‖ keccak(lower(label)))``.
    :raises ValidationError: ``parent`` is not 32 bytes or ``label`` breaks the label rule.
    """
    return Node(keccak(validate_bytes32(parent, "parent node") + labelhash(label)))


def prefix_node(prefix: str) -> Node:
    """A whole prefix's node id, ENS-style over lower-cased labels; ``""`` is the zero node.

    :param prefix: The prefix, e.g. ``"88.100.1"`` (any case).
    :return: 32 bytes.
    :raises ValidationError: ``prefix`` is not ``""`` and not a valid prefix.
    """
    if prefix == "":
        return Node(ZERO32)
    return _prefix_node(_require_str(prefix, "prefix"))


@functools.lru_cache(maxsize=PREFIX_CACHE_SIZE)
def _prefix_node(prefix: str) -> Node:
    node = ZERO32
    for label in normalise_prefix(prefix).split("."):
        node = keccak(node + keccak(label.encode("ascii")))
    return Node(node)


def handle_key(prefix_or_node: str | bytes, suffix: str, title: str = "suffix") -> HandleKey:
    """A handle's key, ``keccak(node(prefix) ‖ keccak(suffix))``.

    :param prefix_or_node: The prefix as text, or its 32-byte node id.
    :param suffix: The suffix.
    :param title: What to call the suffix in an error message.
    :return: 32 bytes.
    :raises ValidationError: The prefix, node id or suffix is invalid.
    """
    if isinstance(prefix_or_node, str):
        node: bytes = prefix_node(validate_prefix(prefix_or_node))
    else:
        node = validate_bytes32(prefix_or_node, "prefix node")
    return checked_handle_key(node, validate_suffix(suffix, title).encode("utf-8"))


def checked_handle_key(node: bytes, suffix_utf8: bytes) -> HandleKey:
    """:func:`handle_key` of a node id and a suffix's UTF-8 that the caller has checked already
    (a batch decoder or a file reader, which have the suffix's bytes in hand)."""
    return HandleKey(keccak(node + keccak(suffix_utf8)))
