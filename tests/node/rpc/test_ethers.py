"""ethers.js v6 (npm, contracts/node_modules) against the JSON-RPC server and a running producer.

A Node script deploys the Consortium, sends a transaction, waits for its receipt, calls a view,
decodes a custom-error revert with the contract's Interface and filters logs; this test checks
its JSON summary against the ledger. scripts/bootstrap installs node's ethers with `npm ci`.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from eth_utils import to_checksum_address

from idfuse_node.ledger.bootstrap import bootstrap_registries
from idfuse_node.ledger.chain import Ledger
from idfuse_node.ledger.producer import BlockProducer
from idfuse_node.ledger.txpool import TxPool
from idfuse_node.rpc import RpcContext, RpcServer
from idfuse_sdk import qbft
from idfuse_sdk.contracts.artifacts import load
from tests.node.devchain import (
    CHAIN_ID,
    FUNDS,
    SENDER,
    SENDER_KEY,
    T0,
    VALIDATOR,
    VALIDATOR_KEY,
    make_genesis,
)

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).with_name("ethers_client.mjs")
ARTIFACT = ROOT / "sdk" / "idfuse_sdk" / "contracts" / "compiled" / "Consortium.json"
CONSORTIUM = load("Consortium")


def node_with_ethers() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: install Node.js 20 and run scripts/bootstrap")
    if not (ROOT / "contracts" / "node_modules" / "ethers" / "package.json").is_file():
        pytest.fail("ethers is not installed in contracts/node_modules: run scripts/bootstrap")
    return node


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    genesis = make_genesis({VALIDATOR: FUNDS, SENDER: FUNDS})
    ledger = Ledger.open(tmp_path_factory.mktemp("ethers-ledger"), genesis, VALIDATOR_KEY)
    contracts = bootstrap_registries(ledger, VALIDATOR_KEY, [SENDER], timestamp=T0 + 1)
    pool = TxPool(ledger, contracts["Consortium"])
    context = RpcContext(ledger, pool)
    producer = BlockProducer(ledger, pool, period_seconds=0.05, lock=context.lock)
    server = RpcServer(context)
    server.start()
    producer.start()
    try:
        yield ledger, server.url
    finally:
        producer.stop(timeout=10)
        server.stop()
        ledger.close()


@pytest.fixture(scope="module")
def summary(served):
    node = node_with_ethers()
    _, url = served
    completed = subprocess.run(
        [node, str(SCRIPT), url, "0x" + SENDER_KEY.to_bytes().hex(), str(ARTIFACT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_ethers_is_v6_and_reads_the_chain_id_and_qbft_blocks(served, summary):
    ledger, _ = served
    assert summary["ethersVersion"].startswith("6.")
    assert summary["chainId"] == str(CHAIN_ID)
    genesis = ledger.chain.get_canonical_block_header_by_number(0)
    assert summary["genesis"]["hash"] == "0x" + genesis.hash.hex()
    assert summary["genesis"]["extraData"] == "0x" + genesis.extra_data.hex()
    latest = summary["latest"]
    header = ledger.chain.get_canonical_block_header_by_number(latest["number"])
    assert len(header.extra_data) > 32  # QBFT extraData, longer than a proof-of-work client allows
    assert latest["extraData"] == "0x" + header.extra_data.hex()
    assert latest["hash"] == "0x" + header.hash.hex()
    assert qbft.verify_header(header, (VALIDATOR,)).signers == (VALIDATOR,)
    assert latest["miner"] == to_checksum_address(VALIDATOR)


def test_ethers_deploys_sends_and_waits_for_receipts(served, summary):
    ledger, _ = served
    deploy = summary["deploy"]
    assert deploy["status"] == 1
    assert deploy["contractAddress"] == deploy["address"]
    code = ledger.state().get_code(bytes.fromhex(deploy["address"][2:]))
    assert len(code) == len(bytes.fromhex(CONSORTIUM.deployed_bytecode.removeprefix("0x")))
    send = summary["send"]
    assert send["type"] == 2
    assert send["status"] == 1
    assert send["logs"] == 1
    assert send["blockNumber"] > deploy["blockNumber"]
    assert send["blockHash"] == send["minedBlockHash"]
    assert send["hash"] in send["minedTransactions"]
    stored = ledger.receipt(bytes.fromhex(send["hash"][2:]))
    assert len(stored.logs) == 1
    assert 0 < int(send["gasUsed"]) <= stored.gas_used  # the stored receipt's gas is cumulative


def test_ethers_calls_a_view(summary):
    assert summary["view"] == {"allowed": True, "stranger": False}


def test_ethers_decodes_a_custom_error_revert_with_the_interface(summary):
    member = summary["member"]
    expected = {"name": "ConsortiumAlreadyMember", "args": [to_checksum_address(member)]}
    revert = summary["revert"]
    assert revert["code"] == "CALL_EXCEPTION"
    assert {"name": revert["name"], "args": revert["args"]} == expected
    assert summary["estimateRevert"] == expected


def test_ethers_filters_logs(summary):
    events = summary["events"]
    assert events == [
        {
            "name": "MemberAdded",
            "args": [to_checksum_address(summary["member"]), "Member org", "1"],
            "blockNumber": summary["send"]["blockNumber"],
            "tx": summary["send"]["hash"],
        }
    ]
    # The constructor adds the wallet as the first member; the transaction adds a second.
    assert summary["rawLogs"] == 2
