"""WriteBehindStore: reads see the write in flight, writes land in order, a failed write stops
the ones after it. (The IndexStore contract itself: test_store_conformance.py.)"""

import pytest

from idfuse_node.exceptions import StorageError, StorageUnavailableError
from idfuse_node.indexer.store import LevelDBIndexStore
from idfuse_node.indexer.writebehind import WriteBehindStore
from tests.node.test_storage_faults import fill_leaving, small_file_system

BIG = 50_000
"""Keys in one write: enough that it is usually still landing when the reads below run."""


def test_reads_see_the_write_in_flight_as_landed(tmp_path):
    with LevelDBIndexStore(tmp_path / "index") as leveldb, WriteBehindStore(leveldb) as store:
        store.write({b"old": b"1", b"both": b"1", b"kept": b"k"}, [])
        puts = {b"n%06d" % n: b"%d" % n for n in range(BIG)}
        puts[b"both"] = b"2"
        store.write(puts, [b"old", b"both", b"absent"])
        assert store.get(b"n000000") == b"0"
        assert store.get(b"n%06d" % (BIG - 1)) == b"%d" % (BIG - 1)
        assert store.get(b"old") is None
        assert store.get(b"both") == b"2"  # deleted and put: put, as IndexStore.write says
        assert store.get(b"kept") == b"k"
        assert store.get(b"absent") is None
        assert len(list(store.iterate(b"n"))) == BIG  # iteration waits for the write
        assert leveldb.get(b"both") == b"2"


def test_a_write_is_durable_once_flushed_and_writes_land_in_order(tmp_path):
    with LevelDBIndexStore(tmp_path / "index") as leveldb:
        with WriteBehindStore(leveldb) as store:
            for n in range(20):
                store.write({b"counter": b"%d" % n, b"k%02d" % n: b"x" * 10_000}, [b"k%02d" % (n - 1)])
            store.flush()
            assert leveldb.get(b"counter") == b"19"
            store.write({b"last": b"1"}, [])
        assert leveldb.get(b"last") == b"1"  # closing waits for the write in flight
        assert [key for key, _ in leveldb.iterate(b"k")] == [b"k19"]


def test_closing_leaves_the_underlying_store_open(tmp_path):
    with LevelDBIndexStore(tmp_path / "index") as leveldb:
        store = WriteBehindStore(leveldb)
        store.write({b"k": b"v"}, [])
        store.close()
        store.close()  # idempotent
        assert leveldb.get(b"k") == b"v"
        with pytest.raises(StorageUnavailableError, match="write-behind"):
            store.get(b"k")


def _write_until_refused(store: WriteBehindStore) -> tuple[int, StorageError]:
    """Write ~1 MB at a time (100 MB in all) until a call raises: the number of the last write
    accepted, and the error."""
    value = b"x" * 100_000
    try:
        for n in range(100):
            store.write({b"w%03d/%03d" % (n, i): value + bytes([i]) for i in range(10)}, [])
        store.flush()
    except StorageError as error:
        return n - 1, error
    pytest.fail("100 MB were written to a file system with 256 KiB free")


def test_a_failed_write_raises_from_the_next_call_and_stops_the_writes_after_it(tmp_path):
    directory = tmp_path / "small"
    with small_file_system(directory, tmp_path), LevelDBIndexStore(directory / "index") as leveldb:
        filler = fill_leaving(directory, 256 * 1024)
        store = WriteBehindStore(leveldb)
        accepted, error = _write_until_refused(store)
        assert "the disk is full" in str(error)
        assert "No space left on device" in str(error)
        filler.unlink()
        store.close()  # nothing in flight any more: the write that raised was never started
        assert leveldb.get(b"w%03d/000" % (accepted + 1)) is None
