"""Every index record survives to_bytes/from_bytes; anything else decodes to IndexCorruptError."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idfuse_node.exceptions import IndexCorruptError
from idfuse_node.indexer import records
from idfuse_node.indexer.records import (
    BatchRecordInfo,
    ChainBinding,
    Checkpoint,
    Counts,
    HandleRecord,
    HistoryEntry,
    IndexedValue,
    PrefixRecord,
    Provenance,
    ServiceRecord,
    TemplateField,
    TemplateRecord,
)

uints = st.integers(min_value=0, max_value=2**256 - 1)
small = st.integers(min_value=0, max_value=2**32)
texts = st.text(max_size=20)
hexes = st.binary(max_size=40).map(lambda raw: "0x" + raw.hex())
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)

provenances = st.builds(
    Provenance,
    small,
    hexes,
    small,
    hexes,
    hexes,
    small,
    st.none() | uints,
    st.none() | small,
)
values = st.builds(IndexedValue, small, texts, texts, hexes, small, small, small, provenances)
services = st.builds(ServiceRecord, st.lists(texts, max_size=3).map(tuple), small, hexes)
fields = st.builds(TemplateField, texts, texts, st.booleans(), small, small)
STRATEGIES = {
    Provenance: provenances,
    IndexedValue: values,
    HandleRecord: st.builds(
        HandleRecord,
        texts,
        texts,
        texts,
        hexes,
        hexes,
        hexes,
        st.lists(values, max_size=3).map(tuple),
        small,
        hexes,
        st.sampled_from(["single", "batch"]),
        st.booleans(),
        provenances,
        provenances,
    ),
    ServiceRecord: services,
    PrefixRecord: st.builds(
        PrefixRecord,
        texts,
        hexes,
        hexes,
        hexes,
        st.none() | hexes,
        texts,
        texts,
        st.none() | texts,
        small,
        small,
        st.lists(hexes, max_size=3).map(tuple),
        st.none() | services,
        hexes,
        provenances,
        provenances,
    ),
    TemplateField: fields,
    TemplateRecord: st.builds(
        TemplateRecord,
        hexes,
        hexes,
        texts,
        texts,
        small,
        st.lists(fields, max_size=3).map(tuple),
        provenances,
    ),
    BatchRecordInfo: st.builds(
        BatchRecordInfo,
        uints,
        hexes,
        texts,
        hexes,
        hexes,
        small,
        hexes,
        small,
        st.lists(texts, max_size=3).map(tuple),
        provenances,
    ),
    HistoryEntry: st.builds(
        HistoryEntry, texts, small, provenances, st.dictionaries(st.text(max_size=5), json_values, max_size=4)
    ),
    Checkpoint: st.builds(Checkpoint, small, hexes, small),
    ChainBinding: st.builds(ChainBinding, small, st.dictionaries(texts, hexes, max_size=3)),
    Counts: st.builds(Counts, small, small, small),
}


def test_every_record_has_a_strategy():
    exported = {getattr(records, name) for name in records.__all__} - {records.Record}
    assert exported == set(STRATEGIES)


@pytest.mark.parametrize("cls", list(STRATEGIES), ids=lambda cls: cls.__name__)
@given(data=st.data())
def test_round_trip(cls, data):
    record = data.draw(STRATEGIES[cls])
    raw = record.to_bytes()
    assert cls.from_bytes(raw) == record
    assert json.loads(raw) == record.to_json()
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
    member = data.draw(st.sampled_from(["created", "values", "deleted", "version"]))
    obj[member] = "wrong"
    with pytest.raises(IndexCorruptError, match="handle record"):
        HandleRecord.from_json(obj)
