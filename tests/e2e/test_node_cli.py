"""`idfuse node start` / `idfuse node status` as an operator runs them: one process that serves
JSON-RPC, indexes its own chain live and resolves what was registered; a clean stop, a resume,
and one-line failures that leave nothing running."""

from __future__ import annotations

import json
import signal
import socket
from pathlib import Path
from typing import Any

import httpx
from web3 import Web3

from tests.e2e.processes import IdfuseProcess, run_idfuse
from tests.e2e.registry_writes import register_identifier
from tests.waiting import eventually

RESOLVE_TIMEOUT = 60.0


def _start(data_dir: Path, log_dir: Path, name: str, *extra: str) -> IdfuseProcess:
    args = ["node", "start", "--data-dir", str(data_dir), "--rpc-port", "0", "--resolver-port", "0", *extra]
    return IdfuseProcess(args, data_dir / "endpoints.json", log_dir, name)


def _resolve(url: str, handle: str) -> dict[str, Any]:
    """The Handle answer for ``handle`` once the live indexer has reached it."""

    def answer() -> dict[str, Any] | None:
        found = httpx.get(f"{url}/api/handles/{handle}", timeout=10)
        return dict(found.json()) if found.status_code == 200 else None

    return eventually(answer, f"{handle} resolving", timeout=RESOLVE_TIMEOUT)


def _status(data_dir: Path) -> dict[str, Any]:
    result = run_idfuse("node", "status", "--data-dir", str(data_dir), "--json")
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def _one_line_failure(result_stderr: str, output: str) -> str:
    assert "Traceback" not in output
    errors = [line for line in result_stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result_stderr
    return errors[0]


def test_start_register_resolve_status_stop_resume(tmp_path: Path, processes: list[IdfuseProcess]) -> None:
    data_dir = tmp_path / "node"
    node = _start(data_dir, tmp_path, "node")
    processes.append(node)
    endpoints = node.wait_ready("resolver_url")
    assert endpoints["rpc_url"].startswith("http://127.0.0.1:")
    assert endpoints["dev_account"]["keystore"] == str(data_dir / "dev-account.keystore.json")
    registered = register_identifier(data_dir, endpoints, "77", "F-1", "https://example.com/fused")
    validator, created, head = registered.validator, registered.created_tx, registered.head

    answer = _resolve(endpoints["resolver_url"], "77/F-1")
    by_index = {value["index"]: value for value in answer["values"]}
    assert by_index[1]["data"] == {"format": "string", "value": "https://example.com/fused"}
    assert by_index[1]["provenance"]["tx_hash"] == created
    native = httpx.get(f"{endpoints['resolver_url']}/v1/identifiers/77/F-1", timeout=10).json()
    assert native["provenance"]["chain_id"] == endpoints["chain_id"]

    status = _status(data_dir)
    assert status["head"] >= head
    assert status["indexed"] >= head
    assert status["lag"] == status["head"] - status["indexed"]
    assert status["counts"]["prefixes"] == 1
    assert status["counts"]["identifiers"] == 1
    assert status["peers"] == 0
    assert [v.lower() for v in status["validators"]] == [validator.address.lower()]
    readable = run_idfuse("node", "status", "--data-dir", str(data_dir))
    assert readable.returncode == 0
    assert "peers        0 (a single-validator node)" in readable.stdout
    # Found as the client commands find their node: --node, $IDFUSE_NODE (a directory or its
    # endpoints.json), over the default data directory.
    elsewhere = {"IDFUSE_DATA_DIR": str(tmp_path / "no-node-here")}
    for args, env in (
        (("--node", str(data_dir)), elsewhere),
        ((), {**elsewhere, "IDFUSE_NODE": str(data_dir)}),
        ((), {**elsewhere, "IDFUSE_NODE": str(data_dir / "endpoints.json")}),
    ):
        found = run_idfuse("node", "status", *args, "--json", env=env)
        assert found.returncode == 0, found.stderr
        assert json.loads(found.stdout)["rpc_url"] == endpoints["rpc_url"]

    second = run_idfuse(
        "node", "start", "--data-dir", str(data_dir), "--rpc-port", "0", "--resolver-port", "0"
    )
    assert second.returncode == 1
    assert "locked" in _one_line_failure(second.stderr, second.stdout + second.stderr)

    assert node.stop(signal.SIGTERM) == 0
    output = node.output()
    assert "node stopped" in output
    assert "Traceback" not in output
    assert run_idfuse("node", "status", "--data-dir", str(data_dir)).returncode == 1

    again = _start(data_dir, tmp_path, "again")
    processes.append(again)
    resumed = again.wait_ready("resolver_url")
    answer = _resolve(resumed["resolver_url"], "77/F-1")
    assert {value["index"]: value for value in answer["values"]}[1]["provenance"]["tx_hash"] == created
    w3 = Web3(Web3.HTTPProvider(resumed["rpc_url"]))
    assert w3.eth.block_number >= head
    assert _status(data_dir)["indexed"] >= head
    assert again.stop(signal.SIGTERM) == 0
    assert "node stopped" in again.output()


def test_a_taken_port_fails_in_one_line_and_leaves_nothing_running(tmp_path: Path) -> None:
    data_dir = tmp_path / "node"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_idfuse(
            "node", "start", "--data-dir", str(data_dir), "--rpc-port", "0", "--resolver-port", str(port)
        )
    assert result.returncode == 1
    assert _one_line_failure(result.stderr, result.stdout + result.stderr) == (
        f"error: the resolver did not start on 127.0.0.1:{port} (is the port in use?)"
    )
    # The process has exited (so nothing of it runs) without announcing a node.
    assert not (data_dir / "endpoints.json").exists()
    status = run_idfuse("node", "status", "--data-dir", str(data_dir))
    assert status.returncode == 1


def test_status_without_a_node_is_one_line(tmp_path: Path) -> None:
    result = run_idfuse("node", "status", "--data-dir", str(tmp_path / "none"))
    assert result.returncode == 1
    assert _one_line_failure(result.stderr, result.stdout + result.stderr).startswith(
        "error: no node is running at "
    )
    assert result.stdout == ""


def test_the_default_data_dir_comes_from_idfuse_data_dir(tmp_path: Path) -> None:
    chosen = tmp_path / "chosen"
    result = run_idfuse("node", "status", env={"IDFUSE_DATA_DIR": str(chosen)})
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: no node is running at {chosen} (no endpoints.json)"
