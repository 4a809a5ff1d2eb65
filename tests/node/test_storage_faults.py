"""Storage faults below the CLI: a damaged LevelDB (chain or index) is refused on open with a
typed error that names the directory and says what to do, and the directory is left exactly as
it was; never an empty database in its place. Then a full disk while ``idfuse indexer``
backfills: one error line, exit 1, and after space returns it resumes to the index a build from
scratch gives.

The damage is what an operator meets: a truncated or garbled table, log, MANIFEST or CURRENT,
a table file replaced by a directory, a table file gone. ``chmod 000`` does not make a file
unreadable to root (the tests run as root), so "unreadable" is a path LevelDB cannot read: a
directory where it expects a file (EISDIR, as for a file on an unmounted or broken volume).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import plyvel
import pytest

from idfuse_node.exceptions import StorageCorruptError, StorageError, StorageUnavailableError
from idfuse_node.indexer.reader import IndexReader
from idfuse_node.indexer.store import LevelDBIndexStore, MemoryIndexStore
from idfuse_node.ledger.leveldb import LevelDB
from idfuse_node.storage import check_tables
from tests.e2e.processes import run_idfuse
from tests.node.indexer.chainfixture import running_chain
from tests.node.indexer.indexing import CONTRACTS, chain_binding, dump, index_chain
from tests.node.indexer.test_kill import _build, index_until

# LevelDB rewrites its info log (LOG, LOG.old) on every open attempt, and LOCK is empty.
NOT_DATA = frozenset({"LOG", "LOG.old", "LOCK"})


def snapshot(path: Path) -> dict[str, bytes | str]:
    """Every data file of a LevelDB directory: name to bytes ("dir" for a directory)."""
    return {
        entry.name: "dir" if entry.is_dir() else entry.read_bytes()
        for entry in path.iterdir()
        if entry.name not in NOT_DATA
    }


def make_database(path: Path, *, tables: bool = True) -> None:
    """A LevelDB of 20,000 entries in a table file, and 100 more in its log."""
    db = plyvel.DB(str(path), create_if_missing=True)
    for i in range(20_000):
        db.put(b"k%06d" % i, b"v" * 40 + b"%06d" % i)
    if tables:
        db.compact_range()
    for i in range(100):
        db.put(b"z%06d" % i, b"tail")
    db.close()


def _one(path: Path, suffix: str) -> Path:
    """The one file of ``path`` whose name ends (.ldb, .log) or starts (MANIFEST-) with ``suffix``."""
    (found,) = [entry for entry in path.iterdir() if suffix in (entry.suffix, entry.name[:9])]
    return found


def _garble(file: Path, offset: int = 10, length: int = 200) -> None:
    with file.open("r+b") as out:
        out.seek(offset)
        out.write(b"\xa5" * length)


def _replace_by_directory(file: Path) -> None:
    file.unlink()
    file.mkdir()


DAMAGE: dict[str, tuple[Callable[[Path], None], type[StorageError], str]] = {
    "truncated table": (lambda p: os.truncate(_one(p, ".ldb"), 100), StorageCorruptError, "is 100 bytes"),
    "missing table": (lambda p: _one(p, ".ldb").unlink(), StorageCorruptError, "is missing"),
    "table replaced by a directory": (
        lambda p: _replace_by_directory(_one(p, ".ldb")),
        StorageCorruptError,
        "not a regular file",
    ),
    "garbled log": (lambda p: _garble(_one(p, ".log")), StorageCorruptError, "checksum mismatch"),
    "log replaced by a directory": (
        lambda p: _replace_by_directory(_one(p, ".log")),
        StorageUnavailableError,
        "Is a directory",
    ),
    "truncated MANIFEST": (lambda p: os.truncate(_one(p, "MANIFEST-"), 10), StorageCorruptError, "corrupt"),
    "MANIFEST replaced by a directory": (
        lambda p: _replace_by_directory(_one(p, "MANIFEST-")),
        StorageUnavailableError,
        "Is a directory",
    ),
    "CURRENT names a missing MANIFEST": (
        lambda p: (p / "CURRENT").write_text("MANIFEST-999999\n"),
        StorageCorruptError,
        "non-existent file",
    ),
    "garbled CURRENT": (lambda p: (p / "CURRENT").write_bytes(b"\xa5" * 8), StorageCorruptError, "newline"),
    "CURRENT gone": (lambda p: (p / "CURRENT").unlink(), StorageCorruptError, "no CURRENT file"),
}

OPENERS: dict[str, tuple[Callable[[Path], object], str]] = {
    "chain": (LevelDB, "restore it from a backup"),
    "index": (LevelDBIndexStore, "rebuilt from the chain"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("store", sorted(OPENERS))
def test_a_damaged_database_is_refused_and_left_as_it_was(tmp_path, store, damage):
    path = tmp_path / store
    make_database(path)
    harm, expected, words = DAMAGE[damage]
    harm(path)
    before = snapshot(path)
    opener, advice = OPENERS[store]
    with pytest.raises(expected) as refused:
        opener(path)
    message = str(refused.value)
    assert str(path) in message
    assert words in message
    if expected is StorageCorruptError and damage != "CURRENT gone":
        assert advice in message
    assert snapshot(path) == before


def test_an_intact_database_passes_the_table_check_and_keeps_its_log(tmp_path):
    # paranoid checks refuse a damaged log; an intact one (and a torn tail, as after kill -9)
    # still opens with every entry.
    path = tmp_path / "db"
    make_database(path)
    log = _one(path, ".log")
    os.truncate(log, log.stat().st_size - 5)  # the last write torn
    check_tables(path)
    with LevelDBIndexStore(path) as store:
        keys = [key for key, _ in store.iterate(b"")]
    assert len(keys) == 20_099
    assert keys[-1] == b"z000098"


def test_a_manifest_the_check_cannot_parse_is_left_to_leveldb(tmp_path):
    path = tmp_path / "db"
    make_database(path)
    manifest = _one(path, "MANIFEST-")
    _garble(manifest, offset=7, length=1)  # the first record's first tag: not a tag LevelDB has
    check_tables(path)  # no verdict of its own
    with pytest.raises(StorageCorruptError, match="rebuilt from the chain"):
        LevelDBIndexStore(path)


def test_a_garbled_block_inside_a_table_is_a_typed_error_when_it_is_read(tmp_path):
    # Only reading every block would find this on open; the read that meets it is refused.
    path = tmp_path / "index"
    make_database(path)
    _garble(_one(path, ".ldb"), offset=1000, length=500)
    with LevelDBIndexStore(path) as store, pytest.raises(StorageCorruptError) as refused:
        list(store.iterate(b"k"))
    assert str(path) in str(refused.value)
    assert "rebuilt from the chain" in str(refused.value)


# --- a full disk while indexing ------------------------------------------------------------

ROOM = 2 * 1024 * 1024
"""Free bytes left on the small file system: about a third of the index the chain makes."""


def _mount(command: list[str]) -> str | None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    return None if result.returncode == 0 else f"{' '.join(command)}: {result.stderr.strip()}"


@contextmanager
def small_file_system(directory: Path, scratch: Path) -> Iterator[None]:
    """A 16 MiB file system mounted on ``directory``: tmpfs, or a loop-mounted ext4 image."""
    directory.mkdir()
    failures = []
    failure = _mount(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(directory)])
    if failure is not None:
        failures.append(failure)
        image = scratch / "small.img"
        with image.open("wb") as out:
            out.truncate(16 * 1024 * 1024)
        steps = [["mkfs.ext4", "-q", "-F", str(image)], ["mount", "-o", "loop", str(image), str(directory)]]
        for step in steps:
            failure = _mount(step)
            if failure is not None:
                failures.append(failure)
                pytest.fail(f"cannot mount a small file system (run the tests as root): {failures}")
    try:
        yield
    finally:
        subprocess.run(["umount", str(directory)], check=True)


def fill_leaving(directory: Path, room: int) -> Path:
    """A file that leaves about ``room`` bytes free on ``directory``'s file system."""
    filler = directory / "filler"
    stats = os.statvfs(directory)
    size = stats.f_bavail * stats.f_frsize - room
    with filler.open("wb") as out:  # written, not sparse
        chunk = b"\0" * (1024 * 1024)
        while size > 0:
            size -= out.write(chunk[: min(size, len(chunk))])
    return filler


def _indexer(data_dir: Path, url: str) -> list[str]:
    return ["indexer", "--rpc", url, "--data-dir", str(data_dir), "--batch-blocks", "1"]


def _run_until_full(data_dir: Path, url: str) -> str:
    """Run the indexer, which must stop on its own; its one error line."""
    result = run_idfuse(*_indexer(data_dir, url), timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert "Traceback" not in output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr[-3000:]
    return errors[0]


def test_a_full_disk_stops_the_indexer_and_it_resumes_once_space_returns(tmp_path):
    data_dir = tmp_path / "node"
    index = data_dir / "index"
    with small_file_system(data_dir, tmp_path), running_chain(tmp_path / "chain") as chain:
        _build(chain)
        head = chain.ledger.head().block_number
        contracts = {name: chain.address_of(name) for name in CONTRACTS}
        (data_dir / "endpoints.json").write_text(json.dumps({"contracts": contracts}))
        filler = fill_leaving(data_dir, ROOM)

        error = _run_until_full(data_dir, chain.url)
        assert str(index) in error
        assert "the disk is full (" in error
        assert "No space left on device" in error
        # restarted on a disk still full (as a supervisor would): refused the same way
        assert "No space left on device" in _run_until_full(data_dir, chain.url)

        filler.unlink()
        with LevelDBIndexStore(index) as store:  # what the full disk left opens, part indexed
            stopped = IndexReader(store).checkpoint()
        assert stopped is None or stopped.number < head

        scratch = MemoryIndexStore()
        index_chain(chain.url, scratch, chain_binding(chain))
        checkpoint = IndexReader(scratch).checkpoint()
        assert checkpoint is not None
        assert checkpoint.number >= head
        assert (
            index_until(data_dir, chain.url, checkpoint.number, tmp_path / "indexer.log") >= checkpoint.number
        )
        with LevelDBIndexStore(index) as store:
            assert dump(store) == dump(scratch)
