"""Compact JSON as UTF-8 bytes, the one form the index stores and the resolver serves.

:func:`dumps` writes what ``json.dumps(obj, separators=(",", ":"), ensure_ascii=False,
allow_nan=False).encode()`` writes, through orjson (about ten times faster: the indexer
encodes two records per event, the resolver one document per answer). orjson holds integers
to 64 bits; a document with a larger one (a ``uint256`` from an event) goes through the
standard library instead, so every value the chain can carry is written exactly.

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

_standard: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def dumps(document: Any) -> bytes:
    """``document`` as compact JSON, UTF-8.

    :raises TypeError: ``document`` holds a value JSON cannot carry.
    """
    try:
        return orjson.dumps(document)
    except orjson.JSONEncodeError:  # an integer past 64 bits, or a value neither library takes
        return _standard(document).encode("utf-8")
