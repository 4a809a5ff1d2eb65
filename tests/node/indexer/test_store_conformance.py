"""One suite over every IndexStore backend: reads, ordered iteration, atomic writes, lifetime.

``write-behind`` is :class:`WriteBehindStore` over LevelDB, as the indexer backfills through it.
"""

import threading

import pytest

from idfuse_node.exceptions import StorageCorruptError, StorageLockedError, StorageUnavailableError
from idfuse_node.indexer.store import LevelDBIndexStore, MemoryIndexStore, prefix_end
from idfuse_node.indexer.writebehind import WriteBehindStore


@pytest.fixture(params=["memory", "leveldb", "write-behind"])
def store(request, tmp_path):
    if request.param == "memory":
        with MemoryIndexStore() as memory:
            yield memory
    elif request.param == "leveldb":
        with LevelDBIndexStore(tmp_path / "index") as leveldb:
            yield leveldb
    else:
        with LevelDBIndexStore(tmp_path / "index") as leveldb, WriteBehindStore(leveldb) as behind:
            yield behind


KEYS = [b"a", b"a\x00", b"a\x01", b"ab", b"ab\xff", b"ac", b"b", b"\xff", b"\xff\xff"]


@pytest.fixture
def filled(store):
    store.write({key: b"v" + key for key in KEYS}, [])
    return store


def keys(entries):
    return [key for key, _ in entries]


def test_get_put_delete(store):
    assert store.get(b"k") is None
    store.write({b"k": b"1", b"j": b""}, [])
    assert store.get(b"k") == b"1"
    assert store.get(b"j") == b""
    store.write({b"k": b"2"}, [b"j", b"absent"])
    assert store.get(b"k") == b"2"
    assert store.get(b"j") is None


def test_a_key_both_deleted_and_put_ends_up_put(store):
    store.write({b"k": b"new"}, [b"k"])
    assert store.get(b"k") == b"new"


def test_iterates_everything_in_key_order(filled):
    assert list(filled.iterate(b"")) == [(key, b"v" + key) for key in KEYS]
    assert keys(filled.iterate(b"", reverse=True)) == KEYS[::-1]


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        (b"a", [b"a", b"a\x00", b"a\x01", b"ab", b"ab\xff", b"ac"]),
        (b"ab", [b"ab", b"ab\xff"]),
        (b"\xff", [b"\xff", b"\xff\xff"]),
        (b"\xff\xff", [b"\xff\xff"]),
        (b"c", []),
        (b"ab\xff\xff", []),
    ],
)
def test_prefix_bounds(filled, prefix, expected):
    assert keys(filled.iterate(prefix)) == expected
    assert keys(filled.iterate(prefix, reverse=True)) == expected[::-1]


def test_start_forward_is_inclusive_and_clamped_to_the_prefix(filled):
    assert keys(filled.iterate(b"a", start=b"ab")) == [b"ab", b"ab\xff", b"ac"]
    assert keys(filled.iterate(b"a", start=b"aa")) == [b"ab", b"ab\xff", b"ac"]
    assert keys(filled.iterate(b"ab", start=b"a")) == [b"ab", b"ab\xff"]
    assert keys(filled.iterate(b"a", start=b"b")) == []


def test_start_reverse_is_inclusive_and_clamped_to_the_prefix(filled):
    assert keys(filled.iterate(b"a", start=b"ab", reverse=True)) == [b"ab", b"a\x01", b"a\x00", b"a"]
    assert keys(filled.iterate(b"a", start=b"aa", reverse=True)) == [b"a\x01", b"a\x00", b"a"]
    assert keys(filled.iterate(b"a", start=b"z", reverse=True)) == [
        b"ac",
        b"ab\xff",
        b"ab",
        b"a\x01",
        b"a\x00",
        b"a",
    ]
    assert keys(filled.iterate(b"b", start=b"a", reverse=True)) == []
    assert keys(filled.iterate(b"", start=b"\xff", reverse=True))[:2] == [b"\xff", b"b"]


def test_limit(filled):
    assert keys(filled.iterate(b"a", limit=2)) == [b"a", b"a\x00"]
    assert keys(filled.iterate(b"a", limit=2, reverse=True)) == [b"ac", b"ab\xff"]
    assert keys(filled.iterate(b"a", start=b"ab", limit=1)) == [b"ab"]
    assert keys(filled.iterate(b"a", start=b"ab", limit=2, reverse=True)) == [b"ab", b"a\x01"]
    assert keys(filled.iterate(b"a", limit=0)) == []
    assert len(keys(filled.iterate(b"", limit=100))) == len(KEYS)


def test_iteration_sees_the_store_as_it_was(filled):
    entries = filled.iterate(b"a")
    first = next(entries)
    filled.write({b"aa": b"new"}, [b"ac"])
    assert [first, *entries] == [(key, b"v" + key) for key in KEYS[:6]]


@pytest.mark.parametrize(
    ("puts", "deletes"),
    [
        ({b"x": b"1", b"y": "text"}, []),
        ({b"x": b"1", "y": b"2"}, []),
        ({b"x": b"1"}, [b"a", 7]),
        ({b"x": b"1", b"y": None}, []),
    ],
)
def test_a_write_with_a_bad_argument_changes_nothing(filled, puts, deletes):
    with pytest.raises(TypeError):
        filled.write(puts, deletes)
    assert filled.get(b"x") is None
    assert keys(filled.iterate(b"")) == KEYS


def test_a_prepared_write_lands_only_when_called(store):
    store.write({b"k": b"1", b"gone": b"x"}, [])
    land = store.prepare_write({b"k": b"2", b"new": b"n"}, [b"gone"])
    assert store.get(b"k") == b"1"
    assert store.get(b"gone") == b"x"
    assert store.get(b"new") is None
    land()
    assert list(store.iterate(b"")) == [(b"k", b"2"), (b"new", b"n")]


def test_a_prepared_write_with_a_bad_argument_is_refused_at_once(filled):
    with pytest.raises(TypeError):
        filled.prepare_write({b"x": "text"}, [])
    assert keys(filled.iterate(b"")) == KEYS


def test_closed_store_raises_a_typed_error(store):
    store.write({b"k": b"v"}, [])
    store.close()
    store.close()  # idempotent
    with pytest.raises(StorageUnavailableError):
        store.get(b"k")
    with pytest.raises(StorageUnavailableError):
        list(store.iterate(b""))
    with pytest.raises(StorageUnavailableError):
        store.write({b"k": b"w"}, [])
    with pytest.raises(StorageUnavailableError):
        store.compact()


def test_bytes_written_counts_the_keys_and_values_put(store):
    assert store.bytes_written == 0
    store.write({b"key": b"value", b"k2": b""}, [b"gone"])
    store.write({b"key": b"v"}, [b"key"])  # put again: counted again; deletes are not
    if isinstance(store, WriteBehindStore):
        store.flush()  # what has landed
    assert store.bytes_written == (3 + 5) + (2 + 0) + (3 + 1)
    with pytest.raises(TypeError):
        store.write({b"x": "text"}, [])  # refused: nothing written, nothing counted
    assert store.bytes_written == 14


def test_compaction_keeps_every_entry(filled):
    filled.compact()
    assert list(filled.iterate(b"")) == [(key, b"v" + key) for key in KEYS]


def test_prefix_end():
    assert prefix_end(b"ab") == b"ac"
    assert prefix_end(b"a\xff\xff") == b"b"
    assert prefix_end(b"\xff") is None
    assert prefix_end(b"") is None


# LevelDB only


def test_leveldb_persists_after_close_and_reopen(tmp_path):
    with LevelDBIndexStore(tmp_path / "index") as store:
        store.write({b"k": b"v", b"gone": b"x"}, [])
        store.write({}, [b"gone"])
    with LevelDBIndexStore(tmp_path / "index", create=False) as store:
        assert store.get(b"k") == b"v"
        assert store.get(b"gone") is None
        assert list(store.iterate(b"")) == [(b"k", b"v")]


def test_leveldb_compaction_merges_tables_and_keeps_every_entry(tmp_path):
    path = tmp_path / "index"
    entries = {b"v3:k%06d" % n: b"%d" % n * 50 for n in range(20_000)}
    for part in range(3):  # overlapping key ranges: each reopen leaves one more level-0 table
        with LevelDBIndexStore(path) as store:
            store.write({k: v for n, (k, v) in enumerate(entries.items()) if n % 3 == part}, [])
    with LevelDBIndexStore(path) as store:
        tables_before = len(list(path.glob("*.ldb")))
        store.write({}, [b"v3:k000007"])
        store.compact()
        assert dict(store.iterate(b"v3:")) == {k: v for k, v in entries.items() if k != b"v3:k000007"}
        tables_after = len(list(path.glob("*.ldb")))
    assert tables_before >= 3
    assert tables_after == 1  # 1.3 MB of entries: one table of at most TABLE_FILE_BYTES


def test_leveldb_close_waits_for_a_compaction_in_progress(tmp_path):
    # An indexer compacts in a thread of its own; closing the handle under a running
    # CompactRange would free what LevelDB is still using. Held here by the store's own lock.
    store = LevelDBIndexStore(tmp_path / "index")
    store.write({b"k": b"v"}, [])
    store._compacting.acquire()  # a compaction in progress
    closer = threading.Thread(target=store.close)
    closer.start()
    closer.join(0.3)
    assert closer.is_alive()  # waiting
    assert store.get(b"k") == b"v"  # still open
    store._compacting.release()
    closer.join(10)
    assert not closer.is_alive()
    with pytest.raises(StorageUnavailableError):
        store.get(b"k")


def test_leveldb_second_open_is_locked(tmp_path):
    with LevelDBIndexStore(tmp_path / "index"), pytest.raises(StorageLockedError):
        LevelDBIndexStore(tmp_path / "index")


def test_leveldb_refuses_a_directory_that_is_not_a_leveldb(tmp_path):
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"meow")
    with pytest.raises(StorageCorruptError, match="no CURRENT file"):
        LevelDBIndexStore(foreign)
    assert sorted(path.name for path in foreign.iterdir()) == ["cat.jpg"]
    file = tmp_path / "file"
    file.write_bytes(b"x")
    with pytest.raises(StorageCorruptError, match="not a directory"):
        LevelDBIndexStore(file)


def test_leveldb_without_create_refuses_a_missing_directory(tmp_path):
    with pytest.raises(StorageUnavailableError):
        LevelDBIndexStore(tmp_path / "missing", create=False)
    assert not (tmp_path / "missing").exists()
