"""Every index record survives to_bytes/from_bytes; anything else decodes to IndexCorruptError."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idfuse_node.exceptions import IndexCorruptError
from idfuse_node.indexer import records
from idfuse_node.indexer.records import (
    Checkpoint,
    Counts,
    HandleRecord,
    HistoryEntry,
    IndexedValue,
    Provenance,
)
from idfuse_node.jsonbytes import dumps
from tests.node.indexer.strategies import STRATEGIES


def test_every_record_has_a_strategy():
    exported = {getattr(records, name) for name in records.__all__} - {records.Record}
    assert exported == set(STRATEGIES)


@pytest.mark.parametrize("cls", list(STRATEGIES), ids=lambda cls: cls.__name__)
@given(data=st.data())
def test_round_trip(cls, data):
    record = data.draw(STRATEGIES[cls])
    raw = record.to_bytes()
    assert cls.from_bytes(raw) == record
    assert raw == dumps(json.loads(raw))  # compact JSON (a handle's answer part is stored apart)
    assert cls.from_json(record.to_json()) == record


def test_bytes_are_compact_json():
    assert Counts(1, 2, 3).to_bytes() == b'{"prefixes":1,"identifiers":2,"batches":3}'
    assert Checkpoint(5, "0xab", 7).to_json() == {"number": 5, "hash": "0xab", "timestamp": 7}


@pytest.mark.parametrize("cls", list(STRATEGIES), ids=lambda cls: cls.__name__)
@given(raw=st.binary(max_size=60))
def test_random_bytes_are_refused_with_a_typed_error(cls, raw):
    with pytest.raises(IndexCorruptError):
        cls.from_bytes(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\xff\xfe",
        b"[1,2]",
        b"null",
        b'{"prefixes":1,"identifiers":2}',
        b'{"prefixes":1,"identifiers":2,"batches":"3"}',
        b'{"prefixes":1,"identifiers":2,"batches":true}',
        b'{"prefixes":1,"identifiers":2,"batches":3',
        b"[[[1]]]",
    ],
)
def test_malformed_counts_are_refused(raw):
    with pytest.raises(IndexCorruptError):
        Counts.from_bytes(raw)


@given(record=STRATEGIES[HandleRecord], data=st.data())
def test_a_nested_member_of_the_wrong_type_is_refused(record, data):
    obj = record.to_json()
    member = data.draw(st.sampled_from(["created", "values", "deleted", "version", "event", "timestamp"]))
    obj[member] = "wrong"
    with pytest.raises(IndexCorruptError, match="handle record"):
        HandleRecord.from_json(obj)


def _provenance(block: int, batch_id: int | None = None) -> Provenance:
    return Provenance(
        31337,
        "0x" + "ab" * 20,
        block,
        "0x" + "11" * 32,
        "0x" + "22" * 32,
        0,
        batch_id,
        0 if batch_id else None,
    )


def _handle(values: tuple[IndexedValue, ...], created: Provenance, last: Provenance) -> HandleRecord:
    return HandleRecord(
        "88.1/a", "88.1", "a", "0x" + "33" * 32, "0x" + "44" * 32, "0x" + "00" * 32,
        values, 2, "0x" + "55" * 32, "single", False, created, last, "IdentifierUpdated", 300,
    )  # fmt: skip


def test_a_handle_record_stores_each_provenance_once():
    first, second = _provenance(7), _provenance(9, batch_id=3)
    values = tuple(IndexedValue(i, "URL", "string", "0x61", 86400, 14, 100, first) for i in (1, 2))
    record = _handle(
        (*values, IndexedValue(3, "EMAIL", "string", "0x62", 60, 14, 200, second)), first, second
    )
    stored = json.loads(record.to_bytes())
    assert stored["provenances"] == [first.packed(), second.packed()]
    assert [len(row) for row in stored["provenances"]] == [6, 8]  # batch members only when set
    assert [value[7] for value in stored["values"]] == [0, 0, 1]
    assert (stored["created"], stored["provenance"]) == (0, 1)
    assert HandleRecord.from_bytes(record.to_bytes()) == record
    assert len(record.to_bytes()) < len(dumps(record.to_json())) / 2


@pytest.mark.parametrize("ref", [-1, 2, True, "0", None, 1.0])
def test_a_provenance_reference_outside_the_table_is_refused(ref):
    record = _handle((), _provenance(7), _provenance(8))
    stored = json.loads(record.to_bytes())
    stored["created"] = ref
    with pytest.raises(IndexCorruptError, match="handle record"):
        HandleRecord.from_bytes(dumps(stored))


@pytest.mark.parametrize("row", [[], [1, "0x", 2, "0x", "0x"], [1, "0x", 2, "0x", "0x", 0, None], "x"])
def test_a_malformed_packed_provenance_is_refused(row):
    stored = json.loads(_handle((), _provenance(7), _provenance(7)).to_bytes())
    stored["provenances"] = [row]
    with pytest.raises(IndexCorruptError, match="handle record"):
        HandleRecord.from_bytes(dumps(stored))


def test_numbers_past_64_bits_are_read_exactly():
    big = 2**200 + 1  # orjson would read it as a float; the exact reader takes over
    record = _handle((), _provenance(7, batch_id=big), _provenance(7, batch_id=big))
    assert HandleRecord.from_bytes(record.to_bytes()).created.batch_id == big
    entry = HistoryEntry("BatchRecord", 5, _provenance(7), {"batch_id": big, "nested": [big]})
    assert HistoryEntry.from_bytes(entry.to_bytes()).detail == {"batch_id": big, "nested": [big]}
