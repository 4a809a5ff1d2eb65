"""A flat hash table of the index's handle records, for ``scripts/bench/flatstore``: what a
resolution's read costs when it is one slot and one record instead of a LevelDB get.

A measurement, not a store: built once from a finished index (never updated), no crash safety.

``DIR/data``: every handle record's stored bytes, one after the other. ``DIR/table``: one byte,
the table's size as a power of two (at least 3 slots a record), then slots of 20 bytes (tag,
offset, length; little-endian): open addressing with linear probing, the slot chosen by the
handle key's first 8 bytes, the tag its next 8 (low bit set, so 0 marks an empty slot). The
handle key is already a keccak hash: its bytes are uniform.

``GET /api/handles/{prefix}/{suffix}`` is answered as the ceiling (``resolve_ceiling.py``)
answers it, the stored record's bytes as they are; only the read differs.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import plyvel

from idfuse_node.indexer import schema
from idfuse_node.indexer.store import BLOOM_FILTER_BITS, max_open_files
from idfuse_sdk.identifiers import handle_key, prefix_node

SLOT = struct.Struct("<QQI")
_PREFIX = b"/api/handles/"
_JSON = [(b"content-type", b"application/json")]


def _slot_and_tag(key: bytes, mask: int) -> tuple[int, int]:
    return int.from_bytes(key[:8], "little") & mask, int.from_bytes(key[8:16], "little") | 1


def build(index: Path, out: Path) -> int:
    """Write the table of every handle record in the LevelDB ``index`` to ``out``; the count."""
    db = plyvel.DB(str(index), bloom_filter_bits=BLOOM_FILTER_BITS, max_open_files=max_open_files())
    try:
        skip = len(schema.HANDLE_PREFIX)
        count = sum(1 for _ in db.iterator(prefix=schema.HANDLE_PREFIX, include_value=False))
        bits = max(10, (3 * count).bit_length())
        mask = (1 << bits) - 1
        table = bytearray(SLOT.size << bits)
        out.mkdir(parents=True, exist_ok=True)
        offset = 0
        with (out / "data.part").open("wb") as data:
            for key, value in db.iterator(prefix=schema.HANDLE_PREFIX):
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
        mapped.madvise(mmap.MADV_RANDOM)  # no read-ahead: every read is one slot or one record
    mask = (1 << table[0]) - 1
    nodes: dict[str, bytes] = {}

    def get(key: bytes) -> bytes | None:
        slot, tag = _slot_and_tag(key, mask)
        while True:
            found, offset, length = SLOT.unpack_from(table, 1 + slot * SLOT.size)
            if found == tag:
                return data[offset : offset + length]
            if found == 0:
                return None
            slot = (slot + 1) & mask

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        raw: bytes = scope["raw_path"]
        body: bytes | None = None
        if raw.startswith(_PREFIX):
            prefix, _, suffix = unquote_to_bytes(raw[len(_PREFIX) :]).decode("utf-8").partition("/")
            node = nodes.get(prefix)
            if node is None:
                node = nodes[prefix] = prefix_node(prefix)
            body = get(handle_key(node, suffix))
        status = 200 if body is not None else 404
        body = body if body is not None else b'{"responseCode":100}'
        headers = [*_JSON, (b"content-length", str(len(body)).encode("ascii"))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app
