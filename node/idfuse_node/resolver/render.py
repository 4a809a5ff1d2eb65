"""Outbound normalisation: index records into the JSON the resolver serves.

Handle values follow the Handle REST shape ``{index, type, data: {format, value}, ttl,
timestamp}`` with an extra ``provenance`` member; ``HS_ADMIN`` and ``HS_SITE`` are derived
here from the prefix's on-chain owner and service record (docs/resolver.md gives the
mapping). Nothing here reads the index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final, NamedTuple

from idfuse_node.handlejson import data_text, iso_time, provenance_json, value_json
from idfuse_node.indexer.records import (
    Checkpoint,
    HandleRecord,
    IndexedValue,
    PrefixRecord,
    ServiceRecord,
)
from idfuse_node.resolver.codes import RC_SUCCESS, RC_VALUES_NOT_FOUND
from idfuse_sdk.types import HS_ADMIN_INDEX, HS_SITE_INDEX, PUBLIC_READ

ADMIN_HANDLE_INDEX: Final = 200
"""The index the derived ``HS_ADMIN`` value names in its admin handle ``0.NA/<prefix>``."""
ADMIN_PERMISSIONS: Final = "011111110011"
"""Handle's admin permission bits (add/delete handle, add/remove/modify values, read values;
no naming-authority rights), as Handle writes them for a handle's owner."""

__all__ = [
    "ADMIN_HANDLE_INDEX",
    "ADMIN_PERMISSIONS",
    "AnswerFrame",
    "admin_value",
    "answer_document",
    "checkpoint_json",
    "data_text",
    "handle_answer",
    "iso_time",
    "native_value_json",
    "prefix_json",
    "provenance_json",
    "select_values",
    "site_value",
    "type_matches",
    "value_json",
]


def checkpoint_json(checkpoint: Checkpoint | None) -> dict[str, Any] | None:
    """The indexed block an answer was read at."""
    if checkpoint is None:
        return None
    return {
        "block_number": checkpoint.number,
        "block_hash": checkpoint.hash,
        "timestamp": iso_time(checkpoint.timestamp),
    }


def native_value_json(value: IndexedValue) -> dict[str, Any]:
    """One stored value for ``/v1``: Handle's shape plus ``permissions`` and the raw ``data_hex``."""
    document = value_json(value)
    document["permissions"] = value.permissions
    document["data_hex"] = value.data
    return document


def admin_value(prefix: PrefixRecord, ttl: int, timestamp: int) -> dict[str, Any]:
    """``HS_ADMIN`` at index 100, derived from the prefix's on-chain owner."""
    return {
        "index": HS_ADMIN_INDEX,
        "type": "HS_ADMIN",
        "data": {
            "format": "admin",
            "value": {
                "handle": f"0.NA/{prefix.prefix}",
                "index": ADMIN_HANDLE_INDEX,
                "permissions": ADMIN_PERMISSIONS,
                "owner": prefix.owner,
            },
        },
        "ttl": ttl,
        "timestamp": iso_time(timestamp),
        "provenance": provenance_json(prefix.provenance),
    }


def site_value(prefix: PrefixRecord, service: ServiceRecord, ttl: int, timestamp: int) -> dict[str, Any]:
    """``HS_SITE`` at index 101, derived from the prefix's service record."""
    return {
        "index": HS_SITE_INDEX,
        "type": "HS_SITE",
        "data": {
            "format": "site",
            "value": {
                "resolvers": list(service.resolvers),
                "chain_id": service.chain_id,
                "registry": service.registry,
            },
        },
        "ttl": ttl,
        "timestamp": iso_time(timestamp),
        "provenance": provenance_json(prefix.provenance),
    }


def type_matches(value_type: str, wanted: str) -> bool:
    """Handle's type filter: equal ignoring ASCII case, or ``wanted`` ends with ``.`` and
    ``value_type`` is that type or one of its period-delimited sub-types (``URL.`` matches
    ``URL``, ``URL.mirror``, not ``URLX``)."""
    value_type = value_type.upper()
    wanted = wanted.upper()
    if wanted.endswith("."):
        return value_type == wanted[:-1] or value_type.startswith(wanted)
    return value_type == wanted


def select_values(
    values: Iterable[dict[str, Any]], types: Sequence[str], indexes: Sequence[int]
) -> list[dict[str, Any]]:
    """The values a Handle query asks for: all without filters, else those matching any filter."""
    if not types and not indexes:
        return list(values)
    return [
        value
        for value in values
        if value["index"] in indexes or any(type_matches(value["type"], wanted) for wanted in types)
    ]


class AnswerFrame(NamedTuple):
    """What a handle's Handle answer takes besides its record: the prefix (for the derived
    ``HS_ADMIN``), the prefix's service record when it names this resolver (``HS_SITE``), the
    derived values' TTL, the time they carry when the handle has no value, the checkpoint
    (:func:`checkpoint_json`) and the query's filters."""

    prefix: PrefixRecord
    local_service: ServiceRecord | None
    ttl: int
    fallback_time: int
    checkpoint: dict[str, Any] | None
    types: Sequence[str] = ()
    indexes: Sequence[int] = ()
    # a NamedTuple, not a frozen dataclass: one is built per uncached resolution, ~1 µs less


def answer_document(
    text: str,
    values: list[dict[str, Any]],
    newest: int | None,
    provenance: dict[str, Any],
    created: dict[str, Any],
    frame: AnswerFrame,
) -> dict[str, Any]:
    """The Handle answer for a live handle asked for as ``text``: ``values`` are its publicly
    readable values (:func:`value_json`, in stored order) and ``newest`` the time of its newest
    value, readable or not (None: it has none). Adds the derived ``HS_ADMIN`` (always) and
    ``HS_SITE`` (when ``frame`` has a local service), which carry that time (or
    ``frame.fallback_time``) and the prefix record's last provenance; sorts by index (stable);
    keeps what the query selects; then the handle's provenance, creation and checkpoint."""
    stamp = frame.fallback_time if newest is None else newest
    values.append(admin_value(frame.prefix, frame.ttl, stamp))
    if frame.local_service is not None:
        values.append(site_value(frame.prefix, frame.local_service, frame.ttl, stamp))
    values.sort(key=_index_of)
    selected = select_values(values, frame.types, frame.indexes)
    return {
        "responseCode": RC_SUCCESS if selected else RC_VALUES_NOT_FOUND,
        "handle": text,
        "values": selected,
        "provenance": provenance,
        "created": created,
        "checkpoint": frame.checkpoint,
    }


def _index_of(value: dict[str, Any]) -> Any:
    return value["index"]


def handle_answer(record: HandleRecord, text: str, frame: AnswerFrame) -> dict[str, Any]:
    """The Handle answer for the live ``record`` asked for as ``text`` (:func:`answer_document`)."""
    return answer_document(
        text,
        [value_json(value) for value in record.values if value.permissions & PUBLIC_READ],
        max((value.timestamp for value in record.values), default=None),
        provenance_json(record.provenance),
        provenance_json(record.created),
        frame,
    )


def prefix_json(prefix: PrefixRecord, *, now: int) -> dict[str, Any]:
    """A prefix for ``/v1``: the record, with ``expired`` at the indexed block's time."""
    document = prefix.to_json()
    document["created"] = provenance_json(prefix.created)
    document["provenance"] = provenance_json(prefix.provenance)
    document["expired"] = prefix.effective_expiry != 0 and prefix.effective_expiry <= now
    return document
