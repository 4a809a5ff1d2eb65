"""QBFT extraData, header hashes and commit seals against Hyperledger Besu's rules and vectors.

Vectors marked "Besu" come from hyperledger/besu:
- consensus/qbft/src/test/java/org/hyperledger/besu/consensus/qbft/QbftExtraDataCodecTest.java
- consensus/common/src/test/java/org/hyperledger/besu/consensus/common/bft/BftHelpersTest.java
- consensus/ibft/src/test/java/org/hyperledger/besu/consensus/ibft/BftBlockHashingTest.java (header
  fields and committer keys 1..4; Besu computes its expected hash with its own code, so only the
  inputs and the rule carry over, not a hash literal).
"""

from __future__ import annotations

import dataclasses

import pytest
import rlp
from eth_keys.datatypes import PrivateKey
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from hypothesis import given
from hypothesis import strategies as st

from idfuse_sdk.exceptions import (
    EncodingError,
    QbftDuplicateSealError,
    QbftError,
    QbftExtraDataError,
    QbftHeaderError,
    QbftQuorumError,
    QbftSealError,
    QbftUnknownSignerError,
)
from idfuse_sdk.qbft import (
    MAX_ROUND,
    MIX_HASH,
    HeaderFields,
    QbftExtraData,
    Vote,
    block_hash,
    commit_seal_digest,
    header_fields,
    quorum,
    recover_commit_signers,
    sign_commit_seal,
    verify_commit_seals,
    verify_header,
)

# --- Besu QbftExtraDataCodecTest -------------------------------------------------------------

BESU_VANITY = bytes(range(1, 33))  # createNonEmptyVanityData()
BESU_VALIDATORS = (bytes(19) + b"\x01", bytes(19) + b"\x02")
BESU_SEALS = (
    (1).to_bytes(32, "big") + (10).to_bytes(32, "big") + b"\x00",  # createSignature(ONE, TEN, 0)
    (10).to_bytes(32, "big") + (1).to_bytes(32, "big") + b"\x00",  # createSignature(TEN, ONE, 0)
)
BESU_EXTRA = QbftExtraData(
    BESU_VANITY, BESU_VALIDATORS, Vote(BESU_VALIDATORS[0], True), 0x00FEDCBA, BESU_SEALS
)
BESU_RAW_HEX = (  # RAW_HEX_ENCODING_STRING
    "f8f0a00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20ea940000000000000000"
    "000000000000000000000001940000000000000000000000000000000000000002d7940000000000000000"
    "00000000000000000000000181ff83fedcbaf886b841000000000000000000000000000000000000000000"
    "0000000000000000000001000000000000000000000000000000000000000000000000000000000000000a"
    "00b841000000000000000000000000000000000000000000000000000000000000000a0000000000000000"
    "00000000000000000000000000000000000000000000000100"
)
_BESU_BODY = BESU_RAW_HEX[4 : 4 + 2 * (33 + 43 + 24)]  # vanity, validators, vote


def test_encoding_matches_besu_known_raw_hex() -> None:
    assert BESU_EXTRA.encode().hex() == BESU_RAW_HEX


def test_decoding_besu_known_raw_hex() -> None:
    assert QbftExtraData.decode(bytes.fromhex(BESU_RAW_HEX)) == BESU_EXTRA


def test_encode_without_commit_seals_matches_besu() -> None:
    # extraDataCanBeEncodedWithoutCommitSeals: writeIntScalar(round), writeEmptyList().
    assert BESU_EXTRA.encode_without_commit_seals().hex() == "f869" + _BESU_BODY + "83fedcba" + "c0"


def test_encode_without_commit_seals_and_round_matches_besu() -> None:
    # extraDataCanBeEncodedWithoutCommitSealsOrRoundNumber: writeNull() (0x80), writeEmptyList().
    assert BESU_EXTRA.encode_without_commit_seals_and_round().hex() == "f866" + _BESU_BODY + "80" + "c0"


def test_round_as_non_fixed_length_bytes_decodes() -> None:
    # correctlyCodedRoundConstitutesValidContent: round written as the bytes DC BA.
    raw = rlp.encode([bytes(32), [], [bytes(19) + b"\x01", b"\xff"], b"\xdc\xba", []])
    assert QbftExtraData.decode(raw).round == 0xDCBA


def test_drop_vote_is_written_as_rlp_null() -> None:
    # emptyListConstituteValidContent: a drop vote is [recipient, writeNull()].
    extra = QbftExtraData(bytes(32), (), Vote(bytes(19) + b"\x01", False), 0)
    assert extra.encode() == rlp.encode([bytes(32), [], [bytes(19) + b"\x01", b""], b"", []])
    assert QbftExtraData.decode(extra.encode()).vote == Vote(bytes(19) + b"\x01", False)


def test_genesis_extra_data_is_besus() -> None:
    # QbftExtraDataCodec.encodeFromAddresses: zero vanity, validators, no vote, round 0, no seals.
    raw = QbftExtraData.genesis(BESU_VALIDATORS).encode()
    assert raw == rlp.encode([bytes(32), list(BESU_VALIDATORS), [], b"", []])


# --- strict decoding ---------------------------------------------------------------------------

V = bytes(20)
OK = [bytes(32), [V], [], b"\x01", []]


def _with(index: int, value: object) -> bytes:
    items = list(OK)
    items[index] = value
    return rlp.encode(items)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param(b"", "empty", id="empty"),  # Besu emptyExtraDataThrowsException
        pytest.param(b"\xff", "RLP", id="not-rlp"),
        pytest.param(rlp.encode(OK) + b"\x00", "RLP", id="trailing-byte"),
        pytest.param(b"\x81\x05", "RLP", id="non-canonical-rlp"),
        pytest.param(rlp.encode(b"x" * 40), "5 items", id="not-a-list"),
        pytest.param(rlp.encode([*OK, b"\x01"]), "5 items", id="six-items"),  # Besu: lenient
        pytest.param(rlp.encode(OK[:4]), "5 items", id="four-items"),
        pytest.param(_with(0, bytes(31)), "vanity", id="vanity-31"),
        pytest.param(_with(0, [bytes(32)]), "vanity", id="vanity-list"),
        pytest.param(_with(1, b"\x01"), "validators must be a list", id="validators-not-list"),
        pytest.param(_with(1, [bytes(19)]), "validator 0", id="validator-19"),
        pytest.param(_with(1, [[V]]), "validator 0", id="validator-list"),
        pytest.param(_with(2, b""), "vote must be a list", id="vote-not-list"),
        pytest.param(_with(2, [V, b"\xaa"]), "vote type", id="vote-0xaa"),  # Besu incorrectVoteType
        pytest.param(_with(2, [V, b"\x00"]), "vote type", id="vote-0x00"),
        pytest.param(_with(2, [V]), "vote must be", id="vote-one-item"),
        pytest.param(_with(2, [V, b"\xff", b""]), "vote must be", id="vote-three-items"),
        pytest.param(_with(2, [bytes(21), b"\xff"]), "recipient", id="vote-recipient-21"),
        pytest.param(_with(3, b"\x00\xdc\xba"), "leading zero", id="round-leading-zero"),  # Besu
        pytest.param(_with(3, b"\x00"), "leading zero", id="round-zero-byte"),
        pytest.param(_with(3, b"\x01\x00\x00\x00\x00"), "4 bytes", id="round-5-bytes"),
        pytest.param(_with(3, b"\x80\x00\x00\x00"), "at most", id="round-2**31"),
        pytest.param(_with(3, []), "round", id="round-list"),
        pytest.param(_with(4, b""), "seals must be a list", id="seals-not-list"),
        pytest.param(_with(4, [bytes(64)]), "commit seal 0", id="seal-64"),
        pytest.param(_with(4, [bytes(64) + b"\x1b"]), "recovery id", id="seal-v-27"),
    ],
)
def test_decode_rejects(raw: bytes, message: str) -> None:
    with pytest.raises(QbftExtraDataError, match=message):
        QbftExtraData.decode(raw)


def test_extra_data_error_is_an_encoding_error() -> None:
    assert issubclass(QbftExtraDataError, EncodingError)
    assert issubclass(QbftExtraDataError, QbftError)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"vanity": bytes(31)},
        {"validators": [V]},
        {"round": -1},
        {"round": MAX_ROUND + 1},
        {"round": True},
        {"commit_seals": (bytes(65)[:-1] + b"\x02",)},
    ],
)
def test_construction_rejects(kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {"vanity": bytes(32), "validators": (V,), "vote": None, "round": 0}
    with pytest.raises(QbftExtraDataError):
        QbftExtraData(**{**fields, **kwargs})  # type: ignore[arg-type]


addresses = st.binary(min_size=20, max_size=20)
seals = st.builds(
    lambda body, v: body + bytes([v]), st.binary(min_size=64, max_size=64), st.sampled_from([0, 1])
)
extra_datas = st.builds(
    QbftExtraData,
    vanity=st.binary(min_size=32, max_size=32),
    validators=st.lists(addresses, max_size=8).map(tuple),
    vote=st.none() | st.builds(Vote, addresses, st.booleans()),
    round=st.integers(0, MAX_ROUND),
    commit_seals=st.lists(seals, max_size=6).map(tuple),
)


@given(extra_datas)
def test_round_trip(extra: QbftExtraData) -> None:
    raw = extra.encode()
    assert QbftExtraData.decode(raw) == extra
    assert QbftExtraData.decode(raw).encode() == raw


@given(extra_datas)
def test_stripped_encodings_decode_as_expected(extra: QbftExtraData) -> None:
    assert QbftExtraData.decode(extra.encode_without_commit_seals()) == dataclasses.replace(
        extra, commit_seals=()
    )
    assert QbftExtraData.decode(extra.encode_without_commit_seals_and_round()) == dataclasses.replace(
        extra, commit_seals=(), round=0
    )


# --- headers and hashes ------------------------------------------------------------------------

KEYS = [PrivateKey((i).to_bytes(32, "big")) for i in range(1, 5)]  # Besu BftBlockHashingTest keys
VALIDATORS = tuple(key.public_key.to_canonical_address() for key in KEYS)
OUTSIDER = PrivateKey((5).to_bytes(32, "big"))


def test_committer_keys_give_the_well_known_addresses() -> None:
    assert [a.hex() for a in VALIDATORS] == [
        "7e5f4552091a69125d5dfcb7b8c2659029395bdf",
        "2b5ad5c4795c026514f8317c7a215e218dccd6cf",
        "6813eb9362372eef6200f3b1dbc3f819671cba69",
        "1eff47bc3a10a45d4b230b5d10e37751fe6aa718",
    ]


def _header(extra: QbftExtraData, *, number: int = 1, base_fee: int | None = 7) -> HeaderFields:
    # The fields of Besu's BftBlockHashingTest.setHeaderFieldsExceptForExtraData, plus a base fee.
    return HeaderFields(
        parent_hash=bytes.fromhex("a7762d3307dbf2ae6a1ae1b09cf61c7603722b2379731b6b90409cdb8c8288a0"),
        uncles_hash=bytes.fromhex("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347"),
        coinbase=bytes(20),
        state_root=bytes.fromhex("ca07595b82f908822971b7e848398e3395e59ee52565c7ef3603df1a1fa7bc80"),
        transaction_root=bytes.fromhex("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"),
        receipt_root=bytes.fromhex("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"),
        bloom=bytes(256),
        difficulty=1,
        number=number,
        gas_limit=4704588,
        gas_used=0,
        timestamp=1530674616,
        extra_data=extra.encode(),
        mix_hash=MIX_HASH,
        nonce=bytes(8),
        base_fee_per_gas=base_fee,
    )


UNSEALED = QbftExtraData(bytes(range(32)), VALIDATORS, Vote(bytes(19) + b"\x03", True), 0x00FEDCBA)


def _sealed(keys: list[PrivateKey], extra: QbftExtraData = UNSEALED) -> HeaderFields:
    header = _header(extra)
    return header.with_extra_data(
        extra.with_commit_seals(tuple(sign_commit_seal(k, header) for k in keys)).encode()
    )


def test_mix_hash_is_the_bft_digest() -> None:
    assert MIX_HASH == b"ctical byzantine fault tolerance"


def test_block_hash_follows_besu_rule() -> None:
    # calculateHashOfBftBlockOnchain: extraData without seals and with round 0.
    header = _sealed(KEYS[:3])
    expected = keccak(header.with_extra_data(UNSEALED.encode_without_commit_seals_and_round()).encode())
    assert block_hash(header) == expected


def test_commit_seal_digest_follows_besu_rule() -> None:
    # calculateDataHashForCommittedSeal: extraData without seals, round kept.
    header = _sealed(KEYS[:3])
    assert commit_seal_digest(header) == keccak(
        header.with_extra_data(UNSEALED.encode_without_commit_seals()).encode()
    )


def test_seals_change_neither_hash() -> None:
    unsealed, sealed = _header(UNSEALED), _sealed(KEYS)
    assert unsealed.encode() != sealed.encode()
    assert block_hash(sealed) == block_hash(unsealed)
    assert commit_seal_digest(sealed) == commit_seal_digest(unsealed)


def test_round_changes_the_seal_digest_but_not_the_block_hash() -> None:
    other_round = _header(dataclasses.replace(UNSEALED, round=1))
    assert commit_seal_digest(other_round) != commit_seal_digest(_header(UNSEALED))
    assert block_hash(other_round) == block_hash(_header(UNSEALED))


def test_vote_and_validators_change_the_block_hash() -> None:
    base = block_hash(_header(UNSEALED))
    assert block_hash(_header(dataclasses.replace(UNSEALED, vote=None))) != base
    assert block_hash(_header(dataclasses.replace(UNSEALED, validators=VALIDATORS[:3]))) != base


def test_genesis_hashes_as_is() -> None:
    genesis = _header(QbftExtraData.genesis(VALIDATORS), number=0)
    assert block_hash(genesis) == keccak(genesis.encode())
    sealed_genesis = genesis.with_extra_data(b"not even rlp")
    assert block_hash(sealed_genesis) == keccak(sealed_genesis.encode())


def test_malformed_extra_data_fails_hashing() -> None:
    with pytest.raises(QbftExtraDataError):
        block_hash(_header(UNSEALED).with_extra_data(b"\xff"))


# --- the same hash from py-evm and JSON-RPC ----------------------------------------------------


def _rpc_block(fields: HeaderFields) -> dict[str, object]:
    """The block as eth_getBlockByNumber returns it on the wire."""
    return {
        "hash": "0x" + block_hash(fields).hex(),
        "parentHash": "0x" + fields.parent_hash.hex(),
        "sha3Uncles": "0x" + fields.uncles_hash.hex(),
        "miner": "0x" + fields.coinbase.hex(),
        "stateRoot": "0x" + fields.state_root.hex(),
        "transactionsRoot": "0x" + fields.transaction_root.hex(),
        "receiptsRoot": "0x" + fields.receipt_root.hex(),
        "logsBloom": "0x" + fields.bloom.hex(),
        "difficulty": hex(fields.difficulty),
        "totalDifficulty": hex(fields.number + 1),
        "number": hex(fields.number),
        "gasLimit": hex(fields.gas_limit),
        "gasUsed": hex(fields.gas_used),
        "timestamp": hex(fields.timestamp),
        "extraData": "0x" + fields.extra_data.hex(),
        "mixHash": "0x" + fields.mix_hash.hex(),
        "nonce": "0x" + fields.nonce.hex(),
        "baseFeePerGas": hex(fields.base_fee_per_gas or 0),
        "size": "0x1",
        "transactions": [],
        "uncles": [],
    }


def _web3_block(fields: HeaderFields) -> dict[str, object]:
    """The block as web3.py formats it behind ExtraDataToPOAMiddleware."""
    block: dict[str, object] = {
        key: (
            HexBytes(value)
            if key not in {"number", "difficulty", "totalDifficulty", "size"}
            else int(value, 16)
        )
        for key, value in _rpc_block(fields).items()
        if isinstance(value, str)
    }
    for key in ("gasLimit", "gasUsed", "timestamp", "baseFeePerGas"):
        block[key] = int(_rpc_block(fields)[key], 16)  # type: ignore[call-overload]
    block["miner"] = "0x" + fields.coinbase.hex()
    block["proofOfAuthorityData"] = block.pop("extraData")
    return block


def _evm_header(fields: HeaderFields) -> object:
    london = pytest.importorskip("eth.vm.forks.london.blocks")
    return london.LondonBlockHeader(
        parent_hash=fields.parent_hash,
        uncles_hash=fields.uncles_hash,
        coinbase=fields.coinbase,
        state_root=fields.state_root,
        transaction_root=fields.transaction_root,
        receipt_root=fields.receipt_root,
        bloom=int.from_bytes(fields.bloom, "big"),
        difficulty=fields.difficulty,
        block_number=fields.number,
        gas_limit=fields.gas_limit,
        gas_used=fields.gas_used,
        timestamp=fields.timestamp,
        extra_data=fields.extra_data,
        mix_hash=fields.mix_hash,
        nonce=fields.nonce,
        base_fee_per_gas=fields.base_fee_per_gas,
    )


def test_py_evm_rpc_and_web3_headers_hash_alike() -> None:
    fields = _sealed(KEYS[:3])
    evm = _evm_header(fields)
    assert header_fields(evm) == fields
    assert header_fields(_rpc_block(fields)) == fields
    assert header_fields(_web3_block(fields)) == fields
    expected = block_hash(fields)
    assert block_hash(evm) == block_hash(_rpc_block(fields)) == block_hash(_web3_block(fields)) == expected
    # py-evm's own hash of the header with the seal-free, round-0 extraData is the QBFT hash.
    stripped = evm.copy(extra_data=UNSEALED.encode_without_commit_seals_and_round())  # type: ignore[attr-defined]
    assert stripped.hash == expected
    assert evm.hash != expected  # type: ignore[attr-defined]  # py-evm hashes the seals too


def test_header_rlp_matches_py_evm_with_and_without_base_fee() -> None:
    fields = _sealed(KEYS[:1])
    assert rlp.encode(_evm_header(fields)) == fields.encode()
    frontier = pytest.importorskip("eth.rlp.headers")
    legacy = dataclasses.replace(fields, base_fee_per_gas=None)
    evm = frontier.BlockHeader(
        **{
            "block_number" if name == "number" else name: getattr(legacy, name)
            for name in (f.name for f in dataclasses.fields(HeaderFields))
            if name != "base_fee_per_gas"
        }
        | {"bloom": 0}
    )
    assert rlp.encode(evm) == legacy.encode()
    assert header_fields(evm) == legacy


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"withdrawalsRoot": "0x" + "00" * 32}, "withdrawalsRoot"),
        ({"miner": "0x1234"}, "coinbase"),
        ({"number": "12"}, "number"),
        ({"nonce": "0xzz"}, "nonce"),
        ({"difficulty": True}, "difficulty"),
    ],
)
def test_bad_rpc_blocks_are_refused(change: dict[str, object], message: str) -> None:
    block = _rpc_block(_sealed(KEYS[:3])) | change
    with pytest.raises(QbftHeaderError, match=message):
        block_hash(block)


def test_missing_field_is_named() -> None:
    block = _rpc_block(_sealed(KEYS[:3]))
    del block["mixHash"]
    with pytest.raises(QbftHeaderError, match="mixHash"):
        header_fields(block)


def test_not_a_header_is_refused() -> None:
    with pytest.raises(QbftHeaderError, match="not a block header"):
        header_fields(42)


# --- commit seals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "q"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 4), (7, 5), (10, 7), (15, 10), (20, 14)]
)
def test_quorum_matches_besu(n: int, q: int) -> None:
    assert quorum(n) == q  # BftHelpersTest.calculateRequiredValidatorQuorum*


def test_seals_recover_to_their_signers_in_order() -> None:
    header = _sealed([KEYS[2], KEYS[0], KEYS[3]])
    assert recover_commit_signers(header) == (VALIDATORS[2], VALIDATORS[0], VALIDATORS[3])


def test_seal_layout_is_r_s_recid() -> None:
    seal = sign_commit_seal(KEYS[0], _header(UNSEALED))
    assert len(seal) == 65
    assert seal[64] in (0, 1)
    assert KEYS[0].sign_msg_hash(commit_seal_digest(_header(UNSEALED))).to_bytes() == seal


def test_three_of_four_seals_finalise() -> None:
    header = _sealed(KEYS[:3])
    report = verify_commit_seals(header, VALIDATORS)
    assert report.signers == VALIDATORS[:3]
    assert (report.quorum, report.validator_count) == (3, 4)
    assert report.block_hash == block_hash(header)
    assert report.digest == commit_seal_digest(header)
    # The same check from what an auditor reads over JSON-RPC, validators as checksum strings.
    rpc_report = verify_commit_seals(_rpc_block(header), ["0x" + v.hex() for v in VALIDATORS])
    assert rpc_report == report


def test_four_of_four_seals_finalise_a_py_evm_header() -> None:
    header = _sealed(KEYS)
    assert verify_commit_seals(_evm_header(header), VALIDATORS).signers == VALIDATORS


def test_two_of_four_seals_are_short_of_quorum() -> None:
    with pytest.raises(QbftQuorumError, match="2 commit seals; 4 validators need 3"):
        verify_commit_seals(_sealed(KEYS[:2]), VALIDATORS)


def test_a_seal_from_a_non_validator_is_refused() -> None:
    with pytest.raises(
        QbftUnknownSignerError, match=f"seal 3 is from 0x{OUTSIDER.public_key.to_canonical_address().hex()}"
    ):
        verify_commit_seals(_sealed([*KEYS[:3], OUTSIDER]), VALIDATORS)


def test_a_duplicated_seal_is_refused() -> None:
    header = _sealed(KEYS[:3])
    extra = QbftExtraData.decode(header.extra_data)
    doubled = header.with_extra_data(
        extra.with_commit_seals((*extra.commit_seals, extra.commit_seals[0])).encode()
    )
    with pytest.raises(QbftDuplicateSealError, match=f"seal 3 repeats signer 0x{VALIDATORS[0].hex()}"):
        verify_commit_seals(doubled, VALIDATORS)


def test_two_seals_plus_a_duplicate_do_not_make_quorum() -> None:
    header = _sealed([KEYS[0], KEYS[1], KEYS[0]])
    with pytest.raises(QbftDuplicateSealError):
        verify_commit_seals(header, VALIDATORS)


def test_a_seal_over_another_round_recovers_to_a_stranger() -> None:
    other_round = _header(dataclasses.replace(UNSEALED, round=1))
    wrong = sign_commit_seal(KEYS[3], other_round)
    header = _sealed(KEYS[:3])
    extra = QbftExtraData.decode(header.extra_data)
    tampered = header.with_extra_data(extra.with_commit_seals((*extra.commit_seals, wrong)).encode())
    with pytest.raises(QbftUnknownSignerError):
        verify_commit_seals(tampered, VALIDATORS)


def test_an_unrecoverable_seal_is_refused() -> None:
    bad = bytes(64) + b"\x00"  # r = s = 0
    header = _header(UNSEALED.with_commit_seals((bad,)))
    with pytest.raises(QbftSealError, match="commit seal 0 is not a valid signature"):
        recover_commit_signers(header)


def test_validators_must_be_addresses() -> None:
    with pytest.raises(QbftHeaderError, match="20-byte address"):
        verify_commit_seals(_sealed(KEYS[:3]), [b"\x01"])


# --- whole-header checks ------------------------------------------------------------------------


def _proposed_by(proposer: bytes, keys: list[PrivateKey]) -> HeaderFields:
    header = dataclasses.replace(_header(UNSEALED), coinbase=proposer)
    seals = tuple(sign_commit_seal(k, header) for k in keys)
    return header.with_extra_data(UNSEALED.with_commit_seals(seals).encode())


def test_verify_header_accepts_a_final_rpc_block() -> None:
    header = _proposed_by(VALIDATORS[1], KEYS[:3])
    report = verify_header(_rpc_block(header), VALIDATORS)
    assert report.signers == VALIDATORS[:3]
    assert verify_header(_web3_block(header), VALIDATORS) == report
    assert verify_header(_evm_header(header), VALIDATORS) == report


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hash": "0x" + "11" * 32}, "reported hash 0x1111"),
        ({"hash": "0x1234"}, "block hash must be 32 bytes"),
        ({"mixHash": "0x" + "00" * 32}, "mix hash"),
        ({"difficulty": "0x2"}, "difficulty is 2, not 1"),
    ],
)
def test_verify_header_refuses_non_qbft_blocks(change: dict[str, object], message: str) -> None:
    block = _rpc_block(_proposed_by(VALIDATORS[1], KEYS[:3])) | change
    with pytest.raises(QbftHeaderError, match=message):
        verify_header(block, VALIDATORS)


def test_verify_header_refuses_a_proposer_outside_the_validators() -> None:
    outsider = OUTSIDER.public_key.to_canonical_address()
    with pytest.raises(QbftHeaderError, match=f"proposer 0x{outsider.hex()} is not a validator"):
        verify_header(_proposed_by(outsider, KEYS[:3]), VALIDATORS)


def test_verify_header_checks_the_seals() -> None:
    with pytest.raises(QbftQuorumError):
        verify_header(_rpc_block(_proposed_by(VALIDATORS[1], KEYS[:2])), VALIDATORS)
