"""Handle's JSON shape of what the index stores: times, value data, values and provenance.

Shared by the index, which keeps each live handle's answer rendered beside its record
(:mod:`idfuse_node.indexer.answerpart`), and the resolver, which renders the rest
(:mod:`idfuse_node.resolver.render`). Nothing here reads the index.
"""

from __future__ import annotations

import base64
import functools
import time
from typing import TYPE_CHECKING, Any

from idfuse_node.exceptions import IndexCorruptError

if TYPE_CHECKING:
    from idfuse_node.indexer.records import IndexedValue, Provenance

__all__ = ["data_text", "iso_time", "provenance_json", "value_json"]


@functools.lru_cache(maxsize=4096)
def iso_time(seconds: int) -> str:
    """A block time as Handle writes timestamps: ISO 8601, UTC, to the second (``...Z``).
    Cached: an answer's values and the answers of one block share their times."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def provenance_json(provenance: Provenance) -> dict[str, Any]:
    """The provenance members every answer carries (batch members only when set)."""
    document = provenance.to_json()
    if provenance.batch_id is None:
        del document["batch_id"], document["record_index"]
    return document


def data_text(fmt: str, data: str) -> str:
    """Stored data (``0x`` hex) as its format shows it: ``string`` as UTF-8 text, ``base64`` as
    base64, ``hex`` (and any other) as hex.

    :raises IndexCorruptError: ``data`` is not ``0x`` and hex (the index wrote it otherwise).
    """
    try:
        raw = bytes.fromhex(data[2:]) if data.startswith("0x") else None
    except ValueError:
        raw = None
    if raw is None:
        raise IndexCorruptError(f"stored value data is not 0x-prefixed hex: {data[:20]!r}")
    if fmt == "string":
        return raw.decode("utf-8", "replace")
    if fmt == "base64":
        return base64.b64encode(raw).decode("ascii")
    return raw.hex()


def value_json(value: IndexedValue, provenance: int | None = None) -> dict[str, Any]:
    """One stored value in Handle's shape, plus ``provenance``: rendered, or, when given, the
    position the index's answer part refers to it by (:mod:`idfuse_node.indexer.answerpart`)."""
    return {
        "index": value.index,
        "type": value.type,
        "data": {"format": value.format, "value": data_text(value.format, value.data)},
        "ttl": value.ttl,
        "timestamp": iso_time(value.timestamp),
        "provenance": provenance_json(value.provenance) if provenance is None else provenance,
    }
