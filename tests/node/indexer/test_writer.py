"""BlockWriter: one write per block, undo logs that restore the store exactly, pruning, counters."""

import pytest

from idfuse_node.exceptions import (
    BlockWriterClosedError,
    IndexConsistencyError,
    IndexCorruptError,
)
from idfuse_node.indexer import schema
from idfuse_node.indexer.records import Checkpoint, Counts
from idfuse_node.indexer.store import LevelDBIndexStore, MemoryIndexStore
from idfuse_node.indexer.writer import BlockWriter, prune_undo, rollback_to
from tests.node.indexer.test_reader import handle_record


@pytest.fixture(params=["memory", "leveldb"])
def store(request, tmp_path):
    if request.param == "memory":
        yield MemoryIndexStore()
    else:
        with LevelDBIndexStore(tmp_path / "index") as leveldb:
            yield leveldb


def block_hash(number):
    return number.to_bytes(32, "big") if number >= 0 else bytes(32)


def writer(store, number):
    return BlockWriter(store, number, block_hash(number), block_hash(number - 1), 1_000 + number)


def dump(store):
    return list(store.iterate(b""))


def without_undo(entries):
    return [(key, value) for key, value in entries if not key.startswith(schema.UNDO_PREFIX)]


COUNTER = schema.hcount_key(b"\x01" * 32)


def apply_block(store, number):
    """Three blocks of overlapping changes: puts, overwrites, deletes, counters."""
    w = writer(store, number)
    if number == 1:
        w.put(b"app:a", b"a1")
        w.put(b"app:b", b"b1")
        w.add_to_counter(COUNTER, 2)
        w.add_to_counts(prefixes=1, identifiers=2)
    elif number == 2:
        w.put(b"app:a", b"a2")
        w.delete(b"app:b")
        w.put(b"app:c", b"c2")
        w.put(b"app:c", b"c2bis")
        w.add_to_counter(COUNTER, 5)
        w.add_to_counts(identifiers=5, batches=1)
    else:
        w.delete(b"app:a")
        w.put(b"app:b", b"b3")
        w.delete(b"app:never")
        w.add_to_counter(COUNTER, -7)
        w.add_to_counts(identifiers=-7)
    return w.commit()


def test_rollback_restores_exactly_the_store_after_the_target_block(store):
    apply_block(store, 1)
    after_one = dump(store)
    apply_block(store, 2)
    apply_block(store, 3)
    assert store.get(b"app:b") == b"b3"
    checkpoint = rollback_to(store, 1)
    assert checkpoint == Checkpoint(1, "0x" + block_hash(1).hex(), 1_001)
    assert dump(store) == after_one


def test_rollback_to_before_the_first_block_empties_the_index(store):
    apply_block(store, 1)
    apply_block(store, 2)
    assert rollback_to(store, 0) is None
    assert dump(store) == []


def test_rollback_then_reapply_gives_the_same_store(store):
    for number in (1, 2, 3):
        apply_block(store, number)
    full = without_undo(dump(store))
    rollback_to(store, 1)
    apply_block(store, 2)
    apply_block(store, 3)
    assert without_undo(dump(store)) == full


def test_counters_roll_back(store):
    apply_block(store, 1)
    apply_block(store, 2)
    assert int.from_bytes(store.get(COUNTER), "big") == 7
    assert Counts.from_bytes(store.get(schema.COUNTS_KEY)) == Counts(1, 7, 1)
    rollback_to(store, 1)
    assert int.from_bytes(store.get(COUNTER), "big") == 2
    assert Counts.from_bytes(store.get(schema.COUNTS_KEY)) == Counts(1, 2, 0)


def test_rollback_at_or_above_the_checkpoint_does_nothing(store):
    apply_block(store, 1)
    before = dump(store)
    assert rollback_to(store, 1).number == 1
    assert rollback_to(store, 5).number == 1
    assert dump(store) == before


def test_rollback_past_a_pruned_block_is_refused_and_writes_nothing(store):
    for number in (1, 2, 3):
        apply_block(store, number)
    assert prune_undo(store, 3) == 2
    assert store.get(schema.undo_key(3)) is not None
    before = dump(store)
    with pytest.raises(IndexConsistencyError, match="undo log of block 2 was pruned"):
        rollback_to(store, 1)
    assert dump(store) == before
    rollback_to(store, 2)  # block 3 still has its undo log
    assert store.get(b"app:b") is None
    assert store.get(b"app:a") == b"a2"


def test_commit_is_one_write_with_effects_checkpoint_block_and_undo(store):
    writes = []
    real_write = store.write

    def spy(puts, deletes):
        writes.append((dict(puts), list(deletes)))
        real_write(puts, deletes)

    store.write = spy
    w = writer(store, 4)
    w.put(b"app:x", b"1")
    assert store.get(b"app:x") is None  # nothing before commit
    assert w.get(b"app:x") == b"1"  # the writer reads its own pending writes
    w.commit()
    assert len(writes) == 1
    puts, deletes = writes[0]
    assert set(puts) == {b"app:x", schema.CHECKPOINT_KEY, schema.block_key(4), schema.undo_key(4)}
    assert deletes == []
    assert puts[schema.block_key(4)] == block_hash(4)
    assert Checkpoint.from_bytes(puts[schema.CHECKPOINT_KEY]) == Checkpoint(
        4, "0x" + block_hash(4).hex(), 1_004
    )


def test_a_committed_writer_refuses_further_use(store):
    w = writer(store, 1)
    w.commit()
    with pytest.raises(BlockWriterClosedError):
        w.put(b"k", b"v")
    with pytest.raises(BlockWriterClosedError):
        w.commit()


def test_commit_refuses_a_block_that_does_not_follow_the_index(store):
    apply_block(store, 1)
    with pytest.raises(IndexConsistencyError, match="already holds block 1"):
        writer(store, 1).commit()
    wrong_parent = BlockWriter(store, 2, block_hash(2), b"\x99" * 32, 5)
    with pytest.raises(IndexConsistencyError, match="parent hash"):
        wrong_parent.commit()
    assert store.get(schema.block_key(2)) is None


def test_counters_refuse_to_go_negative_and_detect_corruption(store):
    w = writer(store, 1)
    with pytest.raises(IndexConsistencyError):
        w.add_to_counter(COUNTER, -1)
    with pytest.raises(IndexConsistencyError):
        w.add_to_counts(batches=-1)
    w.put(COUNTER, b"\x01")
    with pytest.raises(IndexCorruptError):
        w.add_to_counter(COUNTER, 1)


def test_a_malformed_undo_log_is_a_corrupt_index(store):
    apply_block(store, 1)
    store.write({schema.undo_key(1): b"{not json"}, [])
    with pytest.raises(IndexCorruptError, match="undo log of block 1"):
        rollback_to(store, 0)


def test_records_through_the_writer(store):
    w = writer(store, 1)
    assert w.get_record(schema.COUNTS_KEY, Counts) is None
    w.put_record(schema.COUNTS_KEY, Counts(1, 2, 3))
    assert w.get_record(schema.COUNTS_KEY, Counts) == Counts(1, 2, 3)
    w.delete(schema.COUNTS_KEY)
    assert w.get_record(schema.COUNTS_KEY, Counts) is None
    w.commit()
    assert store.get(schema.COUNTS_KEY) is None


def test_a_handle_record_is_written_only_with_its_answer_part(store):
    """put_record refuses a handle record: alone it would leave the old answer part, which the
    resolver serves, beside a new record."""
    record = handle_record("88.100.1", "PN-1")
    key = bytes.fromhex(record.handle_key[2:])
    w = writer(store, 1)
    with pytest.raises(TypeError, match="put_handle"):
        w.put_record(schema.handle_record_key(key), record)
    assert w.get(schema.handle_record_key(key)) is None
    w.put_handle(key, record)
    assert w.get(schema.answer_key(key)) is not None
