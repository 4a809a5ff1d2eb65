"""The QBFT ledger: py-evm London blocks, sealed by one validator, stored in LevelDB."""

import json
from dataclasses import replace

import pytest
from eth_abi import decode, encode
from eth_keys import keys
from eth_utils import keccak, to_wei
from eth_utils.exceptions import ValidationError as EthValidationError

from idfuse_node.exceptions import ConsensusError, GenesisError
from idfuse_node.ledger.chain import Ledger
from idfuse_node.ledger.consensus import Commit, QbftRound, round_change
from idfuse_node.ledger.genesis import GenesisConfig
from idfuse_node.ledger.vm import QbftLondonBlockHeader, QbftLondonVM
from idfuse_sdk import qbft
from idfuse_sdk.contracts.artifacts import load
from idfuse_sdk.exceptions import QbftQuorumError, QbftUnknownSignerError
from tests.node.devchain import (
    CHAIN_ID,
    GENESIS,
    SENDER,
    SENDER_KEY,
    T0,
    VALIDATOR,
    VALIDATOR_KEY,
    ledger_fixture,
    signed_tx,
)

RECIPIENT = b"\x22" * 20
TIP = 2

ledger = ledger_fixture(GENESIS)


def signed(ledger, nonce, *, to=RECIPIENT, value=1, **fields):
    return signed_tx(ledger, SENDER_KEY, nonce, to=to, value=value, tip=TIP, **fields)


def assert_qbft_block(block, parent_header):
    header = block.header
    assert isinstance(header, QbftLondonBlockHeader)
    report = qbft.verify_header(header, (VALIDATOR,))
    assert report.signers == (VALIDATOR,)
    assert header.difficulty == 1
    assert header.mix_hash == qbft.MIX_HASH
    assert header.nonce == bytes(8)
    assert header.coinbase == VALIDATOR
    assert header.hash == qbft.block_hash(header) == report.block_hash
    assert header.parent_hash == qbft.block_hash(parent_header)
    extra = qbft.QbftExtraData.decode(header.extra_data)
    assert extra.validators == (VALIDATOR,)
    assert extra.round == 0
    assert len(extra.commit_seals) == 1


def test_genesis_lists_the_validators_in_qbft_extra_data(ledger):
    genesis = ledger.head()
    assert genesis.block_number == 0
    assert qbft.QbftExtraData.decode(genesis.extra_data) == qbft.QbftExtraData.genesis((VALIDATOR,))
    assert genesis.difficulty == 1
    assert genesis.mix_hash == qbft.MIX_HASH
    assert genesis.timestamp == T0
    assert genesis.gas_limit == 1_000_000_000
    assert ledger.state().get_balance(SENDER) == to_wei(1000, "ether")


def test_empty_block_is_sealed_and_final(ledger):
    genesis = ledger.head()
    block, receipts = ledger.build_block([], timestamp=T0 + 1)
    assert receipts == ()
    assert_qbft_block(block, genesis)
    assert ledger.head() == block.header
    for tag in ("latest", "safe", "finalized"):
        assert ledger.block_by_tag(tag) == block
    assert ledger.block_by_tag("earliest").header == genesis
    assert ledger.block_by_hash(block.header.hash) == block
    child, _ = ledger.build_block([], timestamp=T0 + 2)
    assert child.header.parent_hash == block.header.hash
    assert_qbft_block(child, block.header)


def test_an_invalid_transaction_builds_and_stores_nothing(ledger):
    with pytest.raises(EthValidationError, match="nonce"):
        ledger.build_block([signed(ledger, 0), signed(ledger, 5)], timestamp=T0 + 1)
    assert ledger.head().block_number == 0
    assert ledger.state().get_nonce(SENDER) == 0
    block, _ = ledger.build_block([signed(ledger, 0)], timestamp=T0 + 1)
    assert block.number == 1
    assert ledger.state().get_nonce(SENDER) == 1


def test_default_timestamp_keeps_the_block_period(ledger):
    block, _ = ledger.build_block([])
    assert block.header.timestamp >= T0 + GENESIS.block_period_seconds


def test_transfers_pay_tips_to_the_proposer_and_no_block_reward(ledger):
    before = ledger.state()
    validator_before, sender_before = before.get_balance(VALIDATOR), before.get_balance(SENDER)
    transactions = [signed(ledger, nonce, value=100 + nonce) for nonce in range(4)]
    block, receipts = ledger.build_block(transactions, timestamp=T0 + 1)
    assert_qbft_block(block, ledger.block_by_number(0).header)
    assert [r.gas_used for r in receipts] == [21_000 * n for n in range(1, 5)]
    assert block.header.gas_used == 4 * 21_000
    state = ledger.state()
    assert state.get_balance(RECIPIENT) == 100 + 101 + 102 + 103
    # London: the proposer earns the priority fee only (no 2 ETH block reward); the base fee burns.
    assert state.get_balance(VALIDATOR) - validator_before == 4 * 21_000 * TIP
    base_fee = block.header.base_fee_per_gas
    assert sender_before - state.get_balance(SENDER) == 406 + 4 * 21_000 * (base_fee + TIP)
    for index, transaction in enumerate(transactions):
        assert ledger.transaction(transaction.hash) == transaction
        assert ledger.receipt(transaction.hash).gas_used == receipts[index].gas_used
    assert ledger.block_by_number(1).transactions == tuple(transactions)


def test_one_apply_all_transactions_per_block(ledger, monkeypatch):
    calls = []
    original = QbftLondonVM.apply_all_transactions

    def spy(vm, transactions, base_header):
        calls.append(len(transactions))
        return original(vm, transactions, base_header)

    monkeypatch.setattr(QbftLondonVM, "apply_all_transactions", spy)
    ledger.build_block([signed(ledger, n) for n in range(5)], timestamp=T0 + 1)
    ledger.build_block([], timestamp=T0 + 2)
    assert calls == [5, 0]


def test_deployed_consortium_answers_calls(ledger):
    artifact = load("Consortium")
    # Role 1 is Validator (IConsortium.Role).
    constructor_args = encode(["address", "string", "uint8", "uint64"], [SENDER, "Org", 1, 3600])
    init_code = bytes.fromhex(artifact.bytecode[2:]) + constructor_args
    deploy = signed(ledger, 0, to=b"", value=0, data=init_code, gas=5_000_000)
    block, (receipt,) = ledger.build_block([deploy], timestamp=T0 + 1)
    assert receipt.state_root == b"\x01"  # EIP-658 status: success
    assert_qbft_block(block, ledger.block_by_number(0).header)
    address = keccak(b"\xd6\x94" + SENDER + b"\x80")[12:]
    assert ledger.state().get_code(address) == bytes.fromhex(artifact.deployed_bytecode[2:])
    selector = keccak(b"isAllowedSender(address)")[:4]
    allowed = ledger.call(RECIPIENT, address, selector + encode(["address"], [SENDER]))
    assert allowed.is_success
    assert decode(["bool"], allowed.output) == (True,)
    stranger = ledger.call(RECIPIENT, address, selector + encode(["address"], [RECIPIENT]))
    assert decode(["bool"], stranger.output) == (False,)
    unknown = ledger.call(RECIPIENT, address, b"\xde\xad\xbe\xef")
    assert unknown.is_error
    assert ledger.head() == block.header  # calls store nothing


def test_reopen_resumes_at_the_head_and_keeps_building(tmp_path):
    with Ledger.open(tmp_path, GENESIS, VALIDATOR_KEY) as first:
        first.build_block([signed(first, 0)], timestamp=T0 + 1)
        block, _ = first.build_block([signed(first, 1)], timestamp=T0 + 2)
    with Ledger.open(tmp_path, GENESIS, VALIDATOR_KEY) as reopened:
        head = reopened.head()
        assert isinstance(head, QbftLondonBlockHeader)
        assert head.block_number == 2
        assert head.hash == qbft.block_hash(head) == block.header.hash
        assert head.extra_data == block.header.extra_data  # the seals are stored
        assert reopened.block_by_number(1).header.hash == head.parent_hash
        assert reopened.state().get_nonce(SENDER) == 2
        child, _ = reopened.build_block([signed(reopened, 2)], timestamp=T0 + 3)
        assert child.header.parent_hash == head.hash
        assert_qbft_block(child, head)
        assert reopened.receipt(child.transactions[0].hash).gas_used == 21_000


def test_reopen_with_another_genesis_is_refused(tmp_path):
    Ledger.open(tmp_path, GENESIS, VALIDATOR_KEY).close()
    other = GenesisConfig(chain_id=CHAIN_ID, validators=(VALIDATOR,), timestamp=T0 + 5)
    with pytest.raises(GenesisError, match="another genesis"):
        Ledger.open(tmp_path, other, VALIDATOR_KEY)
    # The refused open released the lock.
    Ledger.open(tmp_path, GENESIS, VALIDATOR_KEY).close()


def test_a_key_outside_the_validators_cannot_run_the_ledger(tmp_path):
    with pytest.raises(ConsensusError, match="not a validator"):
        Ledger.open(tmp_path, GENESIS, SENDER_KEY)


def test_import_refuses_a_block_without_commit_seals(tmp_path):
    with Ledger.open(tmp_path / "a", GENESIS, VALIDATOR_KEY) as builder:
        block, _ = builder.build_block([], timestamp=T0 + 1)
    extra = qbft.QbftExtraData.decode(block.header.extra_data).with_commit_seals(())
    unsealed = block.copy(header=block.header.copy(extra_data=extra.encode()))
    with Ledger.open(tmp_path / "b", GENESIS, VALIDATOR_KEY) as importer:
        with pytest.raises(QbftQuorumError):
            importer.import_block(unsealed)
        assert importer.head().block_number == 0


def test_another_ledger_imports_a_sealed_block_by_executing_it(tmp_path):
    with (
        Ledger.open(tmp_path / "a", GENESIS, VALIDATOR_KEY) as builder,
        Ledger.open(tmp_path / "b", GENESIS, VALIDATOR_KEY) as importer,
    ):
        assert importer.head() == builder.head()
        transfers = [signed(builder, n, value=7) for n in range(3)]
        block, receipts = builder.build_block(transfers, timestamp=T0 + 1)
        # Another state root breaks the seal; resealed by the validator, it breaks re-execution.
        forged = block.copy(header=block.header.copy(state_root=b"\x01" * 32))
        with pytest.raises(QbftUnknownSignerError):
            importer.import_block(forged)
        extra = qbft.QbftExtraData.decode(forged.header.extra_data)
        seal = qbft.sign_commit_seal(VALIDATOR_KEY, forged.header)
        sealed_extra = extra.with_commit_seals((seal,)).encode()
        resealed = forged.copy(header=forged.header.copy(extra_data=sealed_extra))
        qbft.verify_header(resealed.header, (VALIDATOR,))
        with pytest.raises(EthValidationError, match="state_root"):
            importer.import_block(resealed)
        assert importer.head().block_number == 0
        importer.import_block(block)
        assert importer.head().hash == block.header.hash
        assert importer.head().extra_data == block.header.extra_data
        assert importer.state().get_balance(RECIPIENT) == 21
        assert importer.state().state_root == builder.state().state_root
        assert importer.receipt(block.transactions[2].hash).gas_used == receipts[2].gas_used
        # The importer's chain goes on from the imported block.
        child, _ = importer.build_block([signed(importer, 3)], timestamp=T0 + 2)
        assert child.header.parent_hash == block.header.hash


def test_import_refuses_a_block_that_does_not_extend_the_head(ledger):
    block, _ = ledger.build_block([], timestamp=T0 + 1)
    with pytest.raises(ConsensusError, match="does not extend"):
        ledger.import_block(block)


def test_genesis_config_json_round_trip(tmp_path):
    path = tmp_path / "genesis.json"
    GENESIS.save(path)
    assert GenesisConfig.load(path) == GENESIS
    data = json.loads(path.read_text())
    assert data["validators"] == ["0x" + VALIDATOR.hex()]
    assert GenesisConfig.from_json(data).extra_data() == GENESIS.extra_data()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"validators": ()}, "at least one validator"),
        ({"validators": (VALIDATOR, VALIDATOR)}, "distinct"),
        ({"validators": (b"\x01",)}, "20-byte"),
        ({"validators": (VALIDATOR,), "chain_id": 0}, "chain_id"),
        ({"validators": (VALIDATOR,), "alloc": {SENDER: -1}}, "balance"),
    ],
)
def test_genesis_config_refuses_bad_fields(kwargs, message):
    with pytest.raises(GenesisError, match=message):
        GenesisConfig(**{"chain_id": CHAIN_ID, **kwargs})


def test_genesis_file_must_be_a_config(tmp_path):
    path = tmp_path / "genesis.json"
    path.write_text('{"chainId": 1}')
    with pytest.raises(GenesisError, match="malformed"):
        GenesisConfig.load(path)


# Consensus steps with several validators: what peers will exchange.
KEYS = tuple(keys.PrivateKey(bytes([n]) * 32) for n in range(10, 14))
ADDRESSES = tuple(k.public_key.to_canonical_address() for k in KEYS)


def proposed_round(ledger):
    """A round of 4 validators at height 1 holding a block built (but not sealed) by the ledger."""
    block, _ = ledger.build_block([], timestamp=T0 + 1)
    extra = qbft.QbftExtraData(bytes(32), ADDRESSES, None, 0)
    header = block.header.copy(extra_data=extra.encode(), coinbase=ADDRESSES[0])
    qbft_round = QbftRound(ADDRESSES, height=1)
    qbft_round.accept_proposal(qbft_round.propose(block.copy(header=header), ADDRESSES[0]))
    return qbft_round


def test_four_validators_need_three_prepares_and_three_commits(ledger):
    qbft_round = proposed_round(ledger)
    assert qbft_round.quorum == 3
    for key in KEYS[:2]:
        qbft_round.accept_prepare(qbft_round.prepare(key))
    assert not qbft_round.is_prepared
    with pytest.raises(ConsensusError, match="2 of 3 prepares"):
        qbft_round.commit(KEYS[0])
    qbft_round.accept_prepare(qbft_round.prepare(KEYS[2]))
    assert qbft_round.is_prepared
    for key in KEYS[:2]:
        qbft_round.accept_commit(qbft_round.commit(key))
    with pytest.raises(ConsensusError, match="2 of 3 commits"):
        qbft_round.finalize()
    qbft_round.accept_commit(qbft_round.commit(KEYS[3]))
    final = qbft_round.finalize()
    report = qbft.verify_header(final.header, ADDRESSES)
    assert set(report.signers) == {ADDRESSES[0], ADDRESSES[1], ADDRESSES[3]}
    assert final.header.hash == qbft_round.digest


def test_round_refuses_strangers_and_other_slots(ledger):
    qbft_round = proposed_round(ledger)
    with pytest.raises(ConsensusError, match=r"prepare signer .* is not a validator"):
        qbft_round.accept_prepare(qbft_round.prepare(VALIDATOR_KEY))
    for key in KEYS[:3]:
        qbft_round.accept_prepare(qbft_round.prepare(key))
    with pytest.raises(ConsensusError, match=r"commit signer .* is not a validator"):
        qbft_round.accept_commit(qbft_round.commit(VALIDATOR_KEY))
    commit = qbft_round.commit(KEYS[0])
    with pytest.raises(ConsensusError, match="height 2 round 0"):
        qbft_round.accept_commit(Commit(2, 0, commit.digest, commit.commit_seal))
    with pytest.raises(ConsensusError, match="another block"):
        qbft_round.accept_commit(Commit(1, 0, b"\x00" * 32, commit.commit_seal))


def test_round_change_is_signed_by_its_sender():
    message = round_change(KEYS[1], height=5, round_number=1)
    assert (message.height, message.round) == (5, 1)
    assert message.signer == ADDRESSES[1]


def test_header_hash_ignores_seals_and_round(ledger):
    block, _ = ledger.build_block([], timestamp=T0 + 1)
    extra = qbft.QbftExtraData.decode(block.header.extra_data)
    later_round = block.header.copy(extra_data=replace(extra, round=3, commit_seals=()).encode())
    assert isinstance(later_round, QbftLondonBlockHeader)
    assert later_round.hash == block.header.hash
    assert qbft.commit_seal_digest(later_round) != qbft.commit_seal_digest(block.header)
    other_block = block.header.copy(timestamp=T0 + 2)
    assert other_block.hash != block.header.hash
