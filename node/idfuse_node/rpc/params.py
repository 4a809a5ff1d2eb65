"""Parameter checks at the edge: each turns a JSON value into a Python value or raises a -32602
:class:`~idfuse_node.rpc.errors.RpcError` that names the parameter and says what it must be."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from idfuse_node.rpc.errors import invalid_params

BLOCK_TAGS: Final = ("latest", "earliest", "pending", "safe", "finalized")
MAX_QUANTITY: Final = 2**256 - 1

Tag = Literal["latest", "earliest", "pending", "safe", "finalized"]


@dataclass(frozen=True)
class BlockRef:
    """A block named by tag, number or hash (EIP-1898)."""

    tag: Tag | None = None
    number: int | None = None
    hash: bytes | None = None


HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")


def _shown(value: object) -> str:
    """``value``'s repr for an error message, cut short (a bad transaction can be megabytes)."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _after_0x(value: object, title: str) -> str:
    """The text after ``0x`` (unchecked: see :func:`_hex_digits` and :func:`data`)."""
    if not isinstance(value, str) or not value.startswith(("0x", "0X")):
        raise invalid_params(f"{title} must be a 0x-prefixed hex string, got {_shown(value)}")
    return value[2:]


def _hex_digits(value: object, title: str) -> str:
    """The digits after ``0x`` of a short value (a number): hex digits only (``int`` would
    also take ``_``, spaces and signs)."""
    digits = _after_0x(value, title)
    if not HEX_DIGITS.issuperset(digits):
        raise invalid_params(f"{title} must be hex digits after 0x, got {_shown(value)}")
    return digits


def quantity(value: object, title: str, *, maximum: int = MAX_QUANTITY) -> int:
    """A hex quantity (``0x0``, ``0x1f``; no leading zeros, as the spec writes them)."""
    digits = _hex_digits(value, title)
    if not digits or (len(digits) > 1 and digits[0] == "0"):
        raise invalid_params(f"{title} must be a hex quantity without leading zeros, got {_shown(value)}")
    try:
        number = int(digits, 16)
    except ValueError:
        raise invalid_params(f"{title} must be a hex quantity, got {_shown(value)}") from None
    if number > maximum:
        raise invalid_params(f"{title} must be at most {maximum:#x}, got {_shown(value)}")
    return number


def data(value: object, title: str) -> bytes:
    """0x-prefixed hex bytes of even length, hex digits only. Checked by decoding, in C: a
    transaction's data can be megabytes (``bytes.fromhex`` refuses anything but hex digits and
    whitespace, and whitespace shows as fewer bytes than digits)."""
    digits = _after_0x(value, title)
    if len(digits) % 2:
        raise invalid_params(f"{title} must have an even number of hex digits, got {len(digits)}")
    try:
        raw = bytes.fromhex(digits)
    except ValueError:
        raw = None
    if raw is None or 2 * len(raw) != len(digits):
        raise invalid_params(f"{title} must be hex digits after 0x, got {_shown(value)}")
    return raw


def fixed(value: object, title: str, size: int) -> bytes:
    """Exactly ``size`` bytes of hex."""
    raw = data(value, title)
    if len(raw) != size:
        raise invalid_params(f"{title} must be {size} bytes, got {len(raw)}")
    return raw


def address(value: object, title: str = "address") -> bytes:
    """A 20-byte address (any case; the checksum is not enforced, as geth does not)."""
    return fixed(value, title, 20)


def hash32(value: object, title: str = "hash") -> bytes:
    """A 32-byte hash."""
    return fixed(value, title, 32)


def storage_key(value: object, title: str = "storage key") -> int:
    """A storage slot: a quantity or up to 32 bytes of hex."""
    digits = _hex_digits(value, title)
    if not digits or len(digits) > 64:
        raise invalid_params(f"{title} must be 1 to 64 hex digits, got {_shown(value)}")
    try:
        return int(digits, 16)
    except ValueError:
        raise invalid_params(f"{title} must be hex, got {_shown(value)}") from None


def boolean(value: object, title: str) -> bool:
    """A JSON boolean."""
    if not isinstance(value, bool):
        raise invalid_params(f"{title} must be true or false, got {_shown(value)}")
    return value


def block_ref(value: object, title: str = "block", *, allow_hash: bool = True) -> BlockRef:
    """A block tag, a hex block number, or (EIP-1898) ``{"blockNumber"}`` / ``{"blockHash"}``."""
    if isinstance(value, str) and value in BLOCK_TAGS:
        return BlockRef(tag=value)  # type: ignore[arg-type]
    if isinstance(value, str) and value.startswith(("0x", "0X")):
        if allow_hash and len(value) == 66:
            return BlockRef(hash=hash32(value, title))
        return BlockRef(number=quantity(value, title, maximum=2**63 - 1))
    if allow_hash and isinstance(value, dict):
        if set(value) <= {"blockHash", "requireCanonical"} and "blockHash" in value:
            return BlockRef(hash=hash32(value["blockHash"], f"{title}.blockHash"))
        if set(value) == {"blockNumber"}:
            return block_ref(value["blockNumber"], f"{title}.blockNumber", allow_hash=False)
    raise invalid_params(
        f"{title} must be a block number or one of {', '.join(BLOCK_TAGS)}, got {_shown(value)}"
    )


def positional(params: object, names: Sequence[str], required: int) -> list[Any]:
    """``params`` as a list of ``len(names)`` values; missing optional ones are None."""
    if params is None:
        params = []
    if not isinstance(params, list):
        raise invalid_params("params must be an array")
    if len(params) < required or len(params) > len(names):
        expected = str(required) if required == len(names) else f"{required} to {len(names)}"
        raise invalid_params(f"expected {expected} params ({', '.join(names)}), got {len(params)}")
    return list(params) + [None] * (len(names) - len(params))


def obj(value: object, title: str, allowed: Sequence[str]) -> dict[str, Any]:
    """A JSON object with no fields outside ``allowed``."""
    if not isinstance(value, dict):
        raise invalid_params(f"{title} must be an object, got {_shown(value)}")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise invalid_params(f"{title} has unknown fields: {', '.join(unknown)}")
    return value
