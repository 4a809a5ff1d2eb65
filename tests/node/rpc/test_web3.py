"""web3.py through a real HTTPProvider (with ExtraDataToPOAMiddleware) against the served ledger."""

import pytest
import rlp
from eth_abi import decode
from eth_utils import keccak, to_checksum_address
from trie import HexaryTrie
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractCustomError
from web3.middleware import ExtraDataToPOAMiddleware

from idfuse_sdk import qbft
from tests.node.devchain import CHAIN_ID, SENDER, T0, VALIDATOR
from tests.node.rpc.conftest import CONSORTIUM, CONTRACT, MEMBER, STRANGER


@pytest.fixture(scope="module")
def w3(chain):
    web3 = Web3(HTTPProvider(chain.url))
    web3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return web3


@pytest.fixture(scope="module")
def consortium(w3):
    return w3.eth.contract(address=to_checksum_address(CONTRACT), abi=CONSORTIUM.abi)


def test_chain_identity(w3):
    assert w3.eth.chain_id == CHAIN_ID
    assert w3.net.version == str(CHAIN_ID)
    assert w3.client_version.startswith("idfuse/")
    assert w3.eth.block_number == 3
    assert w3.eth.syncing is False


def test_block_tags_name_the_head_or_the_genesis(w3, chain):
    head = w3.eth.get_block("latest")
    assert head["number"] == 3
    assert head["timestamp"] == T0 + 3
    for tag in ("safe", "finalized", "pending"):
        assert w3.eth.get_block(tag)["hash"] == head["hash"]
    assert w3.eth.get_block("earliest")["number"] == 0
    assert w3.eth.get_block(head["hash"])["number"] == 3
    assert head["hash"] == chain.ledger.head().hash
    assert w3.eth.get_block(2)["hash"] == head["parentHash"]


def test_blocks_carry_full_extra_data_and_commit_seals_that_verify(w3, chain):
    for number in range(1, 4):
        block = w3.eth.get_block(number)
        header = chain.ledger.block_by_number(number).header
        assert bytes(block["proofOfAuthorityData"]) == header.extra_data
        raw = w3.provider.make_request("eth_getBlockByNumber", [hex(number), False])["result"]
        report = qbft.verify_header(raw, (VALIDATOR,))
        assert report.signers == (VALIDATOR,)
        assert bytes.fromhex(raw["hash"][2:]) == report.block_hash == qbft.block_hash(header)
        assert raw["difficulty"] == "0x1"
        assert raw["mixHash"] == "0x" + qbft.MIX_HASH.hex()


def test_full_and_hash_only_transactions(w3, chain):
    hashes = w3.eth.get_block(2)["transactions"]
    assert [bytes(h) for h in hashes] == [chain.add_member_hash, chain.transfer_hash]
    full = w3.eth.get_block(2, full_transactions=True)["transactions"]
    assert full[1]["to"] == to_checksum_address(STRANGER)
    assert full[1]["value"] == 5
    assert full[1]["from"] == to_checksum_address(SENDER)
    assert full[1]["type"] == 2
    assert full[1]["transactionIndex"] == 1
    assert full[0]["nonce"] == 1


def test_transactions_and_receipts(w3, chain):
    deploy = w3.eth.get_transaction(chain.deploy_hash)
    assert deploy["to"] is None
    assert deploy["blockNumber"] == 1
    receipt = w3.eth.get_transaction_receipt(chain.deploy_hash)
    assert receipt["status"] == 1
    assert receipt["contractAddress"] == to_checksum_address(CONTRACT)
    transfer = w3.eth.get_transaction_receipt(chain.transfer_hash)
    assert transfer["gasUsed"] == 21_000
    assert transfer["cumulativeGasUsed"] > 21_000
    base_fee = w3.eth.get_block(2)["baseFeePerGas"]
    assert transfer["effectiveGasPrice"] == base_fee + 2
    assert transfer["blockHash"] == w3.eth.get_block(2)["hash"]


def test_state_reads(w3, chain):
    assert w3.eth.get_code(to_checksum_address(CONTRACT)) == bytes.fromhex(CONSORTIUM.deployed_bytecode[2:])
    assert w3.eth.get_code(to_checksum_address(CONTRACT), block_identifier=0) == b""
    assert w3.eth.get_balance(to_checksum_address(STRANGER)) == 5
    assert w3.eth.get_balance(to_checksum_address(STRANGER), block_identifier=1) == 0
    assert w3.eth.get_transaction_count(to_checksum_address(SENDER)) == 3
    assert w3.eth.get_transaction_count(to_checksum_address(SENDER), "pending") == 3
    state = chain.ledger.state()
    for slot in range(8):
        assert int.from_bytes(
            w3.eth.get_storage_at(to_checksum_address(CONTRACT), slot)
        ) == state.get_storage(CONTRACT, slot)


def test_calls_and_gas_estimates(w3, consortium):
    assert consortium.functions.isAllowedSender(to_checksum_address(SENDER)).call() is True
    assert consortium.functions.isAllowedSender(to_checksum_address(MEMBER)).call() is True
    assert consortium.functions.isAllowedSender(to_checksum_address(MEMBER)).call(block_identifier=1) is False
    gas = consortium.functions.bootstrapAddMember(to_checksum_address(STRANGER), "Late", 1).estimate_gas(
        {"from": to_checksum_address(SENDER)}
    )
    assert 21_000 < gas < 1_000_000


def decode_custom_error(abi, data):
    data = bytes.fromhex(data[2:])
    for item in abi:
        if item["type"] != "error":
            continue
        types = [i["type"] for i in item["inputs"]]
        if keccak(text=f"{item['name']}({','.join(types)})")[:4] == data[:4]:
            return item["name"], decode(types, data[4:])
    raise AssertionError(f"unknown error {data.hex()}")


def test_custom_error_reverts_decode_to_name_and_arguments(consortium):
    stranger = to_checksum_address(STRANGER)
    call = consortium.functions.bootstrapAddMember(to_checksum_address(MEMBER), "Again", 1)
    for run in (lambda: call.call({"from": stranger}), lambda: call.estimate_gas({"from": stranger})):
        with pytest.raises(ContractCustomError) as raised:
            run()
        name, args = decode_custom_error(CONSORTIUM.abi, raised.value.data)
        assert name == "ConsortiumNotBootstrapAdmin"
        assert args == (stranger.lower(),)


def test_get_logs_filters(w3, consortium, chain):
    address = to_checksum_address(CONTRACT)
    member_added = "0x" + keccak(text="MemberAdded(address,string,uint8)").hex()
    logs = w3.eth.get_logs({"address": address, "fromBlock": 0, "toBlock": "latest"})
    added = [log for log in logs if log["topics"][0].to_0x_hex() == member_added]
    assert [log["blockNumber"] for log in added] == [1, 2]
    second = added[1]
    assert bytes(second["transactionHash"]) == chain.add_member_hash
    assert second["transactionIndex"] == 0
    assert second["removed"] is False
    assert second["blockHash"] == w3.eth.get_block(2)["hash"]
    events = consortium.events.MemberAdded().process_log(second)
    assert dict(events["args"]) == {
        "account": to_checksum_address(MEMBER),
        "organisation": "Member org",
        "role": 1,
    }
    member_topic = "0x" + bytes(12).hex() + MEMBER.hex()
    by_topic = w3.eth.get_logs({"fromBlock": 0, "topics": [member_added, member_topic]})
    assert [log["blockNumber"] for log in by_topic] == [2]
    either = w3.eth.get_logs({"fromBlock": 0, "topics": [[member_added, "0x" + "00" * 32], None]})
    assert len(either) == 2
    in_block = w3.eth.get_logs({"blockHash": w3.eth.get_block(2)["hash"], "address": [address]})
    assert [bytes(log["transactionHash"]) for log in in_block] == [chain.add_member_hash] * len(in_block)
    assert [log["logIndex"] for log in in_block] == list(range(len(in_block)))
    assert w3.eth.get_logs({"fromBlock": 3, "toBlock": 3}) == []
    assert w3.eth.get_logs({"fromBlock": 0, "address": to_checksum_address(STRANGER)}) == []


def test_get_proof_verifies_against_the_state_root(w3, chain):
    address = to_checksum_address(CONTRACT)
    state = chain.ledger.state()
    slot = next(s for s in range(16) if state.get_storage(CONTRACT, s))
    proof = w3.eth.get_proof(address, [slot, 999], "latest")
    state_root = bytes(w3.eth.get_block("latest")["stateRoot"])
    nodes = [rlp.decode(bytes(node)) for node in proof["accountProof"]]
    account = rlp.decode(HexaryTrie.get_from_proof(state_root, keccak(CONTRACT), nodes))
    nonce, balance, storage_root, code_hash = account
    assert int.from_bytes(nonce) == proof["nonce"] == 1
    assert int.from_bytes(balance) == proof["balance"] == 0
    assert storage_root == bytes(proof["storageHash"])
    assert code_hash == bytes(proof["codeHash"]) == keccak(bytes.fromhex(CONSORTIUM.deployed_bytecode[2:]))
    present, absent = proof["storageProof"]
    value = HexaryTrie.get_from_proof(
        storage_root, keccak(slot.to_bytes(32, "big")), [rlp.decode(bytes(n)) for n in present["proof"]]
    )
    stored = state.get_storage(CONTRACT, slot)
    assert rlp.decode(value, sedes=rlp.sedes.big_endian_int) == int.from_bytes(present["value"]) == stored
    missing = HexaryTrie.get_from_proof(
        storage_root, keccak((999).to_bytes(32, "big")), [rlp.decode(bytes(n)) for n in absent["proof"]]
    )
    assert missing == b""
    assert int.from_bytes(absent["value"]) == 0
    # An account that does not exist is proven absent.
    nobody = w3.eth.get_proof(to_checksum_address(b"\x44" * 20), [], "latest")
    nodes = [rlp.decode(bytes(node)) for node in nobody["accountProof"]]
    assert HexaryTrie.get_from_proof(state_root, keccak(b"\x44" * 20), nodes) == b""
    assert nobody["balance"] == 0


def test_fees(w3):
    head = w3.eth.get_block("latest")
    assert w3.eth.max_priority_fee == 10**9
    assert w3.eth.gas_price > head["baseFeePerGas"]
    history = w3.eth.fee_history(3, "latest", [10, 90])
    assert history["oldestBlock"] == 1
    assert history["baseFeePerGas"][:3] == [w3.eth.get_block(n)["baseFeePerGas"] for n in (1, 2, 3)]
    assert len(history["baseFeePerGas"]) == 4
    assert len(history["gasUsedRatio"]) == 3
    assert history["reward"][1] == [2, 2]
    assert history["reward"][2] == [0, 0]


def test_qbft_methods(w3):
    validators = w3.provider.make_request("qbft_getValidatorsByBlockNumber", ["latest"])["result"]
    assert validators == ["0x" + VALIDATOR.hex()]
    assert w3.provider.make_request("qbft_getValidatorsByBlockNumber", ["0x0"])["result"] == validators
    assert w3.provider.make_request("qbft_getPendingVotes", [])["result"] == {}
