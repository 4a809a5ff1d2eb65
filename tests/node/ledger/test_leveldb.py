"""LevelDB-specific behaviour: one write batch per unit of work, durability, typed open errors."""

import os
import subprocess
import sys

import plyvel
import pytest

from idfuse_node.exceptions import (
    IdfuseNodeError,
    StorageCorruptError,
    StorageError,
    StorageLockedError,
    StorageUnavailableError,
)
from idfuse_node.ledger import leveldb as leveldb_module
from idfuse_node.ledger.leveldb import LevelDB


class BoomError(Exception):
    pass


def write_then_raise(db, exc, *, delete=()):
    with db.atomic_batch() as batch:
        batch[b"keep"] = b"new"
        batch[b"added"] = b"1"
        for key in delete:
            del batch[key]
        raise exc


def test_batch_commits_in_one_plyvel_write_batch(leveldb, monkeypatch):
    calls = []
    real = leveldb._db

    class SpyDB:
        def __getattr__(self, name):
            return getattr(real, name)

        def write_batch(self, **kwargs):
            calls.append(kwargs)
            return real.write_batch(**kwargs)

        def put(self, *args, **kwargs):
            raise AssertionError("a batch must not write key by key")

    leveldb[b"gone"] = b"x"
    monkeypatch.setattr(leveldb, "_db", SpyDB())
    with leveldb.atomic_batch() as batch:
        for i in range(100):
            batch[b"k%d" % i] = b"v%d" % i
        del batch[b"gone"]
    assert calls == [{"sync": True}]
    monkeypatch.undo()
    assert leveldb[b"k99"] == b"v99"
    assert b"gone" not in leveldb


def test_sync_option_reaches_plyvel(tmp_path):
    with LevelDB(tmp_path / "db", sync=False) as db:
        assert db.sync is False
        with db.atomic_batch() as batch:
            batch[b"a"] = b"1"
        assert db[b"a"] == b"1"


def test_exception_in_batch_writes_nothing(leveldb):
    leveldb[b"keep"] = b"old"
    with pytest.raises(BoomError):
        write_then_raise(leveldb, BoomError(), delete=[b"keep"])
    assert leveldb[b"keep"] == b"old"
    assert b"added" not in leveldb


def test_keyboard_interrupt_in_batch_writes_nothing(leveldb):
    with pytest.raises(KeyboardInterrupt):
        write_then_raise(leveldb, KeyboardInterrupt())
    assert b"added" not in leveldb


def test_reads_see_pending_writes_and_deletes_only_inside_the_batch(leveldb):
    leveldb[b"old"] = b"1"
    with leveldb.atomic_batch() as batch:
        batch[b"new"] = b"2"
        del batch[b"old"]
        assert batch[b"new"] == b"2"
        assert b"old" not in batch
        assert b"new" not in leveldb
        assert leveldb[b"old"] == b"1"
        batch[b"old"] = b"3"
        assert batch[b"old"] == b"3"
    assert leveldb[b"new"] == b"2"
    assert leveldb[b"old"] == b"3"


def test_data_survives_close_and_reopen(tmp_path):
    path = tmp_path / "db"
    with LevelDB(path) as db:
        db[b"plain"] = b"1"
        with db.atomic_batch() as batch:
            batch[b"batched"] = b"2"
    with LevelDB(path) as db:
        assert db[b"plain"] == b"1"
        assert db[b"batched"] == b"2"


def test_close_is_idempotent_and_later_use_is_a_typed_error(tmp_path):
    db = LevelDB(tmp_path / "db")
    db[b"a"] = b"1"
    db.close()
    db.close()
    assert db.closed
    with pytest.raises(StorageUnavailableError, match="closed"):
        db[b"a"]
    with pytest.raises(StorageUnavailableError, match="closed"):
        db[b"a"] = b"2"


def test_exception_hierarchy():
    for cls in (StorageLockedError, StorageCorruptError, StorageUnavailableError):
        assert issubclass(cls, StorageError)
        assert issubclass(cls, IdfuseNodeError)
        assert cls.__doc__


def test_second_handle_in_this_process_is_locked_out(leveldb):
    with pytest.raises(StorageLockedError, match=str(leveldb.path)):
        LevelDB(leveldb.path)


def test_second_process_is_locked_out(leveldb):
    script = (
        "import sys\n"
        "from idfuse_node.exceptions import StorageLockedError\n"
        "from idfuse_node.ledger.leveldb import LevelDB\n"
        "try:\n"
        "    LevelDB(sys.argv[1])\n"
        "except StorageLockedError as exc:\n"
        "    print('locked:', exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(leveldb.path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert result.stdout.startswith("locked: "), result.stdout + result.stderr
    assert str(leveldb.path) in result.stdout


def test_lock_is_released_on_close(tmp_path):
    LevelDB(tmp_path / "db").close()
    LevelDB(tmp_path / "db").close()


def test_non_leveldb_directory_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "photos"
    path.mkdir()
    (path / "holiday.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(StorageCorruptError, match="no CURRENT file"):
        LevelDB(path)
    assert sorted(p.name for p in path.iterdir()) == ["holiday.jpg"]


def test_file_in_place_of_the_directory_is_refused(tmp_path):
    path = tmp_path / "db"
    path.write_text("not a database")
    with pytest.raises(StorageCorruptError, match="not a directory"):
        LevelDB(path)


def test_empty_directory_becomes_a_database(tmp_path):
    path = tmp_path / "db"
    path.mkdir()
    with LevelDB(path) as db:
        db[b"a"] = b"1"
    assert (path / "CURRENT").is_file()


def test_corrupt_database_is_a_typed_error(tmp_path):
    path = tmp_path / "db"
    with LevelDB(path) as db:
        db[b"a"] = b"1"
    (path / "CURRENT").write_bytes(b"garbage without newline")
    with pytest.raises(StorageCorruptError, match=str(path)):
        LevelDB(path)


def test_missing_parent_is_unavailable(tmp_path):
    with pytest.raises(StorageUnavailableError, match="missing"):
        LevelDB(tmp_path / "missing" / "db")


def test_unwritable_directory_is_unavailable(tmp_path):
    path = tmp_path / "db"
    if os.geteuid() != 0:
        LevelDB(path).close()
        path.chmod(0o500)
        try:
            with pytest.raises(StorageUnavailableError, match="Permission denied"):
                LevelDB(path)
        finally:
            path.chmod(0o700)
        return
    # root ignores directory modes, but not a read-only file system.
    tmp_path.chmod(0o755)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(tmp_path)], check=True)
    try:
        LevelDB(path).close()
        subprocess.run(["mount", "-o", "remount,ro", str(tmp_path)], check=True)
        with pytest.raises(StorageUnavailableError, match="Read-only file system") as raised:
            LevelDB(path)
        assert str(path) in str(raised.value)
    finally:
        subprocess.run(["umount", str(tmp_path)], check=True)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (plyvel.IOError(b"IO error: /d/LOCK: Permission denied"), StorageUnavailableError),
        (plyvel.IOError(b"IO error: lock /d/LOCK: Resource temporarily unavailable"), StorageLockedError),
        (plyvel.IOError(b"IO error: lock /d/LOCK: already held by process"), StorageLockedError),
        (plyvel.CorruptionError(b"Corruption: bad block"), StorageCorruptError),
        (plyvel.IOError(b"IO error: /d/000005.log: No space left on device"), StorageUnavailableError),
        (plyvel.IOError(b"IO error: /d/LOCK: No space left on device"), StorageUnavailableError),
    ],
)
def test_plyvel_open_errors_map_to_typed_errors(tmp_path, monkeypatch, error, expected):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(leveldb_module.plyvel, "DB", fail)
    with pytest.raises(expected, match=str(tmp_path / "db")) as caught:
        LevelDB(tmp_path / "db")
    assert type(caught.value) is expected
    assert caught.value.__cause__ is error


@pytest.mark.parametrize("close", [True, False])
def test_process_exits_quietly_while_py_evm_caches_hold_the_database(tmp_path, close):
    # py-evm's module-level lru_caches keep tries, and so the database, alive until teardown,
    # where a plyvel handle still referenced there fails in its __dealloc__.
    script = (
        "import sys\n"
        "from eth.db.account import AccountDB\n"
        "from idfuse_node.ledger.leveldb import LevelDB\n"
        "db = LevelDB(sys.argv[1])\n"
        "accounts = AccountDB(db)\n"
        "accounts.set_balance(b'\\x01' * 20, 5)\n"
        "accounts.persist()\n"
        "if sys.argv[2] == 'close':\n"
        "    db.close()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "db"), "close" if close else "leave-open"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    with LevelDB(tmp_path / "db") as db:
        assert db.closed is False
