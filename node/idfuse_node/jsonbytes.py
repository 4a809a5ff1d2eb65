"""Compact JSON as UTF-8 bytes, the one form the index stores and the resolver serves.

:func:`dumps` writes what ``json.dumps(obj, separators=(",", ":"), ensure_ascii=False,
allow_nan=False).encode()`` writes, through orjson (about ten times faster: the indexer
encodes two records per event, the resolver one document per answer). orjson holds integers
to 64 bits; a document with a larger one (a ``uint256`` from an event) goes through the
standard library instead, so every value the chain can carry is written exactly.

A document under 64 KiB is copied out of orjson's answer: orjson hands back its whole working
buffer (several KiB whatever the document's size), and where documents are kept by the
thousand (an index write batch waiting for its commit, the resolver's answer cache) each one
took fresh pages: about two page faults a document, 3.6 µs for a ~1 KB handle record in the
indexer against 0.4 µs to write it. The exact-size copy costs ~0.15 µs and leaves the buffer to
be reused. Larger documents (a JSON-RPC answer of many logs, sent and dropped) are not copied.

Documents hold no floats (the data model has none): orjson would write a NaN as ``null``
where the standard library refuses it.

Reading: orjson reads integers past 64 bits as floats, which would silently change such a
value; the index's records (:meth:`idfuse_node.indexer.records.Record.from_bytes`) read with
orjson and check every member's type, so such a record falls back to the standard library.
"""

from __future__ import annotations

import json
from typing import Any, Final

import orjson

__all__ = ["dumps"]

_COPY_BELOW: Final = 64 * 1024
_standard: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def dumps(document: Any) -> bytes:
    """``document`` as compact JSON, UTF-8.

    :raises TypeError: ``document`` holds a value JSON cannot carry.
    """
    try:
        raw = orjson.dumps(document)
    except orjson.JSONEncodeError:  # an integer past 64 bits, or a value neither library takes
        return _standard(document).encode("utf-8")
    return bytes(memoryview(raw)) if len(raw) < _COPY_BELOW else raw
