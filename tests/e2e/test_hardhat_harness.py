"""The Hardhat harness rewinds and re-forks the chain the way the indexer's reorg tests need."""

import os

import pytest
from web3 import Web3
from web3.exceptions import TransactionNotFound

from tests.hardhat import CHAIN_ID, HardhatError, HardhatNode, hardhat_node_fixture

hardhat = hardhat_node_fixture(scope="module")

RECIPIENT = Web3.to_checksum_address("0x" + "ab" * 20)


def send(w3, account, value, nonce=None):
    tx = {
        "chainId": CHAIN_ID,
        "nonce": w3.eth.get_transaction_count(account.address) if nonce is None else nonce,
        "to": RECIPIENT,
        "value": value,
        "gas": 21_000,
        "maxFeePerGas": 10**11,
        "maxPriorityFeePerGas": 10**9,
        "type": 2,
    }
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)


def test_dev_accounts_are_funded_and_match_the_keys(hardhat):
    w3 = Web3(Web3.HTTPProvider(hardhat.url))
    assert w3.eth.chain_id == CHAIN_ID
    assert hardhat.accounts[0].address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    for account in hardhat.accounts:
        assert w3.eth.get_balance(account.address) == 10_000 * 10**18


def test_revert_rewinds_blocks_and_balances(hardhat):
    w3 = Web3(Web3.HTTPProvider(hardhat.url))
    start = hardhat.block_number()
    snapshot = hardhat.snapshot()
    send(w3, hardhat.accounts[1], 12345)
    hardhat.mine(3)
    assert hardhat.block_number() == start + 4
    assert w3.eth.get_balance(RECIPIENT) >= 12345
    before = w3.eth.get_balance(RECIPIENT, block_identifier=start)
    hardhat.revert(snapshot)
    assert hardhat.block_number() == start
    assert w3.eth.get_balance(RECIPIENT) == before
    with pytest.raises(HardhatError):
        hardhat.revert(snapshot)  # a snapshot is used up by reverting to it


def test_new_blocks_after_a_revert_fork_the_chain(hardhat):
    w3 = Web3(Web3.HTTPProvider(hardhat.url))
    account = hardhat.accounts[2]
    fork_point = hardhat.block_number()
    snapshot = hardhat.snapshot()
    old = send(w3, account, 1)
    hardhat.mine(2)
    old_hashes = [w3.eth.get_block(n)["hash"] for n in range(fork_point + 1, fork_point + 4)]
    hardhat.revert(snapshot)
    new = send(w3, account, 2)  # the same nonce again: the old transaction is gone
    hardhat.mine(2)
    new_hashes = [w3.eth.get_block(n)["hash"] for n in range(fork_point + 1, fork_point + 4)]
    assert new["blockNumber"] == old["blockNumber"] == fork_point + 1
    assert new["transactionHash"] != old["transactionHash"]
    assert all(a != b for a, b in zip(old_hashes, new_hashes, strict=True))
    assert w3.eth.get_block(fork_point + 1)["parentHash"] == w3.eth.get_block(fork_point)["hash"]
    assert w3.eth.get_transaction_receipt(new["transactionHash"])["status"] == 1
    with pytest.raises(TransactionNotFound):
        w3.eth.get_transaction_receipt(old["transactionHash"])


def test_stop_leaves_no_process_behind():
    node = HardhatNode().start()
    pid = node._process.pid
    node.stop()
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # the whole group is gone, and the child was reaped
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    node.stop()  # a second stop is harmless


def test_a_missing_hardhat_fails_with_the_fix_not_a_skip(monkeypatch, tmp_path):
    monkeypatch.setattr("tests.hardhat.HARDHAT_BIN", tmp_path / "hardhat")
    node = HardhatNode()
    with pytest.raises(HardhatError, match="run scripts/bootstrap"):
        node.start()
    node.stop()
