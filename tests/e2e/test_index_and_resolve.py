"""The README's read side, as an operator runs it: `idfuse ledger start`, writes through web3,
`idfuse indexer` until it has caught up, `idfuse resolver`, then Handle REST and /v1 answers
whose provenance names the transactions that made them."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3
from web3.middleware import ExtraDataToPOAMiddleware

from idfuse_sdk.encoding import HandleValue, encode_values
from idfuse_sdk.identifiers import prefix_node
from idfuse_sdk.keystore import load_key, read_password_file
from tests.e2e.processes import IdfuseProcess

CATCH_UP_TIMEOUT = 60.0


@pytest.fixture
def processes() -> Iterator[list[IdfuseProcess]]:
    started: list[IdfuseProcess] = []
    yield started
    for process in started:
        process.kill()


def _send(w3: Web3, account: Any, to: str, signature: str, types: list[str], args: list[Any]) -> str:
    data = function_signature_to_4byte_selector(signature) + encode(types, args)
    signed = account.sign_transaction(
        {
            "type": 2,
            "chainId": w3.eth.chain_id,
            "nonce": w3.eth.get_transaction_count(account.address, "pending"),
            "to": to,
            "value": 0,
            "data": data,
            "gas": 1_000_000,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 1,
        }
    )
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    assert w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.05)["status"] == 1
    return tx_hash.to_0x_hex()


def _index_until(
    processes: list[IdfuseProcess], data_dir: Path, rpc_url: str, log_dir: Path, block: int
) -> None:
    """Run `idfuse indexer` in spells until it stops at or beyond ``block``."""
    deadline = time.monotonic() + CATCH_UP_TIMEOUT
    while time.monotonic() < deadline:
        args = ["indexer", "--rpc", rpc_url, "--data-dir", str(data_dir)]
        indexer = IdfuseProcess(args, data_dir / "endpoints.json", log_dir, f"indexer{len(processes)}")
        processes.append(indexer)
        time.sleep(2)
        assert indexer.stop(signal.SIGTERM) == 0, indexer.output()
        output = indexer.output()
        assert "Traceback" not in output
        stopped = [line for line in output.splitlines() if line.startswith("indexer stopped at block ")]
        assert stopped, output
        if int(stopped[-1].rsplit(" ", 1)[1]) >= block:
            return
    pytest.fail(f"the indexer did not reach block {block} within {CATCH_UP_TIMEOUT} s")


def test_ledger_indexer_resolver(tmp_path: Path, processes: list[IdfuseProcess]) -> None:
    data_dir = tmp_path / "node"
    args = ["ledger", "start", "--data-dir", str(data_dir), "--rpc-port", "0"]
    ledger = IdfuseProcess(args, data_dir / "endpoints.json", tmp_path, "ledger")
    processes.append(ledger)
    endpoints = ledger.wait_ready("rpc_url")
    w3 = Web3(Web3.HTTPProvider(endpoints["rpc_url"]))
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    validator = Account.from_key(
        load_key(
            data_dir / "validator.keystore.json", read_password_file(data_dir / "validator.password")
        ).key
    )
    dev = load_key(
        Path(endpoints["dev_account"]["keystore"]),
        read_password_file(Path(endpoints["dev_account"]["password_file"])),
    )
    contracts = endpoints["contracts"]
    _send(
        w3,
        validator,
        contracts["Consortium"],
        "bootstrapAllocatePrefix(string,address,uint64)",
        ["string", "address", "uint64"],
        ["88", dev.address, 0],
    )
    values = [HandleValue(index=1, type="URL", data=b"https://example.com/pn-1")]
    created = _send(
        w3,
        dev,
        contracts["IdentifierRegistry"],
        "createIdentifier(bytes32,string,bytes32,bytes)",
        ["bytes32", "string", "bytes32", "bytes"],
        [prefix_node("88"), "PN-1", bytes(32), encode_values(values)],
    )
    head = w3.eth.block_number

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
