"""eth_sendRawTransaction and the pending nonce through the transaction pool, driven by web3.py."""

import httpx
import pytest
from eth_abi import encode
from eth_account import Account
from eth_keys import keys
from eth_utils import to_checksum_address, to_wei
from web3 import HTTPProvider, Web3
from web3.exceptions import Web3RPCError
from web3.middleware import ExtraDataToPOAMiddleware

from idfuse_node.ledger.chain import Ledger
from idfuse_node.ledger.genesis import GenesisConfig
from idfuse_node.ledger.producer import BlockProducer
from idfuse_node.ledger.txpool import TxPool
from idfuse_node.rpc import RpcContext, RpcServer
from tests.node.devchain import CHAIN_ID, SENDER_KEY, T0
from tests.node.rpc.conftest import CONSORTIUM

VALIDATOR_KEY = keys.PrivateKey(b"\x09" * 32)
VALIDATOR = to_checksum_address(VALIDATOR_KEY.public_key.to_canonical_address())
OUTSIDER = to_checksum_address(SENDER_KEY.public_key.to_canonical_address())


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    genesis = GenesisConfig(
        chain_id=CHAIN_ID,
        validators=(VALIDATOR_KEY.public_key.to_canonical_address(),),
        alloc={
            bytes.fromhex(VALIDATOR[2:]): to_wei(10, "ether"),
            bytes.fromhex(OUTSIDER[2:]): to_wei(10, "ether"),
        },
        timestamp=T0,
    )
    ledger = Ledger.open(tmp_path_factory.mktemp("pool-ledger"), genesis, VALIDATOR_KEY)
    pool = TxPool(ledger, None)
    context = RpcContext(ledger, pool)
    server = RpcServer(context)
    server.start()
    w3 = Web3(HTTPProvider(server.url))
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    try:
        yield ledger, pool, context, w3
    finally:
        server.stop()
        ledger.close()


def produce(ledger, pool, context):
    """One block from the pool, as the block producer makes it."""
    with context.lock:
        block, _ = ledger.build_block(pool.executable(ledger.head().gas_limit))
        pool.remove_included(block)
    return block


def sign(w3, key, nonce, **fields):
    transaction = {
        "chainId": CHAIN_ID,
        "nonce": nonce,
        "maxFeePerGas": 2 * w3.eth.get_block("latest")["baseFeePerGas"] + w3.eth.max_priority_fee,
        "maxPriorityFeePerGas": w3.eth.max_priority_fee,
        "gas": 21_000,
        "value": 0,
        **fields,
    }
    return Account.sign_transaction(transaction, key.to_bytes()).raw_transaction


def test_deploy_through_the_pool_and_read_the_receipt(node):
    ledger, pool, context, w3 = node
    assert w3.eth.get_transaction_count(VALIDATOR, "pending") == 0
    init_code = bytes.fromhex(CONSORTIUM.bytecode[2:]) + encode(
        ["address", "string", "uint8", "uint64"], [VALIDATOR, "Org", 1, 3600]
    )
    raw = sign(w3, VALIDATOR_KEY, 0, data=init_code, gas=5_000_000)
    tx_hash = w3.eth.send_raw_transaction(raw)
    assert w3.eth.get_transaction_count(VALIDATOR, "pending") == 1
    assert w3.eth.get_transaction_count(VALIDATOR, "latest") == 0
    pending = w3.eth.get_transaction(tx_hash)
    assert pending["blockHash"] is None
    assert pending["from"] == VALIDATOR
    block = produce(ledger, pool, context)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=5)
    assert receipt["status"] == 1
    assert receipt["blockNumber"] == block.number
    assert w3.eth.get_code(receipt["contractAddress"]) == bytes.fromhex(CONSORTIUM.deployed_bytecode[2:])
    consortium = w3.eth.contract(address=receipt["contractAddress"], abi=CONSORTIUM.abi)
    assert consortium.functions.isAllowedSender(VALIDATOR).call() is True
    # The estimate is enough gas for the transaction it estimates.
    add = consortium.functions.bootstrapAddMember(OUTSIDER, "Outsider org", 1)
    gas = add.estimate_gas({"from": VALIDATOR})
    call_data = add._encode_transaction_data()
    add_hash = w3.eth.send_raw_transaction(
        sign(w3, VALIDATOR_KEY, 1, to=consortium.address, data=call_data, gas=gas)
    )
    produce(ledger, pool, context)
    added = w3.eth.get_transaction_receipt(add_hash)
    assert added["status"] == 1
    assert added["gasUsed"] <= gas
    assert consortium.functions.isAllowedSender(OUTSIDER).call() is True


def test_pool_refusals_come_back_as_json_rpc_errors(node):
    _, _, _, w3 = node
    with pytest.raises(Web3RPCError) as outsider:
        w3.eth.send_raw_transaction(sign(w3, SENDER_KEY, 0, to=VALIDATOR))
    assert outsider.value.rpc_response["error"]["code"] == -32000
    assert "0x" + OUTSIDER[2:].lower() in outsider.value.rpc_response["error"]["message"].lower()
    with pytest.raises(Web3RPCError) as malformed:
        w3.eth.send_raw_transaction(b"\x02\x01\x02")
    assert malformed.value.rpc_response["error"]["code"] == -32000
    url = w3.provider.endpoint_uri
    reply = httpx.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": []}
    ).json()
    assert reply["error"]["code"] == -32602


def test_a_running_producer_answers_web3_waiting_for_a_receipt(node):
    ledger, pool, context, w3 = node
    producer = BlockProducer(ledger, pool, period_seconds=0.2, lock=context.lock)
    producer.start()
    try:
        nonce = w3.eth.get_transaction_count(VALIDATOR, "pending")
        hashes = [
            w3.eth.send_raw_transaction(sign(w3, VALIDATOR_KEY, nonce + n, to=OUTSIDER, value=n + 1))
            for n in range(3)
        ]
        assert w3.eth.get_transaction_count(VALIDATOR, "pending") == nonce + 3
        receipts = [w3.eth.wait_for_transaction_receipt(h, timeout=10, poll_latency=0.05) for h in hashes]
    finally:
        producer.stop(timeout=10)
    assert [r["status"] for r in receipts] == [1, 1, 1]
    assert w3.eth.get_transaction_count(VALIDATOR, "latest") == nonce + 3
    assert w3.eth.get_balance(OUTSIDER) == to_wei(10, "ether") + 6
    assert len(pool) == 0


def test_legacy_and_access_list_transactions_with_estimated_gas(node):
    ledger, pool, context, w3 = node
    nonce = w3.eth.get_transaction_count(VALIDATOR, "pending")
    call = {"from": VALIDATOR, "to": OUTSIDER, "value": 1}
    gas = w3.eth.estimate_gas(call)
    assert gas == 21_000
    legacy = {
        "chainId": CHAIN_ID,
        "nonce": nonce,
        "gasPrice": w3.eth.gas_price,
        "gas": gas,
        "to": OUTSIDER,
        "value": 1,
    }
    access_list = [{"address": OUTSIDER, "storageKeys": ["0x" + "00" * 31 + "01"]}]
    typed = {**legacy, "nonce": nonce + 1, "type": 1, "accessList": access_list, "gas": gas + 2_400 + 1_900}
    hashes = [
        w3.eth.send_raw_transaction(Account.sign_transaction(t, VALIDATOR_KEY.to_bytes()).raw_transaction)
        for t in (legacy, typed)
    ]
    produce(ledger, pool, context)
    first, second = (w3.eth.get_transaction(h) for h in hashes)
    assert first["type"] == 0
    assert first["v"] in (CHAIN_ID * 2 + 35, CHAIN_ID * 2 + 36)
    assert first["gasPrice"] == legacy["gasPrice"]
    assert second["type"] == 1
    assert [dict(entry) for entry in second["accessList"]] == [
        {"address": OUTSIDER, "storageKeys": ["0x" + "00" * 31 + "01"]}
    ]
    for tx_hash in hashes:
        receipt = w3.eth.get_transaction_receipt(tx_hash)
        assert receipt["status"] == 1
        assert receipt["effectiveGasPrice"] == legacy["gasPrice"]
