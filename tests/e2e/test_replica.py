"""A read replica as an operator runs one: `idfuse resolver --rpc` following an `idfuse ledger`
in another process, into its own data directory. The ledger goes away (SIGTERM, then SIGKILL)
and comes back on the same port: the replica serves the last indexed state all along, says
that the endpoint is down (once per outage), and catches up when it returns."""

from __future__ import annotations

import json
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.middleware import ExtraDataToPOAMiddleware

from idfuse_node.cli import following
from idfuse_node.fusion.indexing import IndexerThread
from idfuse_node.indexer import follower
from idfuse_node.indexer.store import MemoryIndexStore
from idfuse_node.rpc import RpcServer
from idfuse_sdk.encoding import HandleValue, encode_values
from idfuse_sdk.identifiers import prefix_node
from tests.e2e.processes import IdfuseProcess, run_idfuse
from tests.e2e.registry_writes import register_identifier, send
from tests.node.indexer.chainfixture import RegistryChain, registry_chain  # noqa: F401

TIMEOUT = 60.0
PREFIX = "88"


def _ledger(
    processes: list[IdfuseProcess], data_dir: Path, log_dir: Path, port: int = 0
) -> tuple[IdfuseProcess, dict[str, Any]]:
    """Start `idfuse ledger start` on ``data_dir`` and ``port``; the process and its endpoints
    once it serves."""
    args = ["ledger", "start", "--data-dir", str(data_dir), "--rpc-port", str(port), "--block-period", "0.2"]
    ledger = IdfuseProcess(args, data_dir / "endpoints.json", log_dir, f"ledger{len(processes)}")
    processes.append(ledger)
    return ledger, ledger.wait_ready("rpc_url")


def _replica(
    processes: list[IdfuseProcess], data_dir: Path, log_dir: Path, rpc_url: str, endpoints: Path
) -> tuple[IdfuseProcess, str]:
    """Start `idfuse resolver --rpc`; the process and its URL once it serves."""
    args = [
        "resolver",
        "--data-dir",
        str(data_dir),
        "--port",
        "0",
        "--rpc",
        rpc_url,
        "--endpoints",
        str(endpoints),
    ]
    replica = IdfuseProcess(args, data_dir / "endpoints.json", log_dir, f"replica{len(processes)}")
    processes.append(replica)
    return replica, replica.wait_ready("resolver_url")["resolver_url"]


def _create(endpoints: dict[str, Any], owner: LocalAccount, suffix: str) -> None:
    """Create ``PREFIX/suffix`` with one URL value (the prefix is ``owner``'s)."""
    w3 = Web3(Web3.HTTPProvider(endpoints["rpc_url"]))
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    values = [HandleValue(index=1, type="URL", data=f"https://example.com/{suffix}".encode())]
    send(
        w3,
        owner,
        endpoints["contracts"]["IdentifierRegistry"],
        "createIdentifier(bytes32,string,bytes32,bytes)",
        ["bytes32", "string", "bytes32", "bytes"],
        [prefix_node(PREFIX), suffix, bytes(32), encode_values(values)],
    )


def _get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=10)


def _until(what: str, check: Callable[[], Any], replica: IdfuseProcess) -> Any:
    """``check()`` once it is truthy (the replica must keep running meanwhile)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        found = check()
        if found:
            return found
        assert replica.process.poll() is None, f"the replica exited: {replica.output()}"
        assert time.monotonic() < deadline, f"not within {TIMEOUT}s: {what}: {replica.output()}"
        time.sleep(0.1)


def _resolves(url: str, suffix: str) -> bool:
    answer = _get(f"{url}/api/handles/{PREFIX}/{suffix}")
    return answer.status_code == 200 and answer.json()["responseCode"] == 1


def _state(url: str, suffixes: list[str]) -> dict[str, Any]:
    """What the replica answers for ``suffixes`` (Handle API and /v1), without the checkpoint
    each answer carries (it moves with every indexed block)."""
    state: dict[str, Any] = {}
    for suffix in suffixes:
        for route in (f"/api/handles/{PREFIX}/{suffix}", f"/v1/identifiers/{PREFIX}/{suffix}"):
            answer = _get(url + route)
            assert answer.status_code == 200, answer.text
            document = answer.json()
            document.pop("checkpoint", None)
            state[route] = document
    return state


def _endpoint_down(url: str) -> dict[str, Any] | None:
    """``/v1/checkpoint`` once it says the chain endpoint is unreachable."""
    document: dict[str, Any] = _get(f"{url}/v1/checkpoint").json()
    return document if document["endpoint"]["reachable"] is False else None


def _outage_lines(replica: IdfuseProcess) -> tuple[int, int]:
    """How many times the replica logged that the endpoint went away, and came back."""
    lines = replica.output().splitlines()
    return (
        sum("is unreachable" in line for line in lines),
        sum("answers again" in line for line in lines),
    )


def test_a_replica_serves_through_outages_and_catches_up(
    tmp_path: Path, processes: list[IdfuseProcess]
) -> None:
    ledger_dir, replica_dir = tmp_path / "ledger", tmp_path / "replica"
    ledger, endpoints = _ledger(processes, ledger_dir, tmp_path)
    rpc_url = endpoints["rpc_url"]
    port = int(rpc_url.rsplit(":", 1)[1])
    owner = register_identifier(ledger_dir, endpoints, PREFIX, "PN-0", "https://example.com/PN-0").owner
    _create(endpoints, owner, "PN-1")
    replica, url = _replica(processes, replica_dir, tmp_path, rpc_url, ledger_dir / "endpoints.json")
    suffixes = ["PN-0", "PN-1"]
    _until("the replica resolves what was written", lambda: all(_resolves(url, s) for s in suffixes), replica)

    for outage, how in enumerate((signal.SIGTERM, signal.SIGKILL), start=1):
        assert ledger.stop(how) == (0 if how == signal.SIGTERM else -signal.SIGKILL)
        down = _until("the replica notices the ledger is gone", lambda: _endpoint_down(url), replica)
        assert isinstance(down["endpoint"]["unreachable_since"], str)
        served = _state(url, suffixes)
        checkpoint = down["checkpoint"]
        assert checkpoint is not None
        assert isinstance(down["lag"], int)
        assert down["chain"]["chain_id"] == endpoints["chain_id"]

        # the ledger stays down a while: the replica retries, serves, and logs the outage once
        for _ in range(2):
            time.sleep(0.5)
            assert replica.process.poll() is None, replica.output()
            assert _state(url, suffixes) == served
            status = _get(f"{url}/v1/checkpoint").json()
            assert status["checkpoint"] == checkpoint
            assert status["endpoint"] == down["endpoint"]
            health = _get(f"{url}/health")
            assert health.status_code == 200
            assert health.json()["checkpoint"] == checkpoint
            assert health.json()["endpoint"] == down["endpoint"]
            assert health.json()["lag"] == down["lag"]
        assert "idfuse_resolver_chain_endpoint_up 0" in _get(f"{url}/metrics").text
        assert _outage_lines(replica) == (outage, outage - 1)

        # back on the same port and data directory: more writes, and the replica follows them
        ledger, _ = _ledger(processes, ledger_dir, tmp_path, port)
        suffix = f"PN-{outage + 1}"
        _create(endpoints, owner, suffix)
        _until(f"the replica resolves {suffix}", lambda suffix=suffix: _resolves(url, suffix), replica)
        suffixes.append(suffix)
        status = _get(f"{url}/v1/checkpoint").json()
        assert status["endpoint"] == {"reachable": True, "unreachable_since": None}
        assert status["checkpoint"]["block_number"] > checkpoint["block_number"]
        assert {
            route: document for route, document in _state(url, suffixes).items() if route in served
        } == served
        assert _outage_lines(replica) == (outage, outage)

    assert replica.stop(signal.SIGTERM) == 0
    output = replica.output()
    assert "resolver stopped" in output
    assert "Traceback" not in output

    # the replica's index follows this chain and these contracts: other contracts are refused
    other = json.loads((ledger_dir / "endpoints.json").read_text())
    registries = other["contracts"]
    registries["PrefixRegistry"], registries["IdentifierRegistry"] = (
        registries["IdentifierRegistry"],
        registries["PrefixRegistry"],
    )
    swapped = tmp_path / "swapped.json"
    swapped.write_text(json.dumps(other))
    args = ["--data-dir", str(replica_dir), "--port", "0", "--rpc", rpc_url, "--endpoints", str(swapped)]
    refused = run_idfuse("resolver", *args)
    assert refused.returncode == 1
    last = refused.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the indexer stopped: the index follows chain"), refused.stderr
    assert "use another index directory" in last
    assert "Traceback" not in refused.stdout + refused.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_replica_of_an_endpoint_that_never_answered_waits(
    tmp_path: Path, processes: list[IdfuseProcess]
) -> None:
    contracts = {name: "0x" + f"{n:02x}" * 20 for n, name in enumerate(follower.INDEXED_CONTRACTS, start=1)}
    endpoints = tmp_path / "endpoints.json"
    endpoints.write_text(json.dumps({"contracts": contracts}))
    rpc_url = f"http://127.0.0.1:{_free_port()}"
    replica, url = _replica(processes, tmp_path / "replica", tmp_path, rpc_url, endpoints)

    status = _until("the replica says nothing answers", lambda: _endpoint_down(url), replica)
    assert status["checkpoint"] is None
    assert status["chain"] is None
    assert status["head"] is None
    assert status["lag"] is None
    assert status["counts"] == {"prefixes": 0, "identifiers": 0, "batches": 0}
    health = _get(f"{url}/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "checkpoint": None, "lag": None, "endpoint": status["endpoint"]}
    missing = _get(f"{url}/api/handles/{PREFIX}/PN-0")
    assert missing.status_code == 404
    assert missing.json()["responseCode"] == 100
    time.sleep(2)  # several retries
    assert replica.process.poll() is None
    assert _outage_lines(replica) == (1, 0)
    assert replica.stop(signal.SIGTERM) == 0  # a stop cuts the retries short
    assert "Traceback" not in replica.output()


def test_a_replica_binds_once_its_endpoint_first_answers(registry_chain: RegistryChain) -> None:  # noqa: F811
    """In process, the same replica thread: nothing answers, then the endpoint comes up."""
    chain = registry_chain
    chain.allocate(PREFIX)
    port = chain.server.port
    chain.server.stop()
    contracts = {name: chain.address_of(name) for name in follower.INDEXED_CONTRACTS}
    replica = IndexerThread(f"http://127.0.0.1:{port}", MemoryIndexStore(), contracts, replica=True)
    replica.start()
    try:
        deadline = time.monotonic() + TIMEOUT
        while replica.unreachable_since() is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert replica.is_alive()
        assert replica.indexer is None
        assert replica.head() is None
        assert replica.checkpoint() is None

        chain.server = RpcServer(chain.context, port=port)  # the fixture stops this one
        chain.server.start()
        head = chain.ledger.head().block_number
        while (checkpoint := replica.checkpoint()) is None or checkpoint.number < head:
            assert time.monotonic() < deadline, replica.error
            time.sleep(0.05)
        assert replica.unreachable_since() is None
        assert replica.head() is not None
        assert replica.head() >= head
    finally:
        replica.stop()
    assert replica.error is None
    assert not replica.is_alive()


def test_the_options_defaults_are_the_indexers() -> None:
    assert following.DEFAULT_FINALITY_DEPTH == follower.DEFAULT_FINALITY_DEPTH
    assert following.DEFAULT_BATCH_BLOCKS == follower.DEFAULT_BATCH_BLOCKS
    assert following.DEFAULT_POLL_INTERVAL == follower.IDLE_SECONDS
    assert following.DEFAULT_COMPACT_AFTER_MIB << 20 == follower.DEFAULT_COMPACT_AFTER
