"""Hypothesis strategies for the index's records (:mod:`idfuse_node.indexer.records`): one per
record class in :data:`STRATEGIES`, shared by the record tests and the resolver's."""

from hypothesis import strategies as st

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
        st.sampled_from(sorted(records.HANDLE_EVENTS)),
        small,
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
