"""Block production from the pool: one build_block per block, receipts after storage."""

import threading

import pytest
from eth_abi import decode, encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector, keccak, to_wei
from eth_utils.exceptions import ValidationError

from idfuse_node.ledger.bootstrap import bootstrap_registries
from idfuse_node.ledger.chain import Ledger
from idfuse_node.ledger.genesis import GenesisConfig
from idfuse_node.ledger.producer import BlockProducer
from idfuse_node.ledger.txpool import TxPool
from idfuse_sdk.encoding import HandleValue, encode_values
from idfuse_sdk.identifiers import handle_key, prefix_node
from tests.node.devchain import (
    CHAIN_ID,
    FUNDS,
    T0,
    VALIDATOR_KEY,
    address,
    ledger_fixture,
    make_genesis,
    raw_tx,
)

VALIDATOR = Account.from_key(VALIDATOR_KEY.to_bytes())
DEV = Account.from_key(b"\x01" * 32)
MEMBER = Account.from_key(b"\x02" * 32)
RECIPIENT = "0x" + "22" * 20
GENESIS = make_genesis({address(a): FUNDS for a in (VALIDATOR, DEV, MEMBER)})

ledger = ledger_fixture(GENESIS)


@pytest.fixture
def contracts(ledger):
    return bootstrap_registries(ledger, VALIDATOR_KEY, [address(DEV), address(MEMBER)], timestamp=T0 + 1)


@pytest.fixture
def pool(ledger, contracts):
    return TxPool(ledger, contracts["Consortium"])


@pytest.fixture
def producer(ledger, pool):
    return BlockProducer(ledger, pool, period_seconds=0.05)


def sign(account, nonce, *, to=RECIPIENT, value=1, tip=1, **fields):
    return raw_tx(account, nonce, to=to, value=value, tip=tip, **fields)


def calldata(signature, types, args):
    return function_signature_to_4byte_selector(signature) + encode(types, args)


def test_nothing_pending_builds_nothing(ledger, producer):
    head = ledger.head()
    assert producer.produce_once() is None
    assert ledger.head() == head


def test_one_block_takes_every_pending_transaction(ledger, pool, producer, monkeypatch):
    calls = []
    build = ledger.build_block
    monkeypatch.setattr(ledger, "build_block", lambda txs, **kw: calls.append(len(txs)) or build(txs, **kw))
    hashes = [pool.add(sign(DEV, n)) for n in range(5)] + [pool.add(sign(MEMBER, n, tip=9)) for n in range(3)]
    pool.add(sign(MEMBER, 7))  # held behind a gap
    block = producer.produce_once()
    assert calls == [8]
    assert block.number == 2
    assert [tx.hash for tx in block.transactions][:3] == hashes[5:]
    assert len(pool) == 1
    for tx_hash in hashes:
        assert producer.receipt(tx_hash).state_root == b"\x01"
    assert producer.produce_once() is None


def test_the_gas_limit_bounds_a_block(tmp_path):
    genesis = GenesisConfig(
        chain_id=CHAIN_ID,
        validators=(address(VALIDATOR),),
        alloc={address(VALIDATOR): to_wei(1000, "ether")},
        gas_limit=50_000,
        timestamp=T0,
    )
    with Ledger.open(tmp_path, genesis, VALIDATOR_KEY) as ledger:
        pool = TxPool(ledger, None)
        producer = BlockProducer(ledger, pool)
        for nonce in range(3):
            pool.add(sign(VALIDATOR, nonce))
        assert len(producer.produce_once().transactions) == 2
        assert len(producer.produce_once().transactions) == 1
        assert producer.produce_once() is None


def test_a_registry_write_goes_through_the_pool(ledger, contracts, pool, producer):
    allocate = calldata(
        "bootstrapAllocatePrefix(string,address,uint64)",
        ["string", "address", "uint64"],
        ["88", address(DEV), 0],
    )
    pool.add(
        sign(
            VALIDATOR,
            pool.pending_nonce(address(VALIDATOR)),
            to=contracts["Consortium"],
            data=allocate,
            gas=1_000_000,
            value=0,
        )
    )
    producer.produce_once()
    node = prefix_node("88")
    values = encode_values([HandleValue(index=1, type="URL", data=b"https://example.org/a")])
    create = calldata(
        "createIdentifier(bytes32,string,bytes32,bytes)",
        ["bytes32", "string", "bytes32", "bytes"],
        [node, "abc", bytes(32), values],
    )
    tx_hash = pool.add(sign(DEV, 0, to=contracts["IdentifierRegistry"], data=create, gas=1_000_000, value=0))
    producer.produce_once()
    receipt = producer.wait_for_receipt(tx_hash, timeout=0)
    assert receipt.state_root == b"\x01"
    assert receipt.logs
    key = handle_key(node, "abc")
    out = ledger.call(
        address(DEV), contracts["IdentifierRegistry"], calldata("commitmentOf(bytes32)", ["bytes32"], [key])
    )
    (commitment,) = decode(["bytes32"], out.output)
    assert commitment == keccak(bytes(32) + values)


def test_the_loop_produces_while_pending_and_receipts_wait_for_storage(ledger, pool, producer):
    stop = threading.Event()
    thread = threading.Thread(target=producer.run, args=(stop,))
    thread.start()
    try:
        tx_hash = pool.add(sign(DEV, 0))
        receipt = producer.wait_for_receipt(tx_hash, timeout=10)
        assert receipt is not None
        assert ledger.transaction(tx_hash).hash == tx_hash
        head = ledger.head().block_number
        stop.wait(0.2)
        assert ledger.head().block_number == head  # no empty blocks
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()


def test_start_and_stop_a_producer_thread(pool, producer):
    producer.start()
    with pytest.raises(RuntimeError, match="running already"):
        producer.start()
    tx_hash = pool.add(sign(DEV, 0))
    assert producer.wait_for_receipt(tx_hash, timeout=10) is not None
    producer.stop(timeout=5)
    assert producer.wait_for_receipt(pool.add(sign(DEV, 1)), timeout=0.1) is None


def test_a_refused_block_drops_its_transactions(ledger, pool, producer, monkeypatch):
    pool.add(sign(DEV, 0))

    def refuse(*args, **kwargs):
        raise ValidationError("boom")

    monkeypatch.setattr(ledger, "build_block", refuse)
    assert producer.produce_once() is None
    assert len(pool) == 0


def test_senders_on_several_threads_while_the_producer_runs(ledger, pool, producer):
    producer.start()
    hashes = {}

    def send(account):
        hashes[account.address] = [pool.add(sign(account, nonce)) for nonce in range(25)]

    threads = [threading.Thread(target=send, args=(account,)) for account in (DEV, MEMBER)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        receipts = [producer.wait_for_receipt(h, timeout=30) for sent in hashes.values() for h in sent]
    finally:
        producer.stop(timeout=5)
    assert len(receipts) == 50
    assert all(r is not None and r.state_root == b"\x01" for r in receipts)
    assert len(pool) == 0
    assert ledger.state().get_nonce(address(DEV)) == 25


def test_an_idle_producer_builds_at_once_then_at_most_one_block_a_period(ledger, pool):
    producer = BlockProducer(ledger, pool, period_seconds=600)
    producer.start()
    try:
        first = pool.add(sign(DEV, 0))
        # Idle, it does not wait out the ten-minute period before the first block.
        assert producer.wait_for_receipt(first, timeout=30) is not None
        head = ledger.head().block_number
        second = pool.add(sign(DEV, 1))
        # The next block waits for the period to pass since the previous one started.
        assert producer.wait_for_receipt(second, timeout=0.5) is None
        assert ledger.head().block_number == head
        assert second in pool
    finally:
        producer.stop(timeout=5)
