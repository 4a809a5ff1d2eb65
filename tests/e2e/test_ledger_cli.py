"""`idfuse ledger` as a user runs it: the real console script in a subprocess, a real data
directory, web3.py over HTTP."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.middleware import ExtraDataToPOAMiddleware

from idfuse_sdk.keystore import load_key, read_password_file
from tests.e2e.processes import IdfuseProcess, run, run_idfuse

BLOCK_PERIOD = "0.2"
RECIPIENT = "0x" + "22" * 20


def _idfuse(*args: str) -> subprocess.CompletedProcess[str]:
    return run_idfuse(*args)


class Node(IdfuseProcess):
    """One `idfuse ledger start` process."""

    def __init__(self, data_dir: Path, log_dir: Path, name: str) -> None:
        self.data_dir = data_dir
        args = ["ledger", "start", "--data-dir", str(data_dir), "--rpc-port", "0"]
        args += ["--block-period", BLOCK_PERIOD]
        super().__init__(args, data_dir / "endpoints.json", log_dir, name)


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[list[Node]]:
    started: list[Node] = []
    yield started
    for node in started:
        if node.process.poll() is None:
            node.process.kill()
            node.process.wait(timeout=30)


def _start(nodes: list[Node], data_dir: Path, log_dir: Path) -> Node:
    node = Node(data_dir, log_dir, f"node{len(nodes)}")
    nodes.append(node)
    return node


def _web3(endpoints: dict[str, Any]) -> Web3:
    w3 = Web3(Web3.HTTPProvider(endpoints["rpc_url"], request_kwargs={"timeout": 10}))
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3


def _dev_account(endpoints: dict[str, Any]) -> Any:
    dev = endpoints["dev_account"]
    return load_key(dev["keystore"], read_password_file(dev["password_file"]))


def _transfer(w3: Web3, account: Any, nonce: int, chain_id: int) -> bytes:
    signed = account.sign_transaction(
        {
            "type": 2,
            "chainId": chain_id,
            "nonce": nonce,
            "to": Web3.to_checksum_address(RECIPIENT),
            "value": 1,
            "gas": 21_000,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 1,
        }
    )
    return bytes(w3.eth.send_raw_transaction(signed.raw_transaction))


def test_init_creates_private_files(tmp_path: Path) -> None:
    data_dir = tmp_path / "ledger"
    result = _idfuse("ledger", "init", "--data-dir", str(data_dir), "--chain-id", "4242")
    assert result.returncode == 0, result.stderr
    assert data_dir.stat().st_mode & 0o777 == 0o700
    names = {
        "genesis.json",
        "validator.keystore.json",
        "validator.password",
        "dev-account.keystore.json",
        "dev-account.password",
    }
    assert {path.name for path in data_dir.iterdir()} == names
    for name in names:
        assert (data_dir / name).stat().st_mode & 0o777 == 0o600, name
    genesis = json.loads((data_dir / "genesis.json").read_text())
    assert genesis["chainId"] == 4242
    assert len(genesis["validators"]) == 1
    dev = load_key(
        data_dir / "dev-account.keystore.json", read_password_file(data_dir / "dev-account.password")
    )
    assert int(genesis["alloc"][dev.address.lower()]["balance"], 16) > 0


def test_init_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "ledger"
    assert _idfuse("ledger", "init", "--data-dir", str(data_dir)).returncode == 0
    before = {path.name: path.read_bytes() for path in data_dir.iterdir()}
    result = _idfuse("ledger", "init", "--data-dir", str(data_dir))
    assert result.returncode == 1
    assert "not empty" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert {path.name: path.read_bytes() for path in data_dir.iterdir()} == before


def test_start_serve_stop_restart(tmp_path: Path, nodes: list[Node]) -> None:
    data_dir = tmp_path / "ledger"
    first = _start(nodes, data_dir, tmp_path)
    endpoints = first.wait_ready()
    w3 = _web3(endpoints)
    assert w3.eth.chain_id == endpoints["chain_id"] == 1337
    contracts = endpoints["contracts"]
    assert set(contracts) == {"Consortium", "PrefixRegistry", "IdentifierRegistry"}
    for address in contracts.values():
        assert len(w3.eth.get_code(address)) > 0

    account = _dev_account(endpoints)
    assert account.address == endpoints["dev_account"]["address"]
    tx_hash = _transfer(w3, account, w3.eth.get_transaction_count(account.address), w3.eth.chain_id)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=20, poll_latency=0.05)
    assert receipt["status"] == 1
    assert w3.eth.get_balance(Web3.to_checksum_address(RECIPIENT)) == 1

    # A second node on the same directory is refused while the first runs.
    second = _idfuse("ledger", "start", "--data-dir", str(data_dir), "--rpc-port", "0")
    assert second.returncode == 1
    assert "locked" in second.stderr
    assert "Traceback" not in second.stdout + second.stderr
    assert w3.eth.block_number >= receipt["blockNumber"]  # the first is still serving

    assert first.stop(signal.SIGTERM) == 0
    assert "stopped" in first.output()
    assert "Traceback" not in first.output()
    head = receipt["blockNumber"]

    again = _start(nodes, data_dir, tmp_path)
    resumed = again.wait_ready()
    assert resumed["contracts"] == contracts
    w3 = _web3(resumed)
    assert w3.eth.block_number >= head
    assert w3.eth.get_transaction_receipt(tx_hash)["blockNumber"] == head
    assert again.stop(signal.SIGINT) == 0

    # No password or private key is ever printed.
    printed = first.output() + again.output() + second.stdout + second.stderr
    for stem in ("validator", "dev-account"):
        password = read_password_file(data_dir / f"{stem}.password")
        key = load_key(data_dir / f"{stem}.keystore.json", password).key.hex()
        assert password not in printed
        assert key.removeprefix("0x").lower() not in printed.lower()


def test_kill_9_keeps_every_acknowledged_transaction(tmp_path: Path, nodes: list[Node]) -> None:
    data_dir = tmp_path / "ledger"
    node = _start(nodes, data_dir, tmp_path)
    endpoints = node.wait_ready()
    w3 = _web3(endpoints)
    account = _dev_account(endpoints)
    chain_id = w3.eth.chain_id
    sent: list[bytes] = []
    acknowledged: dict[bytes, int] = {}
    deadline = time.monotonic() + 20
    while len(acknowledged) < 8 and time.monotonic() < deadline:
        sent.append(_transfer(w3, account, len(sent), chain_id))
        for tx_hash in sent:
            if tx_hash not in acknowledged:
                with contextlib.suppress(TransactionNotFound):
                    acknowledged[tx_hash] = w3.eth.get_transaction_receipt(tx_hash)["blockNumber"]
        time.sleep(0.02)
    assert len(acknowledged) >= 8
    node.process.send_signal(signal.SIGKILL)
    assert node.process.wait(timeout=30) == -signal.SIGKILL

    restarted = _start(nodes, data_dir, tmp_path)
    w3 = _web3(restarted.wait_ready())
    for tx_hash, block_number in acknowledged.items():
        assert w3.eth.get_transaction_receipt(tx_hash)["blockNumber"] == block_number
    nonce = w3.eth.get_transaction_count(account.address)
    assert nonce >= len(acknowledged)
    tx_hash = _transfer(w3, account, nonce, chain_id)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=20, poll_latency=0.05)
    assert receipt["blockNumber"] > max(acknowledged.values())
    assert restarted.stop() == 0


def test_start_refuses_a_directory_that_is_not_a_data_directory(tmp_path: Path) -> None:
    (tmp_path / "stray.txt").write_text("not a node\n")
    result = _idfuse("ledger", "start", "--data-dir", str(tmp_path), "--rpc-port", "0")
    assert result.returncode == 1
    assert "not an idfuse data directory" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["stray.txt"]


def test_ledger_without_the_node_extra_says_how_to_install_it() -> None:
    script = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("eth", "plyvel", "uvicorn"):
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
sys.argv = ["idfuse", "ledger", "start", "--data-dir", "x"]
from idfuse_sdk.cli.app import main
main()
"""
    result = run([sys.executable, "-c", script], name="ledger without the node extra")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: idfuse ledger needs the node extra: pip install 'idfuse[node]'"


def test_start_refuses_damaged_chain_storage(tmp_path: Path) -> None:
    data_dir = tmp_path / "ledger"
    assert _idfuse("ledger", "init", "--data-dir", str(data_dir)).returncode == 0
    (data_dir / "chain").write_text("not a database\n")
    result = _idfuse("ledger", "start", "--data-dir", str(data_dir), "--rpc-port", "0")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith("error: ")
    assert "not a LevelDB database" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert (data_dir / "chain").read_text() == "not a database\n"  # never started empty over it
    assert not (data_dir / "endpoints.json").exists()


def test_start_refuses_a_corrupt_database(tmp_path: Path, nodes: list[Node]) -> None:
    data_dir = tmp_path / "ledger"
    node = _start(nodes, data_dir, tmp_path)
    node.wait_ready()
    assert node.stop() == 0
    for manifest in (data_dir / "chain").glob("MANIFEST-*"):
        manifest.write_bytes(b"\xff" * 64)
    result = _idfuse("ledger", "start", "--data-dir", str(data_dir), "--rpc-port", "0")
    assert result.returncode == 1
    assert "corrupt" in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stdout + result.stderr


def test_start_on_a_port_in_use_fails_in_one_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "ledger"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _idfuse("ledger", "start", "--data-dir", str(data_dir), "--rpc-port", str(port))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: the JSON-RPC server did not start on 127.0.0.1:{port} (is the port in use?)"
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert not (data_dir / "endpoints.json").exists()
