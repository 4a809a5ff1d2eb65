"""`idfuse resolver` as a user runs it: serve a data directory's index, publish the URL in
endpoints.json, stop cleanly; every failure one line."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import httpx
import pytest

from idfuse_node.datadir import DataDir
from idfuse_node.indexer.store import LevelDBIndexStore
from tests.e2e.processes import IdfuseProcess, run_idfuse
from tests.node.resolver.indexdata import populate


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory whose index holds the resolver tests' records."""
    root = tmp_path / "node"
    root.mkdir(mode=0o700)
    with LevelDBIndexStore(DataDir(root).index_db) as store:
        populate(store)
    return root


def _resolver(processes: list[IdfuseProcess], data_dir: Path, log_dir: Path, *extra: str) -> IdfuseProcess:
    args = ["resolver", "--data-dir", str(data_dir), "--port", "0", *extra]
    process = IdfuseProcess(args, data_dir / "endpoints.json", log_dir, f"resolver{len(processes)}")
    processes.append(process)
    return process


def test_serve_resolve_and_stop(data_dir: Path, tmp_path: Path, processes: list[IdfuseProcess]) -> None:
    resolver = _resolver(processes, data_dir, tmp_path)
    url = resolver.wait_ready("resolver_url")["resolver_url"]
    assert url.startswith("http://127.0.0.1:")
    answer = httpx.get(f"{url}/api/handles/88.200/PN-0001", timeout=10)
    assert answer.status_code == 200
    assert answer.json()["responseCode"] == 1
    assert httpx.get(f"{url}/api/handles/88.200/NOPE", timeout=10).json()["responseCode"] == 100
    assert httpx.get(f"{url}/health", timeout=10).status_code == 200
    assert resolver.stop(signal.SIGTERM) == 0
    assert "resolver stopped" in resolver.output()
    assert "Traceback" not in resolver.output()


def test_a_directory_without_an_index_fails_in_one_line(tmp_path: Path) -> None:
    result = run_idfuse("resolver", "--data-dir", str(tmp_path), "--port", "0")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert "run the indexer" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stdout + result.stderr


def test_a_taken_port_fails_in_one_line(data_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_idfuse("resolver", "--data-dir", str(data_dir), "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "Traceback" not in result.stdout + result.stderr


def test_an_index_in_use_by_another_process_fails_in_one_line(
    data_dir: Path, tmp_path: Path, processes: list[IdfuseProcess]
) -> None:
    _resolver(processes, data_dir, tmp_path).wait_ready("resolver_url")
    result = run_idfuse("resolver", "--data-dir", str(data_dir), "--port", "0")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1
