"""RLP decoding without sedes, for the ledger's own stored bytes read on every JSON-RPC answer.

pyrlp's ``rlp.decode`` copies and re-checks every item through several layers of calls (about
30 µs for one receipt with a log); :func:`decode` walks the same structure by offsets and gives
the same nested lists of bytes, several times faster. It checks that every length stays inside
the input and that nothing trails, raising :class:`rlp.DecodingError` otherwise; it does not
insist on canonical (shortest) length prefixes, so use it for bytes this node wrote itself.
"""

from __future__ import annotations

from typing import Any

from rlp import DecodingError  # type: ignore[import-untyped]

__all__ = ["decode"]


def decode(data: bytes) -> Any:
    """The item ``data`` encodes: bytes, or a list of items."""
    item, end = _item(data, 0, len(data))
    if end != len(data):
        raise DecodingError(f"{len(data) - end} trailing bytes after the RLP item", data)
    return item


def _item(data: bytes, pos: int, limit: int) -> tuple[Any, int]:
    if pos >= limit:
        raise DecodingError("RLP item runs past its end", data)
    first = data[pos]
    if first < 0x80:
        return data[pos : pos + 1], pos + 1
    if first < 0xB8:
        start, end = pos + 1, pos + 1 + first - 0x80
    elif first < 0xC0:
        size = first - 0xB7
        start = pos + 1 + size
        end = start + int.from_bytes(data[pos + 1 : start])
    elif first < 0xF8:
        start, end = pos + 1, pos + 1 + first - 0xC0
    else:
        size = first - 0xF7
        start = pos + 1 + size
        end = start + int.from_bytes(data[pos + 1 : start])
    if end > limit:
        raise DecodingError("RLP item runs past its end", data)
    if first < 0xC0:
        return data[start:end], end
    items = []
    while start < end:
        item, start = _item(data, start, end)
        items.append(item)
    return items, end
