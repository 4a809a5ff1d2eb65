"""Receipts of a block with several log-emitting transactions, fetched one by one."""

import pytest
from eth_abi import encode
from eth_utils import keccak
from web3 import Web3
from web3.middleware import ExtraDataToPOAMiddleware

from idfuse_node.ledger.chain import Ledger
from idfuse_node.rpc import RpcContext, RpcServer
from tests.node.devchain import GENESIS, SENDER, SENDER_KEY, T0, VALIDATOR_KEY, signed_tx
from tests.node.rpc.conftest import CONSORTIUM, CONTRACT

MEMBERS = [bytes([0x40 + i]) * 20 for i in range(4)]


@pytest.fixture
def busy_block(tmp_path):
    """Block 2 holds four bootstrapAddMember calls, each emitting one MemberAdded log."""
    ledger = Ledger.open(tmp_path, GENESIS, VALIDATOR_KEY)
    init_code = bytes.fromhex(CONSORTIUM.bytecode[2:]) + encode(
        ["address", "string", "uint8", "uint64"], [SENDER, "Org", 1, 3600]
    )
    ledger.build_block([signed_tx(ledger, SENDER_KEY, 0, data=init_code, gas=5_000_000)], timestamp=T0 + 1)
    selector = keccak(b"bootstrapAddMember(address,string,uint8)")[:4]
    adds = [
        signed_tx(
            ledger,
            SENDER_KEY,
            1 + i,
            to=CONTRACT,
            data=selector + encode(["address", "string", "uint8"], [member, f"Org {i}", 2]),
            gas=1_000_000,
        )
        for i, member in enumerate(MEMBERS)
    ]
    ledger.build_block(adds, timestamp=T0 + 2)
    context = RpcContext(ledger)
    server = RpcServer(context)
    server.start()
    try:
        w3 = Web3(Web3.HTTPProvider(server.url))
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        yield w3, [tx.hash for tx in adds], context
    finally:
        server.stop()
        ledger.close()


def test_each_receipt_numbers_its_logs_block_wide(busy_block):
    w3, hashes, _ = busy_block
    logs = w3.eth.get_logs({"blockHash": w3.eth.get_block(2)["hash"]})
    assert [log["logIndex"] for log in logs] == [0, 1, 2, 3]
    for _ in range(2):  # the second pass reads the block from the RPC server's cache
        receipts = [w3.eth.get_transaction_receipt(tx_hash) for tx_hash in hashes]
        assert [r["transactionIndex"] for r in receipts] == [0, 1, 2, 3]
        assert [[log["logIndex"] for log in r["logs"]] for r in receipts] == [[0], [1], [2], [3]]
        assert [r["logs"][0] for r in receipts] == logs
        gas = [r["gasUsed"] for r in receipts]
        assert receipts[-1]["cumulativeGasUsed"] == sum(gas)


def test_get_logs_refuses_more_results_than_the_cap(busy_block):
    w3, _, context = busy_block
    context.max_log_results = 3
    for query in (
        {"fromBlock": "0x0", "toBlock": "latest"},
        {"blockHash": w3.eth.get_block(2)["hash"].to_0x_hex()},
    ):
        reply = w3.provider.make_request("eth_getLogs", [query])
        assert reply["error"]["code"] == -32005
        assert "more than 3 results" in reply["error"]["message"]
    context.max_log_results = 4  # block 2's four logs fit; the deployment's in block 1 do not
    assert len(w3.eth.get_logs({"blockHash": w3.eth.get_block(2)["hash"]})) == 4
    reply = w3.provider.make_request("eth_getLogs", [{"fromBlock": "0x0", "toBlock": "latest"}])
    assert reply["error"] == {
        "code": -32005,
        "message": "query returned more than 4 results in blocks 0-2: narrow the block range or the filter",
    }
    assert len(w3.eth.get_logs({"fromBlock": 2, "toBlock": 2})) == 4
