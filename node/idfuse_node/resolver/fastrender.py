"""A live handle's Handle answer rendered straight from its stored record.

A resolution the answer cache cannot serve (the first for a handle at a block, or any under
load spread over more handles than the cache holds) used to decode the stored record into a
:class:`~idfuse_node.indexer.records.HandleRecord` (a dataclass per record, value and
provenance, each member checked), build the answer from those, and encode it: about
27 µs of the 33 µs an uncached resolution took in one process. Here the stored
form (:meth:`HandleRecord._stored`: values as arrays, each distinct provenance once) is read
with orjson and the answer's dicts are built from it directly, each provenance rendered once.

Every member is checked as :meth:`HandleRecord.from_bytes` checks it, so this renders exactly
the records that path accepts, and the same bytes (a hypothesis test holds the two equal).
Anything else, a deleted handle included, gives None: the caller then takes the strict path,
which answers 404 or raises :class:`~idfuse_node.exceptions.IndexCorruptError` with its own
message. Nothing here reads the index.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from idfuse_node.exceptions import IndexCorruptError
from idfuse_node.indexer.answerpart import AnswerPart, resolve_marks
from idfuse_node.indexer.records import HANDLE_EVENTS
from idfuse_node.jsonbytes import dumps
from idfuse_node.resolver import render
from idfuse_node.resolver.codes import RC_SUCCESS
from idfuse_node.resolver.render import AnswerFrame
from idfuse_sdk.types import PUBLIC_READ

__all__ = ["ANSWER_HEAD", "joined_answer", "stored_answer"]

ANSWER_HEAD: Final = b'{"responseCode":' + str(RC_SUCCESS).encode("ascii") + b',"handle":'
"""How an unfiltered answer begins (it holds ``HS_ADMIN`` at least: Handle code 1)."""

_STRINGS: Final = (
    "handle",
    "prefix",
    "suffix",
    "handle_key",
    "prefix_node",
    "template",
    "commitment",
    "source",
)
"""The record's string members: not in the answer, but checked as the strict reader checks them."""
_ERRORS: Final = (KeyError, TypeError, ValueError, IndexError, orjson.JSONDecodeError, IndexCorruptError)


class _Refused(Exception):  # noqa: N818  # internal signal: hand the record to the strict path
    pass


_VALUE_TYPES: Final = (int, str, str, str, int, int, int, int)
"""The member types of a packed value (``IndexedValue.unpacked``), its provenance position last."""


def _provenance(row: Any) -> dict[str, Any]:
    """A packed provenance as :func:`render.provenance_json` writes it."""
    if type(row) is not list or len(row) not in (6, 8):
        raise _Refused
    chain_id, registry, number, block_hash, tx_hash, log_index, *batch = row
    if (
        type(chain_id) is not int
        or type(registry) is not str
        or type(number) is not int
        or type(block_hash) is not str
        or type(tx_hash) is not str
        or type(log_index) is not int
    ):
        raise _Refused
    document = {
        "chain_id": chain_id,
        "registry": registry,
        "block_number": number,
        "block_hash": block_hash,
        "tx_hash": tx_hash,
        "log_index": log_index,
    }
    if batch:
        batch_id, record_index = batch
        if (batch_id is not None and type(batch_id) is not int) or (
            record_index is not None and type(record_index) is not int
        ):
            raise _Refused
        if batch_id is not None:
            document["batch_id"] = batch_id
            document["record_index"] = record_index
    return document


def _ref(position: Any, table: list[dict[str, Any]]) -> dict[str, Any]:
    if type(position) is not int or not 0 <= position < len(table):
        raise _Refused
    return table[position]


def stored_answer(stored: bytes, text: str, frame: AnswerFrame) -> bytes | None:
    """The JSON body of ``GET /api/handles/{text}`` for the handle whose record is ``stored``.

    The same bytes as decoding the record (:meth:`HandleRecord.from_bytes`) and encoding what
    :func:`render.handle_answer` makes of it.

    :return: The body; None when the record is deleted or not exactly what the index writes.
    """
    try:
        record = orjson.loads(stored)
        if type(record) is not dict:
            return None
        for name in _STRINGS:
            if type(record[name]) is not str:
                return None
        event = record["event"]
        if (
            record["deleted"] is not False
            or type(record["version"]) is not int
            or type(record["timestamp"]) is not int
            or type(event) is not str
            or event not in HANDLE_EVENTS
        ):
            return None
        rows = record["provenances"]
        if type(rows) is not list:
            return None
        table = [_provenance(row) for row in rows]
        created = _ref(record["created"], table)
        provenance = _ref(record["provenance"], table)
        stored_values = record["values"]
        if type(stored_values) is not list:
            return None
        values: list[dict[str, Any]] = []
        newest = None
        for row in stored_values:
            if type(row) is not list or len(row) != 8 or tuple(map(type, row)) != _VALUE_TYPES:
                return None
            index, kind, fmt, data, ttl, permissions, timestamp, position = row
            value_provenance = _ref(position, table)
            if newest is None or timestamp > newest:
                newest = timestamp
            if permissions & PUBLIC_READ:
                values.append(
                    {
                        "index": index,
                        "type": kind,
                        "data": {"format": fmt, "value": render.data_text(fmt, data)},
                        "ttl": ttl,
                        "timestamp": render.iso_time(timestamp),
                        "provenance": value_provenance,
                    }
                )
    except (_Refused, *_ERRORS):
        return None
    return dumps(render.answer_document(text, values, newest, provenance, created, frame))


def joined_answer(part: AnswerPart, text: str, admin: bytes, site: bytes, checkpoint: bytes) -> bytes | None:
    """The JSON body of the unfiltered ``GET /api/handles/{text}``, joined from the answer part
    the index keeps for a live handle (:mod:`~idfuse_node.indexer.answerpart`): the
    same bytes as :func:`stored_answer` renders.

    :param admin: ``HS_ADMIN`` as JSON (:func:`render.admin_value`), carrying the part's newest
        time (or, without values, the frame's fallback time).
    :param site: ``HS_SITE`` as JSON, or empty when the prefix has no local service.
    :param checkpoint: the checkpoint as JSON (``null`` without one).
    :return: The body; None when the part refers to a provenance it does not hold.
    """
    values = b",".join([piece for piece in (part.low, admin, part.site_gap, site, part.high) if piece])
    head = (ANSWER_HEAD, dumps(text), b',"values":[', values, b"],")
    body = b"".join((*head, part.tail, b',"checkpoint":', checkpoint, b"}"))
    return resolve_marks(body, part.provenances)
