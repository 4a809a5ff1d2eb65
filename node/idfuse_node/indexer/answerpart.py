"""A live handle's Handle answer, kept rendered in the index (layouts 5 and 6).

An unfiltered ``GET /api/handles/{handle}`` answers with the handle's publicly readable values
(sorted by index), the derived ``HS_ADMIN`` and ``HS_SITE`` values, the handle's provenance and
creation, and the checkpoint. Everything but the derived values, the handle as asked and the
checkpoint depends on the record alone, so the index keeps it rendered: the resolver then
answers by joining bytes, with no JSON read or written, at the same cost whatever the
index's size (docs/index.md, "Stored forms"; docs/benchmarks.md, "Scale").

The *answer part* is stored under its own key (:func:`~idfuse_node.indexer.schema.answer_key`,
layout 6; layout 5 kept it after the record's JSON), apart from the record, so that what an
unfiltered resolution reads is a third of the index's bytes. It is written with the record
(:meth:`~idfuse_node.indexer.writer.BlockWriter.put_handle`), and there is none while the
handle is deleted. Its fields are separated by newlines (compact JSON never holds a raw
newline, nor any byte below 0x20):

0. the time of the handle's newest value, readable or not (decimal; empty: it has none), which
   the derived values carry;
1. its readable values with index ≤ 100 (``HS_ADMIN``'s), in stable index order, each as
   :func:`~idfuse_node.handlejson.value_json` writes it, comma-separated;
2. those with index 101 (``HS_SITE``'s);
3. those above 101;
4. ``"provenance":P,"created":C``;
5. onwards: each distinct provenance, rendered (:func:`~idfuse_node.handlejson.provenance_json`).

Where a provenance belongs, fields 1 to 4 hold a *mark*, byte 0x01 then ``0x30 + k`` for the
k-th provenance of field 5 onwards: a value's provenance is written once however many values
share it. The derived values go between fields 1 and 2 (``HS_ADMIN``) and 2 and 3
(``HS_SITE``): where a stable sort of the readable values followed by the derived ones puts
them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, NamedTuple

from idfuse_node.exceptions import IndexCorruptError
from idfuse_node.handlejson import provenance_json, value_json
from idfuse_node.jsonbytes import dumps
from idfuse_sdk.types import HS_ADMIN_INDEX, HS_SITE_INDEX, PUBLIC_READ

if TYPE_CHECKING:
    from idfuse_node.indexer.records import HandleRecord, IndexedValue, Provenance

__all__ = ["MAX_PROVENANCES", "SEPARATOR", "AnswerPart", "build", "parse", "resolve_marks"]

SEPARATOR: Final = b"\n"
MARK: Final = 0x01
MAX_PROVENANCES: Final = 0x100 - 0x30
"""Most distinct provenances a kept answer refers to (a record with more is rendered per request)."""
_MARKS: Final = tuple(bytes((MARK, 0x30 + k)) for k in range(MAX_PROVENANCES))
_FIELDS: Final = 5


class AnswerPart(NamedTuple):
    """The fields of a stored answer part (see the module's docstring)."""

    newest: int | None
    low: bytes
    site_gap: bytes
    high: bytes
    tail: bytes
    provenances: list[bytes]


_PLACEHOLDERS: Final = tuple(b'"provenance":%d}' % k for k in range(MAX_PROVENANCES))
_MARKED: Final = tuple(b'"provenance":' + mark + b"}" for mark in _MARKS)


def _marked(values: list[dict[str, Any]], marks: int) -> bytes:
    """``values`` as comma-separated JSON, each provenance position replaced by its mark. A
    ``"provenance":k}`` can only be such a member: in a string, JSON escapes its quotes."""
    if not values:
        return b""
    text = dumps(values)[1:-1]
    for position in range(marks):
        text = text.replace(_PLACEHOLDERS[position], _MARKED[position])
    return text


def _position(known: list[Provenance], provenance: Provenance) -> int:
    """``provenance``'s position in ``known``, appended when new (by identity first: the
    applier hands one object to a record's values and its provenance)."""
    for position, seen in enumerate(known):
        if seen is provenance:
            return position
    for position, seen in enumerate(known):
        if seen == provenance:
            return position
    known.append(provenance)
    return len(known) - 1


def build(record: HandleRecord) -> bytes | None:
    """The answer part of ``record``: None when it is deleted, or refers to more than
    :data:`MAX_PROVENANCES` provenances, or holds data its format cannot show (the resolver
    then renders it per request, or refuses it, as before)."""
    if record.deleted:
        return None
    known: list[Provenance] = []
    low: list[dict[str, Any]] = []
    gap: list[dict[str, Any]] = []
    high: list[dict[str, Any]] = []
    newest: int | None = None
    try:
        for value in sorted(record.values, key=_index_of):
            if newest is None or value.timestamp > newest:
                newest = value.timestamp
            if value.permissions & PUBLIC_READ:
                index = value.index
                group = low if index <= HS_ADMIN_INDEX else gap if index == HS_SITE_INDEX else high
                group.append(value_json(value, _position(known, value.provenance)))
    except IndexCorruptError:
        return None
    provenance, created = _position(known, record.provenance), _position(known, record.created)
    marks = len(known)
    if marks > MAX_PROVENANCES:
        return None
    return SEPARATOR.join(
        [
            b"" if newest is None else str(newest).encode("ascii"),
            _marked(low, marks),
            _marked(gap, marks),
            _marked(high, marks),
            b'"provenance":' + _MARKS[provenance] + b',"created":' + _MARKS[created],
            *[dumps(provenance_json(seen)) for seen in known],
        ]
    )


def _index_of(value: IndexedValue) -> int:
    return value.index


def parse(stored: bytes) -> AnswerPart | None:
    """The fields of a stored answer part; None when they are not as :func:`build` writes
    them (the resolver then takes the strict path)."""
    fields = stored.split(SEPARATOR)
    if len(fields) <= _FIELDS:
        return None
    newest, low, gap, high, tail = fields[:_FIELDS]
    if newest and not newest.isdigit():
        return None
    return AnswerPart(int(newest) if newest else None, low, gap, high, tail, fields[_FIELDS:])


def resolve_marks(body: bytes, provenances: list[bytes]) -> bytes | None:
    """``body`` with each mark replaced by its provenance; None when a mark is left over (the
    part refers to a provenance it does not hold) or there are more provenances than marks."""
    if len(provenances) > MAX_PROVENANCES:
        return None
    for mark, provenance in zip(_MARKS, provenances, strict=False):
        body = body.replace(mark, provenance)
    return None if MARK in body else body
