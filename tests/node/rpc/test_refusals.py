"""eth_sendRawTransaction refuses malformed RLP, oversize transactions, wrong signatures, replays
and non-members with a JSON-RPC error, and nothing changes: head, nonces, balances, pool."""

import httpx
import pytest
import rlp
from eth_utils import to_wei

from idfuse_node.ledger.chain import Ledger
from idfuse_node.ledger.txpool import TxPool
from idfuse_node.rpc import RpcContext, RpcServer
from tests.node.devchain import SENDER, SENDER_KEY, VALIDATOR, VALIDATOR_KEY, make_genesis, raw_tx

RECIPIENT = b"\x44" * 20
MAX_TX_BYTES = 4096
GENESIS = make_genesis({VALIDATOR: to_wei(10, "ether"), SENDER: to_wei(10, "ether")})


@pytest.fixture
def node(tmp_path):
    """A served ledger whose pool admits the validator only, with one block holding its nonce 0."""
    ledger = Ledger.open(tmp_path, GENESIS, VALIDATOR_KEY)
    pool = TxPool(ledger, None, max_tx_bytes=MAX_TX_BYTES)
    context = RpcContext(ledger, pool)
    server = RpcServer(context)
    server.start()
    included = raw_tx(VALIDATOR_KEY, 0, to=RECIPIENT, value=7)
    pool.add(included)
    with context.lock:
        block, _ = ledger.build_block(pool.executable(ledger.head().gas_limit))
        pool.remove_included(block)
    pending = raw_tx(VALIDATOR_KEY, 1, to=RECIPIENT, value=8)
    pool.add(pending)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            yield ledger, pool, client, {"included": included, "pending": pending}
    finally:
        server.stop()
        ledger.close()


def snapshot(ledger, pool):
    state = ledger.state()
    return (
        ledger.head().hash,
        ledger.head().state_root,
        [state.get_nonce(a) for a in (VALIDATOR, SENDER)],
        [state.get_balance(a) for a in (VALIDATOR, SENDER, RECIPIENT)],
        len(pool),
        [pool.pending_nonce(a) for a in (VALIDATOR, SENDER)],
    )


def resign(raw: bytes, **fields) -> bytes:
    """``raw`` (a type-2 transaction) with its signature fields replaced."""
    items = rlp.decode(raw[1:])
    names = ("y_parity", "r", "s")
    for name, value in fields.items():
        items[-3 + names.index(name)] = rlp.sedes.big_endian_int.serialize(value)
    return raw[:1] + rlp.encode(items)


def wrong_signatures(valid: bytes) -> list[bytes]:
    items = rlp.decode(valid[1:])
    r, s = (int.from_bytes(item, "big") for item in items[-2:])
    other = rlp.decode(raw_tx(VALIDATOR_KEY, 3, to=VALIDATOR, value=2)[1:])
    return [
        resign(valid, r=r ^ 1),  # recovers to some other address, or to none
        resign(valid, s=0),
        resign(valid, r=0),
        resign(valid, y_parity=5),
        valid[:1] + rlp.encode(items[:-3] + other[-3:]),  # another transaction's signature
        resign(valid, s=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141 - s),  # high s
    ]


CASES = {
    "malformed RLP": lambda txs: [
        b"",
        b"\x02",
        b"\x02\xc0",
        b"\x02\xf8\xff" + b"\x01" * 10,
        b"\xc3\x01\x02\x03",
        txs["fresh"][:-3],
        txs["fresh"] + b"\x00",
        b"\x7f" + txs["fresh"][1:],
    ],
    "oversize": lambda txs: [
        raw_tx(VALIDATOR_KEY, 2, to=RECIPIENT, data=b"\x01" * MAX_TX_BYTES, gas=200_000),
    ],
    "wrong signature": lambda txs: wrong_signatures(txs["fresh"]),
    "replayed": lambda txs: [
        txs["included"],
        txs["pending"],
        raw_tx(VALIDATOR_KEY, 0, to=RECIPIENT, value=9),
    ],
    "non-member": lambda txs: [
        raw_tx(SENDER_KEY, 0, to=RECIPIENT, value=1),
        raw_tx(SENDER_KEY, 5, to=VALIDATOR),
    ],
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_refused_transaction_changes_nothing(node, kind):
    ledger, pool, client, txs = node
    txs = {**txs, "fresh": raw_tx(VALIDATOR_KEY, 2, to=RECIPIENT, value=1)}
    before = snapshot(ledger, pool)
    for number, raw in enumerate(CASES[kind](txs)):
        body = {
            "jsonrpc": "2.0",
            "id": number,
            "method": "eth_sendRawTransaction",
            "params": ["0x" + raw.hex()],
        }
        response = client.post("/", json=body)
        assert response.status_code == 200
        reply = response.json()
        assert "result" not in reply, (kind, number, reply)
        assert reply["error"]["code"] in (-32000, -32602), (kind, number, reply)
        assert reply["error"]["message"], reply
        assert snapshot(ledger, pool) == before, (kind, number)
    # and the node still takes a valid transaction afterwards
    body = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "eth_sendRawTransaction",
        "params": ["0x" + txs["fresh"].hex()],
    }
    assert client.post("/", json=body).json()["result"].startswith("0x")
    assert len(pool) == before[4] + 1
