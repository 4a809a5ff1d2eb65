"""The index's rules, against a real ledger over JSON-RPC: every event kind, applied by the real
Indexer into the memory and the LevelDB store (final blocks grouped, and block by block with
undo logs), giving identical indexes."""

import time

import pytest

from idfuse_node.indexer import events as ev
from idfuse_node.indexer import schema
from idfuse_node.indexer.apply import event_detail
from idfuse_node.indexer.reader import IndexReader
from idfuse_node.indexer.records import HandleRecord, HistoryEntry
from idfuse_node.indexer.store import LevelDBIndexStore, MemoryIndexStore
from idfuse_node.indexer.writer import rollback_to
from idfuse_sdk.encoding import (
    BatchRecord,
    HandleValue,
    TemplateField,
    commitment,
    decode_values,
    encode_values,
    template_id,
)
from idfuse_sdk.identifiers import handle_key
from tests.node.indexer.chainfixture import OTHER, OWNER, running_chain
from tests.node.indexer.indexing import chain_binding, dump, index_chain

V1 = HandleValue(index=1, type="URL", data=b"https://example.org/a")
V2 = HandleValue(index=2, type="EMAIL", data=b"a@example.org")
V2B = HandleValue(index=2, type="EMAIL", data=b"b@example.org")
V3 = HandleValue(index=3, type="DESC", data=b"three")
EXPIRY = int(time.time()) + 10**7


def _status(chain, node, status):
    chain.prefix_call(OWNER, "setStatus(bytes32,uint8)", ["bytes32", "uint8"], [node, status])


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """One chain with every rule exercised; yields (chain, nodes)."""
    with running_chain(tmp_path_factory.mktemp("chain")) as chain:
        top = chain.allocate("88")
        a = chain.register_child("88", "a")
        b = chain.register_child("88.a", "B")
        chain.prefix_call(OWNER, "renew(bytes32,uint64)", ["bytes32", "uint64"], [a, EXPIRY])
        chain.register_template(top, "person", 1, (TemplateField("URL", required=True),))
        chain.create(top, "x", [V1, V2])
        chain.update(top, "x", [V1, V2], [V2B, V3])
        chain.create(top, "y", [V1])
        chain.delete(top, "y")
        chain.register_batch(
            top,
            [BatchRecord("b1", (V1,)), BatchRecord("b2", (V2,)), BatchRecord("x", ()), BatchRecord("y", ())],
        )
        chain.create(top, "b1", [V3])  # pins the batch-registered handle
        _status(chain, b, 2)  # 88.a.B suspended
        _status(chain, a, 2)  # 88.a suspended: the subtree's effective status comes from it
        suspended_at = chain.ledger.head().block_number
        chain.prefix_call(
            OWNER,
            "setOperator(bytes32,address,bool)",
            ["bytes32", "address", "bool"],
            [top, OTHER.address, True],
        )
        chain.prefix_call(
            OWNER, "transferOwnership(bytes32,address)", ["bytes32", "address"], [top, OTHER.address]
        )
        chain.prefix_call(OTHER, "acceptOwnership(bytes32)", ["bytes32"], [top])
        _status_other = chain.prefix_call  # the new owner of 88 sets its child's status
        _status_other(OTHER, "setStatus(bytes32,uint8)", ["bytes32", "uint8"], [a, 1])
        yield chain, {"top": top, "a": a, "b": b, "suspended_at": suspended_at}


@pytest.fixture(scope="module")
def indexes(scenario, tmp_path_factory):
    chain, _ = scenario
    binding = chain_binding(chain)
    grouped = MemoryIndexStore()
    index_chain(chain.url, grouped, binding, finality_depth=0)
    with LevelDBIndexStore(tmp_path_factory.mktemp("index") / "index") as leveldb:
        index_chain(
            chain.url, leveldb, binding, finality_depth=10**6, use_finalized_tag=False
        )  # every block with an undo log
        yield grouped, leveldb


def test_memory_and_leveldb_grouped_and_per_block_are_identical(indexes):
    grouped, per_block = indexes
    assert dump(grouped) == dump(per_block)
    assert list(per_block.iterate(schema.UNDO_PREFIX))  # the per-block run kept undo logs
    assert not list(grouped.iterate(schema.UNDO_PREFIX))


def test_prefix_tree_and_effective_status(indexes, scenario):
    reader = IndexReader(indexes[0])
    _, nodes = scenario
    top, a, b = (reader.prefix(nodes[n]) for n in ("top", "a", "b"))
    assert (top.prefix, a.prefix, b.prefix) == ("88", "88.a", "88.a.B")
    assert a.status == "active"
    assert a.effective_status == "active"
    assert a.effective_from is None
    assert b.status == "suspended"
    assert b.effective_status == "suspended"
    assert b.effective_from == "88.a.B"
    assert a.expiry == EXPIRY
    assert a.effective_expiry == EXPIRY
    assert b.expiry == 0
    assert b.effective_expiry == EXPIRY
    assert reader.prefix_by_name("88.A.b") == b
    assert [p.prefix for p in reader.children(nodes["a"], limit=10)] == ["88.a.B"]
    # While 88.a was suspended, its suspended child's status came from it: the history shows
    # both changes of 88.a; the record of 88.a.B holds the final state.
    events = [entry.event for entry in reader.prefix_history(nodes["a"], limit=20)]
    assert events == [
        "PrefixRegistered",
        "PrefixRenewed",
        "PrefixStatusChanged",
        "PrefixStatusChanged",
    ]


def test_transfer_moves_owner_and_clears_operators(indexes, scenario):
    reader = IndexReader(indexes[0])
    _, nodes = scenario
    top = reader.prefix(nodes["top"])
    assert top.owner == OTHER.address
    assert top.pending_owner is None
    assert top.operators == ()
    assert [p.prefix for p in reader.owner_prefixes(OTHER.address, limit=10)] == ["88"]
    assert sorted(p.prefix for p in reader.owner_prefixes(OWNER.address, limit=10)) == ["88.a", "88.a.B"]
    history = reader.prefix_history(nodes["top"], limit=50)
    assert [entry.event for entry in history] == [
        "PrefixRegistered",
        "TemplateRegistered",
        "BatchRegistered",
        "PrefixOperatorChanged",
        "PrefixTransferStarted",
        "PrefixOwnershipTransferred",
    ]
    assert history[-2].detail["pending_owner"] == OTHER.address
    assert top.provenance == history[-1].provenance
    assert top.created == history[0].provenance


def test_update_keeps_unchanged_values_provenance(indexes, scenario):
    reader = IndexReader(indexes[0])
    _, nodes = scenario
    x = reader.handle_by_name("88/x")
    assert x.source == "single"
    assert not x.deleted
    assert [v.index for v in x.values] == [1, 2, 3]
    history = reader.handle_history(handle_key(nodes["top"], "x"), limit=10)
    assert [e.event for e in history] == ["IdentifierCreated", "IdentifierUpdated"]
    created, updated = (e.provenance for e in history)
    assert x.values[0].provenance == created
    assert x.values[0].data == "0x" + V1.data.hex()
    assert x.values[1].provenance == updated
    assert x.values[1].data == "0x" + V2B.data.hex()
    assert x.values[2].provenance == updated
    assert x.created == created
    assert x.provenance == updated
    assert x.version == 2


def test_identifier_history_details_are_the_events_arguments(indexes, scenario):
    """The applier writes created/updated details by hand (the hot path); they are what the
    generic ``event_detail`` makes of the same events."""
    reader = IndexReader(indexes[0])
    _, nodes = scenario
    key = handle_key(nodes["top"], "x")
    created, updated = reader.handle_history(key, limit=10)
    position = ev.LogPosition("0x" + "00" * 20, 0, bytes(32), bytes(32), 0, 0)
    for entry, cls, values, version in (
        (created, ev.IdentifierCreated, (V1, V2), 1),
        (updated, ev.IdentifierUpdated, (V1, V2B, V3), 2),
    ):
        encoding = encode_values(values)
        event = cls(
            position,
            handle_key=key,
            prefix_node=nodes["top"],
            suffix="x",
            template=bytes(32),
            values=tuple(decode_values(encoding)),
            values_encoding=encoding,
            version=version,
            commitment=commitment(bytes(32), encoding),
        )
        assert entry.detail == event_detail(event)


def test_delete_keeps_a_tombstone_record(indexes, scenario):
    reader = IndexReader(indexes[0])
    _, nodes = scenario
    y = reader.handle_by_name("88/y")
    assert y.deleted
    assert y.values == ()
    events = [e.event for e in reader.handle_history(handle_key(nodes["top"], "y"), limit=10)]
    assert events == ["IdentifierCreated", "IdentifierDeleted"]
    assert "y" not in [h.suffix for h in reader.handles_under(nodes["top"], limit=100)]


def test_a_handles_last_change_lives_in_its_record_alone(indexes, scenario):
    """Layout 3: the store holds a history entry only for a change a later one superseded;
    the last comes from the record, and reads as the stored entries did (the event's
    arguments, the block's time)."""
    store = indexes[0]
    reader = IndexReader(store)
    _, nodes = scenario
    # x: created, updated; y: created, deleted; b1: batch record, then created; b2: batch record
    for suffix, events in (
        ("x", ["IdentifierCreated", "IdentifierUpdated"]),
        ("y", ["IdentifierCreated", "IdentifierDeleted"]),
        ("b1", ["BatchRecord", "IdentifierCreated"]),
        ("b2", ["BatchRecord"]),
    ):
        key = handle_key(nodes["top"], suffix)
        history = reader.handle_history(key, limit=10)
        assert [entry.event for entry in history] == events
        stored = [HistoryEntry.from_bytes(raw) for _, raw in store.iterate(schema.hhist_prefix(key))]
        assert stored == history[:-1]
        record = reader.handle(key)
        assert history[-1] == record.history_entry()
        assert (record.event, record.timestamp) == (events[-1], history[-1].timestamp)
        for entry in history:
            block = store.get(schema.block_key(entry.provenance.block_number))
            assert block is not None  # every change is at an indexed block
    y_key = handle_key(nodes["top"], "y")
    deleted = reader.handle_history(y_key, limit=10)[-1]
    position = ev.LogPosition("0x" + "00" * 20, 0, bytes(32), bytes(32), 0, 0)
    assert deleted.detail == event_detail(
        ev.IdentifierDeleted(position, y_key, nodes["top"], "y", reader.handle(y_key).version)
    )
    b2 = reader.handle_by_name("88/b2")
    assert reader.handle_history(handle_key(nodes["top"], "b2"), limit=10)[0].detail == {
        "batch_id": b2.provenance.batch_id,
        "record_index": b2.provenance.record_index,
        "commitment": b2.commitment,
    }


def test_batch_duplicates_and_a_later_single_write_pins(indexes, scenario):
    reader = IndexReader(indexes[0])
    _, nodes = scenario
    (batch_id,) = [schema.parse_batch_record_key(k) for k, _ in indexes[0].iterate(schema.BATCH_PREFIX)]
    batch = reader.batch(batch_id)
    assert batch.count == 4
    assert batch.accepted == 2
    assert sorted(batch.duplicates) == ["x", "y"]
    b2 = reader.handle_by_name("88/b2")
    assert b2.source == "batch"
    assert b2.provenance.batch_id == batch_id
    assert b2.provenance.log_index == batch.provenance.log_index
    assert reader.batch_proof(batch_id, b2.provenance.record_index) is not None
    b1 = reader.handle_by_name("88/b1")
    assert b1.source == "single"
    assert [v.index for v in b1.values] == [3]
    assert b1.created.batch_id == batch_id  # created by the batch, pinned by the single write
    assert [e.event for e in reader.handle_history(handle_key(nodes["top"], "b1"), limit=10)] == [
        "BatchRecord",
        "IdentifierCreated",
    ]
    assert reader.handle_by_name("88/x").source == "single"  # the duplicate changed nothing


def test_templates_and_counts(indexes, scenario):
    reader = IndexReader(indexes[0])
    _, nodes = scenario
    (template,) = reader.templates_of(nodes["top"])
    assert template.template_id == "0x" + template_id(nodes["top"], "person", 1).hex()
    assert template.prefix == "88"
    assert template.fields[0].value_type == "URL"
    assert template.fields[0].required
    counts = reader.counts()
    assert (counts.prefixes, counts.identifiers, counts.batches) == (3, 3, 1)
    assert reader.handle_count(nodes["top"]) == 3
    assert sorted(h.suffix for h in reader.handles_under(nodes["top"], limit=100)) == ["b1", "b2", "x"]
    assert all(isinstance(h, HandleRecord) for h in reader.handles_under(nodes["top"], limit=100))


def test_a_suspended_ancestor_sets_its_subtree_effective_status(scenario):
    """The index as it was while 88.a was suspended (undo logs roll a per-block index back)."""
    chain, nodes = scenario
    store = MemoryIndexStore()
    index_chain(chain.url, store, chain_binding(chain), finality_depth=10**6, use_finalized_tag=False)
    rollback_to(store, nodes["suspended_at"])
    reader = IndexReader(store)
    a, b = reader.prefix(nodes["a"]), reader.prefix(nodes["b"])
    assert (a.status, a.effective_status, a.effective_from) == ("suspended", "suspended", "88.a")
    assert (b.status, b.effective_status, b.effective_from) == ("suspended", "suspended", "88.a")
    assert reader.prefix(nodes["top"]).effective_status == "active"
