"""Every command that opens a LevelDB (``idfuse node start``, ``idfuse ledger start``, ``idfuse
indexer``, ``idfuse resolver``, ``idfuse node compact``) refuses a locked, unreadable or corrupt
chain or index in one line that names the directory, exits 1, and leaves the data as it was:
never an empty database over existing data. A missing index is still rebuilt.

Unreadable: the database directory's mode is 000. The tests run as root, which ``chmod 000``
does not stop (CAP_DAC_OVERRIDE), so as root those commands run without the two capabilities that
bypass file modes (``setpriv --bounding-set``), still root and owner of every file. The other
kinds of damage are in tests/node/test_storage_faults.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import time
from collections.abc import Callable
from pathlib import Path

import plyvel
import pytest

from idfuse_node.indexer.schema import KEY_PREFIX, SCHEMA_VERSION
from tests.e2e.processes import IdfuseProcess, run_idfuse

# root without the capabilities that ignore file modes: ``chmod 000`` then denies it too
FILE_MODES_APPLY = (
    ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"] if os.geteuid() == 0 else []
)
NOT_DATA = frozenset({"LOG", "LOG.old", "LOCK"})  # LevelDB rewrites its info log on every open

COMMANDS: dict[str, Callable[[Path], list[str]]] = {
    "node start": lambda d: [
        "node",
        "start",
        "--data-dir",
        str(d),
        "--rpc-port",
        "0",
        "--resolver-port",
        "0",
    ],
    "ledger start": lambda d: ["ledger", "start", "--data-dir", str(d), "--rpc-port", "0"],
    # a dead endpoint: the index is opened (and refused) before the chain is asked anything
    "indexer": lambda d: ["indexer", "--rpc", "http://127.0.0.1:9", "--data-dir", str(d)],
    "resolver": lambda d: ["resolver", "--data-dir", str(d), "--port", "0"],
    "node compact": lambda d: ["node", "compact", "--data-dir", str(d)],
}
CASES = [
    ("node start", "chain"),
    ("node start", "index"),
    ("ledger start", "chain"),
    ("indexer", "index"),
    ("resolver", "index"),
    ("node compact", "index"),
]
ADVICE = {"chain": "restore it from a backup", "index": "rebuilt from the chain"}


def _run_until_indexed(data_dir: Path, logs: Path, name: str) -> None:
    """Run ``idfuse node start`` on ``data_dir`` until its index holds a checkpoint, then stop it
    with SIGTERM (exit 0)."""
    node = IdfuseProcess(COMMANDS["node start"](data_dir), data_dir / "endpoints.json", logs, name)
    try:
        node.wait_ready("resolver_url")
        deadline = time.monotonic() + 30
        while _indexed(data_dir) is None:
            assert time.monotonic() < deadline, f"{name}: the node indexed nothing"
            time.sleep(0.2)
        assert node.stop(signal.SIGTERM) == 0
    finally:
        node.kill()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory a node ran in: a chain with the registries and an index of it, both
    reopened once so that each has a table file."""
    data_dir = tmp_path_factory.mktemp("pristine") / "node"
    _run_until_indexed(data_dir, data_dir.parent, "pristine")
    for name in ("chain", "index"):
        plyvel.DB(str(data_dir / name)).close()  # the log into a table file
        assert any(entry.suffix == ".ldb" for entry in (data_dir / name).iterdir())
    return data_dir


def _indexed(data_dir: Path) -> int | None:
    result = run_idfuse("node", "status", "--data-dir", str(data_dir), "--json")
    if result.returncode != 0:
        return None
    return json.loads(result.stdout).get("indexed")


@pytest.fixture
def data_dir(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "node"
    shutil.copytree(pristine, copy)
    return copy


def snapshot(db: Path) -> dict[str, bytes | str]:
    """The data files of a LevelDB directory, byte for byte."""
    return {
        entry.name: "dir" if entry.is_dir() else entry.read_bytes()
        for entry in db.iterdir()
        if entry.name not in NOT_DATA
    }


def contents(db: Path) -> list[tuple[bytes, bytes]]:
    """Every entry of a healthy LevelDB (which an open rewrites the files of, not the data)."""
    handle = plyvel.DB(str(db))
    try:
        return list(handle)
    finally:
        handle.close()


def refused(command: str, data_dir: Path, *, file_modes_apply: bool = False) -> str:
    """Run ``command`` on ``data_dir``; it must exit 1 with one ``error:`` line; that line.

    :param file_modes_apply: Run it so that file modes hold even for root (FILE_MODES_APPLY).
    """
    prefix = FILE_MODES_APPLY if file_modes_apply else []
    result = run_idfuse(*COMMANDS[command](data_dir), prefix=prefix)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert "Traceback" not in output
    assert "running" not in result.stdout, output  # nothing announced as started
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr[-3000:]
    return str(errors[0])


def _other(name: str) -> str:
    return "index" if name == "chain" else "chain"


@pytest.mark.parametrize(("command", "name"), CASES)
def test_a_database_locked_by_another_process_is_refused(data_dir, command, name):
    db = data_dir / name
    other = contents(data_dir / _other(name))
    holder = plyvel.DB(str(db))  # this test's process holds it, as a running node would
    try:
        before = snapshot(db)
        line = refused(command, data_dir)
        assert snapshot(db) == before
    finally:
        holder.close()
    assert line.startswith(f"error: LevelDB at {db} is locked by another process")
    assert contents(data_dir / _other(name)) == other


def _truncate_a_table(db: Path) -> None:
    table = max((entry for entry in db.iterdir() if entry.suffix == ".ldb"), key=lambda e: e.stat().st_size)
    os.truncate(table, 100)


def _lose_the_manifest(db: Path) -> None:
    (db / "CURRENT").write_text("MANIFEST-999999\n")


@pytest.mark.parametrize(
    ("command", "name", "damage"),
    [
        ("node start", "chain", _truncate_a_table),
        ("node start", "index", _lose_the_manifest),
        ("ledger start", "chain", _lose_the_manifest),
        ("indexer", "index", _truncate_a_table),
        ("resolver", "index", _lose_the_manifest),
        ("resolver", "index", _truncate_a_table),
        ("node compact", "index", _truncate_a_table),
    ],
)
def test_a_corrupt_database_is_refused_and_kept(data_dir, command, name, damage):
    db = data_dir / name
    damage(db)
    before, other = snapshot(db), contents(data_dir / _other(name))
    line = refused(command, data_dir)
    assert line.startswith(f"error: LevelDB at {db} is corrupt")
    assert ADVICE[name] in line
    assert snapshot(db) == before
    assert contents(data_dir / _other(name)) == other


@pytest.mark.parametrize(
    ("command", "name"),
    [("node start", "index"), ("ledger start", "chain"), ("indexer", "index"), ("resolver", "index")],
)
def test_an_unreadable_database_is_refused(data_dir, command, name):
    if FILE_MODES_APPLY and shutil.which(FILE_MODES_APPLY[0]) is None:
        pytest.fail("as root this test needs setpriv (util-linux) to make chmod 000 deny reads")
    db = data_dir / name
    before = snapshot(db)
    db.chmod(0)
    try:
        line = refused(command, data_dir, file_modes_apply=True)
    finally:
        db.chmod(stat.S_IRWXU)
    assert str(db) in line
    assert "Permission denied" in line
    assert snapshot(db) == before


def test_a_missing_index_is_rebuilt_from_the_chain(data_dir, tmp_path):
    shutil.rmtree(data_dir / "index")
    _run_until_indexed(data_dir, tmp_path, "rebuild")
    assert (data_dir / "index" / "CURRENT").is_file()


def test_a_lost_chain_beside_its_index_is_not_replaced_by_a_new_one(data_dir):
    # With DIR/chain gone the genesis would make a new, empty chain at the same contract
    # addresses: the old index would then describe blocks that no longer exist.
    index = data_dir / "index"
    shutil.rmtree(data_dir / "chain")
    before = snapshot(index)
    line = refused("node start", data_dir)
    assert line == (
        f"error: {data_dir / 'chain'} is missing or empty but {index} indexes a chain: the chain was "
        f"lost; restore {data_dir / 'chain'} from a backup (or, to start a new chain, delete {index} too)"
    )
    assert not (data_dir / "chain").exists()
    assert snapshot(index) == before


def _to_layout_v1(db: Path) -> None:
    """Rewrite the index as an idfuse before layout 2 left it: its entries under ``v1:`` keys
    (layout 2 is refused the same way: the test covers the message and that nothing changes)."""
    handle = plyvel.DB(str(db))
    try:
        with handle.write_batch() as batch:
            for key, value in handle.iterator(prefix=KEY_PREFIX):
                batch.delete(key)
                batch.put(b"v1:" + key[len(KEY_PREFIX) :], value)
    finally:
        handle.close()


@pytest.mark.parametrize("command", ["node start", "indexer", "resolver", "node compact"])
def test_an_index_in_an_earlier_layout_is_refused_and_kept(data_dir, command):
    db = data_dir / "index"
    _to_layout_v1(db)
    before, chain = contents(db), contents(data_dir / "chain")
    line = refused(command, data_dir)
    assert line == (
        f"error: the index at {db} was written by an earlier version of idfuse (layout v1; this "
        f"version reads layout v{SCHEMA_VERSION}): delete it and start again, and the indexer "
        "rebuilds it from the chain (the chain is kept apart and is not affected)"
    )
    assert contents(db) == before
    assert contents(data_dir / "chain") == chain


def test_compact_keeps_every_entry(data_dir):
    db = data_dir / "index"
    before, chain = contents(db), contents(data_dir / "chain")
    result = run_idfuse(*COMMANDS["node compact"](data_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.startswith(f"compacting {db} (")
    assert result.stdout.startswith(f"compacted {db} in ")
    assert contents(db) == before
    assert contents(data_dir / "chain") == chain


def test_compact_without_an_index_says_so(tmp_path):
    result = run_idfuse("node", "compact", "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {tmp_path / 'index'} holds no index: nothing to compact"
    assert not (tmp_path / "index").exists()
