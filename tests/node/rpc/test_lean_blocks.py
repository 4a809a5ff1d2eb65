"""eth_getBlockByNumber without full transactions and eth_getLogs answer from the ledger's
encoded transactions and receipts: the same objects as formatting py-evm's decoded block."""

from eth_abi import encode
from eth_utils import keccak

from idfuse_node.ledger.chain import Ledger
from idfuse_node.rpc import RpcContext
from idfuse_node.rpc.format import format_block, format_log
from idfuse_node.rpc.methods.blocks import get_block_by_hash, get_block_by_number
from idfuse_node.rpc.methods.logs import get_logs
from idfuse_sdk.contracts.artifacts import load
from tests.node.devchain import GENESIS, SENDER, SENDER_KEY, T0, VALIDATOR_KEY, signed_tx

CONSORTIUM = load("Consortium")
CONTRACT = keccak(b"\xd6\x94" + SENDER + b"\x80")[12:]


def build(tmp_path):
    ledger = Ledger.open(tmp_path, GENESIS, VALIDATOR_KEY)
    init_code = bytes.fromhex(CONSORTIUM.bytecode[2:]) + encode(
        ["address", "string", "uint8", "uint64"], [SENDER, "Org", 1, 3600]
    )
    deploy = signed_tx(ledger, SENDER_KEY, 0, data=init_code, gas=5_000_000, kind=0)
    ledger.build_block([deploy], timestamp=T0 + 1)
    txs = []
    for n, kind in enumerate((0, 1, 2, 2)):
        member = bytes([0x30 + n]) * 20
        add = keccak(b"bootstrapAddMember(address,string,uint8)")[:4] + encode(
            ["address", "string", "uint8"], [member, f"Member {n}", 1]
        )
        txs.append(signed_tx(ledger, SENDER_KEY, 1 + n, to=CONTRACT, data=add, gas=1_000_000, kind=kind))
    txs.append(signed_tx(ledger, SENDER_KEY, 5, to=b"\x44" * 20, value=3, kind=1))
    ledger.build_block(txs, timestamp=T0 + 2)
    ledger.build_block([], timestamp=T0 + 3)
    return ledger


def test_blocks_and_logs_match_the_decoded_block(tmp_path):
    with build(tmp_path) as ledger:
        ctx = RpcContext(ledger)
        seen_logs = 0
        for number in range(ledger.head().block_number + 1):
            block = ledger.block_by_number(number)
            lean = format_block(block, full=False)
            assert get_block_by_number(ctx, [hex(number), False]) == lean
            assert get_block_by_hash(ctx, ["0x" + block.header.hash.hex(), False]) == lean
            receipts = ledger.chain.chaindb.get_receipts(block.header, block.receipt_builder)
            expected = []
            for tx_index, (tx, receipt) in enumerate(zip(block.transactions, receipts, strict=True)):
                for log in receipt.logs:
                    expected.append(format_log(log, block.header, tx, tx_index, len(expected)))
            answer = get_logs(ctx, [{"fromBlock": hex(number), "toBlock": hex(number)}])
            assert answer == expected
            by_hash = get_logs(ctx, [{"blockHash": "0x" + block.header.hash.hex()}])
            assert by_hash == expected
            seen_logs += len(expected)
        assert seen_logs >= 5
        # Tags name blocks too, and take the same path: the head for every tag but earliest.
        head = format_block(ledger.block_by_number(ledger.head().block_number), full=False)
        for tag in ("latest", "safe", "finalized", "pending"):
            assert get_block_by_number(ctx, [tag, False]) == head
        assert get_block_by_number(ctx, ["earliest", False]) == format_block(
            ledger.block_by_number(0), full=False
        )
        # With full transactions a tag names the same blocks (through the cache of recent ones).
        top = ledger.head().block_number
        for tag, number in (("latest", top), ("earliest", 0), ("finalized", top)):
            full = format_block(ledger.block_by_number(number), full=True)
            assert get_block_by_number(ctx, [tag, True]) == full
        assert get_block_by_number(ctx, ["0x2", True]) == format_block(ledger.block_by_number(2), full=True)
        assert get_block_by_number(ctx, [hex(ledger.head().block_number + 1), True]) is None
        assert get_block_by_number(ctx, [hex(ledger.head().block_number + 1), False]) is None
        assert get_block_by_hash(ctx, ["0x" + "ab" * 32, False]) is None
        # Filters by address and topic pick the same logs.
        everything = get_logs(ctx, [{"fromBlock": "0x0", "toBlock": "latest"}])
        topic = everything[-1]["topics"][0]
        filtered = get_logs(
            ctx, [{"fromBlock": "0x0", "address": "0x" + CONTRACT.hex(), "topics": [[topic]]}]
        )
        assert filtered == [log for log in everything if log["topics"][0] == topic]
        assert get_logs(ctx, [{"fromBlock": "0x0", "address": "0x" + "55" * 20}]) == []
