"""The transaction pool: admission checks, nonce ordering, fee priority, the allowlist."""

import pickle
import threading

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from idfuse_node.exceptions import (
    TxAlreadyKnownError,
    TxGasLimitError,
    TxInsufficientFundsError,
    TxMalformedError,
    TxNonceTooLowError,
    TxNotAllowedError,
    TxPoolError,
    TxPoolFullError,
    TxTooLargeError,
    TxUnderpricedError,
    TxWrongChainError,
)
from idfuse_node.ledger.bootstrap import bootstrap_registries
from idfuse_node.ledger.txpool import TxPool
from tests.node.devchain import (
    CHAIN_ID,
    FUNDS,
    T0,
    VALIDATOR,
    VALIDATOR_KEY,
    address,
    ledger_fixture,
    make_genesis,
    raw_tx,
)

DEV = Account.from_key(b"\x01" * 32)
MEMBER = Account.from_key(b"\x02" * 32)
STRANGER = Account.from_key(b"\x03" * 32)
POOR = Account.from_key(b"\x04" * 32)
RECIPIENT = "0x" + "22" * 20
GENESIS = make_genesis(
    {
        VALIDATOR: FUNDS,
        address(DEV): FUNDS,
        address(MEMBER): FUNDS,
        address(STRANGER): FUNDS,
        address(POOR): 21_000 * 10**10,
    }
)
MEMBERS = [address(a) for a in (DEV, MEMBER, POOR)]

ledger = ledger_fixture(GENESIS)


@pytest.fixture
def pool(ledger):
    addresses = bootstrap_registries(ledger, VALIDATOR_KEY, MEMBERS, timestamp=T0 + 1)
    return TxPool(ledger, addresses["Consortium"])


def raw(account, nonce, *, value=1, **fields):
    return raw_tx(account, nonce, to=RECIPIENT, value=value, **fields)


def snapshot(pool):
    return len(pool), {a: pool.pending_nonce(address(a)) for a in (DEV, MEMBER, STRANGER, POOR)}


def test_admits_legacy_access_list_and_dynamic_fee_transactions(pool):
    hashes = [pool.add(raw(DEV, 0, kind=0)), pool.add(raw(DEV, 1, kind=1)), pool.add(raw(DEV, 2, kind=2))]
    assert len(set(hashes)) == 3
    assert all(len(h) == 32 and h in pool for h in hashes)
    assert pool.get(hashes[2]).nonce == 2
    assert pool.pending_nonce(address(DEV)) == 3
    assert [tx.nonce for tx in pool.executable(10**9)] == [0, 1, 2]


def test_the_validator_is_admitted_as_a_genesis_validator(ledger):
    pool = TxPool(ledger, None)
    validator = Account.from_key(VALIDATOR_KEY.to_bytes())
    pool.add(raw(validator, 0))
    with pytest.raises(TxNotAllowedError, match="sender not allowed by consortium"):
        pool.add(raw(DEV, 0))


def refuse(pool, raw_tx, error, match):
    before = snapshot(pool)
    with pytest.raises(error, match=match) as caught:
        pool.add(raw_tx)
    assert isinstance(caught.value, TxPoolError)
    assert caught.value.code == -32000
    assert caught.value.message == str(caught.value)
    assert snapshot(pool) == before
    return caught.value


def test_malformed_bytes_are_refused(pool):
    refuse(pool, b"", TxMalformedError, "invalid transaction")
    refuse(pool, b"\xde\xad\xbe\xef", TxMalformedError, "invalid transaction")
    good = raw(DEV, 0)
    refuse(pool, good[:-3], TxMalformedError, "invalid transaction")
    refuse(pool, b"\x02" + b"\xc0", TxMalformedError, "invalid transaction")


def test_a_high_s_signature_is_refused(pool):
    builder = pool._ledger.transaction_builder()
    tx = builder.decode(raw(DEV, 0))
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    twin = tx.copy(s=n - tx.s, y_parity=1 - tx.y_parity)
    assert twin.sender == tx.sender
    refuse(pool, twin.encode(), TxMalformedError, "invalid transaction v, r, s values")


def test_a_tip_above_the_fee_cap_is_refused(pool):
    refuse(pool, raw(DEV, 0, tip=10**11, fee_cap=10**10), TxMalformedError, "max priority fee per gas higher")


def test_a_refusal_pickles_with_its_message_and_code():
    error = pickle.loads(pickle.dumps(TxNonceTooLowError("nonce too low")))
    assert type(error) is TxNonceTooLowError
    assert (error.message, error.code) == ("nonce too low", -32000)


def test_a_wrong_chain_id_is_refused(pool):
    refuse(pool, raw(DEV, 0, chain_id=1), TxWrongChainError, "invalid chain id for signer: have 1 want 1337")


def test_an_unprotected_legacy_transaction_is_refused(pool):
    tx = {"nonce": 0, "gas": 21_000, "to": RECIPIENT, "value": 1, "data": b"", "gasPrice": 10**10}
    unprotected = bytes(Account.sign_transaction(tx, DEV.key).raw_transaction)
    refuse(pool, unprotected, TxWrongChainError, "replay-protected")


def test_a_used_nonce_is_refused(pool, ledger):
    pool.add(raw(DEV, 0))
    block, _ = ledger.build_block(pool.executable(10**9))
    pool.remove_included(block)
    assert len(pool) == 0
    refuse(pool, raw(DEV, 0, tip=3), TxNonceTooLowError, "nonce too low: address 0x[0-9a-f]+, tx: 0 state: 1")


def test_a_nonce_gap_is_held_until_it_fills(pool, ledger):
    later = pool.add(raw(DEV, 1))
    assert later in pool
    assert pool.pending_nonce(address(DEV)) == 0
    assert pool.executable(10**9) == []
    pool.add(raw(DEV, 0))
    assert pool.pending_nonce(address(DEV)) == 2
    assert [tx.nonce for tx in pool.executable(10**9)] == [0, 1]


def test_a_replacement_needs_ten_percent_more(pool):
    original = pool.add(raw(DEV, 0, tip=10, fee_cap=10**10))
    refuse(
        pool,
        raw(DEV, 0, tip=10, fee_cap=10**10, value=2),
        TxUnderpricedError,
        "replacement transaction underpriced",
    )
    refuse(pool, raw(DEV, 0, tip=10, fee_cap=11 * 10**9, value=2), TxUnderpricedError, "replacement")
    refuse(pool, raw(DEV, 0, tip=11, fee_cap=10**10 + 1, value=2), TxUnderpricedError, "replacement")
    assert original in pool
    replacement = pool.add(raw(DEV, 0, tip=11, fee_cap=11 * 10**9, value=2))
    assert replacement != original
    assert replacement in pool
    assert original not in pool
    assert len(pool) == 1
    assert pool.executable(10**9)[0].value == 2


def test_the_same_transaction_twice_is_already_known(pool):
    tx = raw(DEV, 0)
    pool.add(tx)
    refuse(pool, tx, TxAlreadyKnownError, "already known")


def test_insufficient_balance_is_refused(pool):
    refuse(
        pool,
        raw(POOR, 0, value=1),
        TxInsufficientFundsError,
        "insufficient funds for gas \\* price \\+ value",
    )
    pool.add(raw(POOR, 0, value=0))


def test_a_fee_cap_below_the_base_fee_is_refused(pool):
    refuse(
        pool, raw(DEV, 0, fee_cap=1, tip=1), TxUnderpricedError, "max fee per gas less than block base fee"
    )


def test_a_sender_outside_the_allowlist_is_refused(pool):
    refuse(pool, raw(STRANGER, 0), TxNotAllowedError, "sender not allowed by consortium")


def test_an_oversize_transaction_is_refused(ledger):
    pool = TxPool(ledger, None, max_tx_bytes=200)
    validator = Account.from_key(VALIDATOR_KEY.to_bytes())
    refuse(pool, raw(validator, 0, data=b"\x01" * 300, gas=100_000), TxTooLargeError, "oversized data")


def test_gas_limits_are_checked(pool, ledger):
    refuse(pool, raw(DEV, 0, gas=20_000), TxGasLimitError, "intrinsic gas too low")
    too_much = ledger.head().gas_limit + 1
    refuse(pool, raw(DEV, 0, gas=too_much, fee_cap=10**9 + 10), TxGasLimitError, "exceeds block gas limit")


def test_a_full_pool_refuses_new_transactions_but_takes_replacements(ledger):
    pool = TxPool(ledger, None, max_pool_size=1)
    validator = Account.from_key(VALIDATOR_KEY.to_bytes())
    pool.add(raw(validator, 0))
    refuse(pool, raw(validator, 1), TxPoolFullError, "txpool is full")
    pool.add(raw(validator, 0, tip=5, fee_cap=2 * 10**10))


def test_executable_orders_by_tip_keeps_nonce_order_and_respects_gas(pool):
    pool.add(raw(DEV, 0, tip=1))
    pool.add(raw(DEV, 1, tip=100))
    pool.add(raw(MEMBER, 0, tip=50))
    pool.add(raw(MEMBER, 1, tip=2))
    order = [(tx.sender, tx.nonce) for tx in pool.executable(10**9)]
    assert order == [(address(MEMBER), 0), (address(MEMBER), 1), (address(DEV), 0), (address(DEV), 1)]
    assert [(tx.sender, tx.nonce) for tx in pool.executable(2 * 21_000)] == order[:2]


def test_executable_stops_a_sender_where_its_balance_runs_out(ledger, pool):
    pool.add(raw(POOR, 0, value=0))
    pool.add(raw(POOR, 1, value=0))
    assert [tx.nonce for tx in pool.executable(10**9)] == [0]


def test_executable_transactions_build_a_block_and_leave_the_pool(pool, ledger):
    for nonce in range(3):
        pool.add(raw(DEV, nonce))
    pool.add(raw(MEMBER, 1))
    block, receipts = ledger.build_block(pool.executable(ledger.head().gas_limit))
    assert len(receipts) == 3
    pool.remove_included(block)
    assert len(pool) == 1
    assert pool.pending_nonce(address(DEV)) == 3
    assert pool.pending_nonce(address(MEMBER)) == 0


def test_the_allowlist_follows_the_head(ledger):
    addresses = bootstrap_registries(ledger, VALIDATOR_KEY, [], timestamp=T0 + 1)
    pool = TxPool(ledger, addresses["Consortium"])
    refuse(pool, raw(DEV, 0), TxNotAllowedError, "not allowed")
    data = function_signature_to_4byte_selector("bootstrapAddMember(address,string,uint8)") + encode(
        ["address", "string", "uint8"], [address(DEV), "Dev", 2]
    )
    validator = Account.from_key(VALIDATOR_KEY.to_bytes())
    tx = {
        "chainId": CHAIN_ID,
        "nonce": 4,
        "gas": 300_000,
        "to": to_checksum_address(addresses["Consortium"]),
        "value": 0,
        "data": data,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 0,
    }
    pool.add(bytes(Account.sign_transaction(tx, validator.key).raw_transaction))
    block, (receipt,) = ledger.build_block(pool.executable(10**9))
    assert receipt.state_root == b"\x01"
    pool.remove_included(block)
    pool.add(raw(DEV, 0))


def test_wait_for_pending_wakes_when_a_transaction_arrives(pool):
    assert pool.wait_for_pending(0.01) is False
    arrived = []
    waiter = threading.Thread(target=lambda: arrived.append(pool.wait_for_pending(30)))
    waiter.start()
    pool.add(raw(DEV, 0))
    waiter.join(30)
    assert arrived == [True]
    assert pool.wait_for_pending(0) is True
