"""WriteBehindStore: reads see the write in flight, writes land in order, a failed write stops
the ones after it. (The IndexStore contract itself: test_store_conformance.py.)

The write in flight is held there by :class:`GatedStore`, a real MemoryIndexStore whose
writes wait until the test opens a gate: what is read meanwhile can only come from the
write-behind view, and a write that was never started is never seen by the store below.
"""

import threading

import pytest

from idfuse_node.exceptions import StorageError, StorageUnavailableError
from idfuse_node.indexer.store import LevelDBIndexStore, MemoryIndexStore
from idfuse_node.indexer.writebehind import WriteBehindStore
from tests.node.test_storage_faults import fill_leaving, small_file_system


class GatedStore(MemoryIndexStore):
    """A MemoryIndexStore whose writes wait for :attr:`gate`; it records each write it gets."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.writes: list[dict[bytes, bytes]] = []

    def write(self, puts, deletes):
        assert self.gate.wait(30), "the test never opened the gate"
        self.writes.append(dict(puts))
        super().write(puts, deletes)


@pytest.fixture
def gated():
    below = GatedStore()
    below.gate.set()
    below.write({b"old": b"1", b"both": b"1", b"kept": b"k"}, [])
    below.gate.clear()
    return below


def test_reads_see_the_write_in_flight_as_landed(gated):
    with WriteBehindStore(gated) as store:
        store.write({b"new": b"n", b"both": b"2"}, [b"old", b"both", b"absent"])
        assert gated.get(b"new") is None  # still in flight: nothing below has changed
        assert store.get(b"new") == b"n"
        assert store.get(b"old") is None
        assert store.get(b"both") == b"2"  # deleted and put: put, as IndexStore.write says
        assert store.get(b"kept") == b"k"  # not in the write: read below
        assert store.get(b"absent") is None
        gated.gate.set()
        assert list(store.iterate(b"")) == [(b"both", b"2"), (b"kept", b"k"), (b"new", b"n")]
        assert gated.get(b"new") == b"n"  # iteration waited for the write


def test_a_write_waits_for_the_one_in_flight(gated):
    with WriteBehindStore(gated) as store:
        store.write({b"a": b"1"}, [])
        second = threading.Thread(target=store.write, args=({b"a": b"2"}, []))
        second.start()
        second.join(0.2)
        assert second.is_alive()  # held until the first has landed
        gated.gate.set()
        second.join(30)
        store.flush()
    assert gated.writes[1:] == [{b"a": b"1"}, {b"a": b"2"}]


def test_a_failed_write_raises_from_the_next_call_which_is_never_started(gated):
    store = WriteBehindStore(gated)
    store.write({b"first": b"1"}, [])
    gated.close()  # the write in flight now fails when it lands
    gated.gate.set()
    with pytest.raises(StorageUnavailableError):
        store.write({b"second": b"2"}, [])
    assert {b"second": b"2"} not in gated.writes
    store.close()  # nothing left in flight: closes cleanly


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


def test_a_full_disk_raises_from_a_later_call_and_the_writes_before_it_stay(tmp_path):
    directory = tmp_path / "small"
    with small_file_system(directory, tmp_path), LevelDBIndexStore(directory / "index") as leveldb:
        filler = fill_leaving(directory, 256 * 1024)
        store = WriteBehindStore(leveldb)
        accepted, error = _write_until_refused(store)
        assert "the disk is full" in str(error)
        assert "No space left on device" in str(error)
        filler.unlink()
        store.close()
        # the failed write was the last one accepted (or the one before it, when the flush
        # raised); every write before those landed whole
        landed = [n for n in range(accepted) if leveldb.get(b"w%03d/000" % n) is not None]
        assert landed == list(range(len(landed)))
        for n in landed:
            assert all(leveldb.get(b"w%03d/%03d" % (n, i)) is not None for i in range(10))
        assert len(landed) >= max(0, accepted - 1)
