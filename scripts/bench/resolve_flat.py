"""A flat hash table of the index's answer parts (``v6:answer:``), for ``scripts/bench/flatstore``:
what a resolution's read costs when it is one slot and one value instead of a LevelDB get.

A measurement, not a store: built once from a finished index (never updated), no crash safety.

``DIR/data``: every answer part's stored bytes, one after the other. ``DIR/table``: one byte,
the table's size as a power of two (at least 3 slots a part), then slots of 20 bytes (tag,
offset, length; little-endian): open addressing with linear probing, the slot chosen by the
handle key's first 8 bytes, the tag its next 8 (low bit set, so 0 marks an empty slot). The
handle key is already a keccak hash: its bytes are uniform.

``GET /api/handles/{prefix}/{suffix}`` is answered by the ceiling's app
(``resolve_ceiling.record_app``), the stored part's bytes as they are: only the read differs.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path
from typing import Any

import plyvel
from resolve_ceiling import record_app  # beside this script

from idfuse_node.indexer import schema
from idfuse_node.indexer.store import BLOOM_FILTER_BITS, max_open_files

SLOT = struct.Struct("<QQI")


def _slot_and_tag(key: bytes, mask: int) -> tuple[int, int]:
    return int.from_bytes(key[:8], "little") & mask, int.from_bytes(key[8:16], "little") | 1


def build(index: Path, out: Path) -> int:
    """Write the table of every answer part in the LevelDB ``index`` to ``out``; the count."""
    db = plyvel.DB(str(index), bloom_filter_bits=BLOOM_FILTER_BITS, max_open_files=max_open_files())
    try:
        skip = len(schema.ANSWER_PREFIX)
        count = sum(1 for _ in db.iterator(prefix=schema.ANSWER_PREFIX, include_value=False))
        bits = max(10, (3 * count).bit_length())
        mask = (1 << bits) - 1
        table = bytearray(SLOT.size << bits)
        out.mkdir(parents=True, exist_ok=True)
        offset = 0
        with (out / "data.part").open("wb") as data:
            for key, value in db.iterator(prefix=schema.ANSWER_PREFIX):
                slot, tag = _slot_and_tag(key[skip:], mask)
                while SLOT.unpack_from(table, slot * SLOT.size)[0]:
                    slot = (slot + 1) & mask
                SLOT.pack_into(table, slot * SLOT.size, tag, offset, len(value))
                data.write(value)
                offset += len(value)
        with (out / "table.part").open("wb") as file:
            file.write(bytes([bits]))
            file.write(table)
    finally:
        db.close()
    (out / "data.part").rename(out / "data")
    (out / "table.part").rename(out / "table")  # last: its presence means the table is whole
    return count


def make_app(directory: str) -> Any:
    """The raw ASGI app over the table in ``directory``."""
    files = [(Path(directory) / name).open("rb") for name in ("table", "data")]
    table, data = (mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) for file in files)
    for mapped in (table, data):
        mapped.madvise(mmap.MADV_RANDOM)  # no read-ahead: every read is one slot or one part
    mask = (1 << table[0]) - 1

    def get(key: bytes) -> bytes | None:
        slot, tag = _slot_and_tag(key, mask)
        while True:
            found, offset, length = SLOT.unpack_from(table, 1 + slot * SLOT.size)
            if found == tag:
                return data[offset : offset + length]
            if found == 0:
                return None
            slot = (slot + 1) & mask

    def close() -> None:
        for mapped in (table, data):
            mapped.close()
        for file in files:
            file.close()

    return record_app(get, close)
