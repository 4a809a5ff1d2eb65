"""The README's read side, as an operator runs it: `idfuse ledger start`, writes through web3,
`idfuse indexer` until it has caught up, `idfuse resolver`, then Handle REST and /v1 answers
whose provenance names the transactions that made them."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx

from tests.e2e.processes import IdfuseProcess
from tests.e2e.registry_writes import register_identifier

CATCH_UP_TIMEOUT = 60.0


def _index_until(
    processes: list[IdfuseProcess], data_dir: Path, rpc_url: str, log_dir: Path, block: int
) -> None:
    """Run `idfuse indexer` until it says it caught up at ``block`` or beyond, then stop it."""
    args = ["indexer", "--rpc", rpc_url, "--data-dir", str(data_dir)]
    indexer = IdfuseProcess(args, data_dir / "endpoints.json", log_dir, "indexer")
    processes.append(indexer)
    deadline = time.monotonic() + CATCH_UP_TIMEOUT
    while not any(
        int(line.rsplit(" ", 1)[1]) >= block
        for line in indexer.output().splitlines()
        if "caught up at block " in line
    ):
        assert time.monotonic() < deadline, f"the indexer did not reach block {block}: {indexer.output()}"
        time.sleep(0.05)
    assert indexer.stop(signal.SIGTERM) == 0, indexer.output()
    output = indexer.output()
    assert "Traceback" not in output
    stopped = [line for line in output.splitlines() if line.startswith("indexer stopped at block ")]
    assert stopped, output
    assert int(stopped[-1].rsplit(" ", 1)[1]) >= block


def test_ledger_indexer_resolver(tmp_path: Path, processes: list[IdfuseProcess]) -> None:
    data_dir = tmp_path / "node"
    args = ["ledger", "start", "--data-dir", str(data_dir), "--rpc-port", "0"]
    ledger = IdfuseProcess(args, data_dir / "endpoints.json", tmp_path, "ledger")
    processes.append(ledger)
    endpoints = ledger.wait_ready("rpc_url")
    registered = register_identifier(data_dir, endpoints, "88", "PN-1", "https://example.com/pn-1")
    dev, created, head = registered.owner, registered.created_tx, registered.head

    _index_until(processes, data_dir, endpoints["rpc_url"], tmp_path, head)

    resolver = IdfuseProcess(
        ["resolver", "--data-dir", str(data_dir), "--port", "0"],
        data_dir / "endpoints.json",
        tmp_path,
        "resolver",
    )
    processes.append(resolver)
    url = resolver.wait_ready("resolver_url")["resolver_url"]
    answer = httpx.get(f"{url}/api/handles/88/PN-1", timeout=10).json()
    assert answer["responseCode"] == 1
    by_index = {value["index"]: value for value in answer["values"]}
    assert by_index[1]["data"] == {"format": "string", "value": "https://example.com/pn-1"}
    assert by_index[1]["provenance"]["tx_hash"] == created
    assert by_index[100]["type"] == "HS_ADMIN"
    native = httpx.get(f"{url}/v1/identifiers/88/PN-1", timeout=10).json()
    assert native["provenance"]["tx_hash"] == created
    assert native["provenance"]["chain_id"] == endpoints["chain_id"]
    prefix = httpx.get(f"{url}/v1/prefixes/88", timeout=10).json()
    assert prefix["prefix"]["owner"] == dev.address
    assert prefix["prefix"]["effective_status"] == "active"
    assert httpx.get(f"{url}/api/handles/88/PN-2", timeout=10).status_code == 404
    assert resolver.stop(signal.SIGTERM) == 0
    assert ledger.stop(signal.SIGTERM) == 0
