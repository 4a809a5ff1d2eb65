"""QBFT's steps for one height, as explicit messages and a round state.

The QBFT formal specification (and Besu's ``consensus/qbft/.../statemachine/QbftRound.java``)
runs each height as: the round's proposer broadcasts a **proposal** (the block); each
validator that accepts it broadcasts a **prepare** for the block's hash; once a quorum has
prepared, each broadcasts a **commit** carrying its commit seal; once a quorum of commit seals
is in, the block is **final** and is stored with the seals in its extraData. A validator that
times out broadcasts a **round change** and the next round's proposer proposes again.

With one validator the ledger plays every role itself, but through the same messages, so
peers are an addition: a transport carries these dataclasses, and :class:`QbftRound` accepts
them from whoever sent them. Prepare and round-change messages are signed over
``keccak(rlp([code, height, round, digest]))``; a commit's authenticity is its commit seal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import rlp  # type: ignore[import-untyped]
from eth.abc import BlockAPI
from eth_keys.datatypes import PrivateKey, Signature
from eth_keys.exceptions import BadSignature
from eth_utils.exceptions import ValidationError as KeysValidationError

from idfuse_node.exceptions import ConsensusError
from idfuse_sdk.hashing import keccak
from idfuse_sdk.qbft import (
    QbftExtraData,
    block_hash,
    quorum,
    recover_commit_signers,
    sign_commit_seal,
)
from idfuse_sdk.qbft.header import header_fields


class MessageCode(IntEnum):
    """Besu's QBFT message codes (``consensus/qbft/.../messagedata/QbftV1.java``)."""

    PROPOSAL = 0x12
    PREPARE = 0x13
    COMMIT = 0x14
    ROUND_CHANGE = 0x15


def message_digest(code: MessageCode, height: int, round_number: int, digest: bytes) -> bytes:
    """What a prepare or round-change signature signs."""
    return keccak(rlp.encode([int(code), height, round_number, digest]))


def _sign(key: PrivateKey, code: MessageCode, height: int, round_number: int, digest: bytes) -> bytes:
    return bytes(key.sign_msg_hash(message_digest(code, height, round_number, digest)).to_bytes())


def _signer(signature: bytes, code: MessageCode, height: int, round_number: int, digest: bytes) -> bytes:
    try:
        public_key = Signature(signature).recover_public_key_from_msg_hash(
            message_digest(code, height, round_number, digest)
        )
    except (BadSignature, KeysValidationError) as error:
        raise ConsensusError(f"{code.name.lower()} signature is invalid: {error}") from error
    return bytes(public_key.to_canonical_address())


@dataclass(frozen=True)
class Proposal:
    """The round's proposer offers ``block`` (its extraData carries the round, no seals)."""

    height: int
    round: int
    block: BlockAPI
    proposer: bytes


@dataclass(frozen=True)
class Prepare:
    """``signer`` accepts the proposal whose block hash is ``digest``."""

    height: int
    round: int
    digest: bytes
    signature: bytes

    @property
    def signer(self) -> bytes:
        return _signer(self.signature, MessageCode.PREPARE, self.height, self.round, self.digest)


@dataclass(frozen=True)
class Commit:
    """A validator commits the block hashed ``digest`` with ``commit_seal``, its signature
    over the block's commit-seal digest (:func:`idfuse_sdk.qbft.commit_seal_digest`)."""

    height: int
    round: int
    digest: bytes
    commit_seal: bytes


@dataclass(frozen=True)
class RoundChange:
    """``signer`` gives up on its current round and asks to move to ``round``. Sent by a
    validator whose round timer expires; used once the ledger runs several validators."""

    height: int
    round: int
    signature: bytes
    prepared_block: BlockAPI | None = None

    @property
    def signer(self) -> bytes:
        return _signer(self.signature, MessageCode.ROUND_CHANGE, self.height, self.round, b"")


def round_change(key: PrivateKey, height: int, round_number: int) -> RoundChange:
    """A signed round-change message to ``round_number`` at ``height``."""
    return RoundChange(height, round_number, _sign(key, MessageCode.ROUND_CHANGE, height, round_number, b""))


@dataclass
class QbftRound:
    """One round at one height: collects a proposal, prepares and commits and says when the
    block is final.

    :param validators: The validator set after the parent block.
    """

    validators: tuple[bytes, ...]
    height: int
    round: int = 0
    proposal: Proposal | None = None
    prepares: dict[bytes, Prepare] = field(default_factory=dict)
    commits: dict[bytes, Commit] = field(default_factory=dict)

    @property
    def quorum(self) -> int:
        return quorum(len(self.validators))

    def _check_validator(self, address: bytes, role: str) -> None:
        if address not in self.validators:
            raise ConsensusError(f"{role} 0x{address.hex()} is not a validator at height {self.height}")

    def _check_slot(self, height: int, round_number: int, kind: str) -> None:
        if (height, round_number) != (self.height, self.round):
            raise ConsensusError(
                f"{kind} for height {height} round {round_number}; this round is "
                f"height {self.height} round {self.round}"
            )

    def _proposed_block(self) -> BlockAPI:
        if self.proposal is None:
            raise ConsensusError(f"no proposal at height {self.height} round {self.round}")
        return self.proposal.block

    @property
    def digest(self) -> bytes:
        """The proposed block's hash."""
        return block_hash(self._proposed_block().header)

    def propose(self, block: BlockAPI, proposer: bytes) -> Proposal:
        """The proposal of ``block`` by ``proposer``: the block must carry this round in its
        extraData and no commit seals."""
        extra = QbftExtraData.decode(block.header.extra_data)
        if extra.round != self.round or extra.commit_seals:
            raise ConsensusError("a proposed block carries its round and no commit seals")
        return Proposal(self.height, self.round, block, proposer)

    def accept_proposal(self, proposal: Proposal) -> None:
        """Take ``proposal`` as this round's block."""
        self._check_slot(proposal.height, proposal.round, "proposal")
        self._check_validator(proposal.proposer, "proposer")
        if proposal.block.number != self.height:
            raise ConsensusError(f"proposal holds block {proposal.block.number}, not {self.height}")
        if self.proposal is not None and self.proposal != proposal:
            raise ConsensusError(f"a second proposal at height {self.height} round {self.round}")
        self.proposal = proposal

    def prepare(self, key: PrivateKey) -> Prepare:
        """This validator's prepare for the accepted proposal."""
        digest = self.digest
        signature = _sign(key, MessageCode.PREPARE, self.height, self.round, digest)
        return Prepare(self.height, self.round, digest, signature)

    def accept_prepare(self, message: Prepare) -> None:
        """Count ``message`` towards the prepare quorum."""
        self._check_slot(message.height, message.round, "prepare")
        if message.digest != self.digest:
            raise ConsensusError("prepare names another block than the proposal")
        signer = message.signer
        self._check_validator(signer, "prepare signer")
        self.prepares[signer] = message

    @property
    def is_prepared(self) -> bool:
        """A quorum has prepared the proposal: validators may commit."""
        return len(self.prepares) >= self.quorum

    def commit(self, key: PrivateKey) -> Commit:
        """This validator's commit (with its commit seal) for the prepared proposal."""
        if not self.is_prepared:
            raise ConsensusError(
                f"only {len(self.prepares)} of {self.quorum} prepares at height {self.height}; cannot commit"
            )
        block = self._proposed_block()
        return Commit(self.height, self.round, self.digest, sign_commit_seal(key, block.header))

    def accept_commit(self, message: Commit) -> None:
        """Count ``message`` towards the commit quorum."""
        self._check_slot(message.height, message.round, "commit")
        if message.digest != self.digest:
            raise ConsensusError("commit names another block than the proposal")
        fields = header_fields(self._proposed_block().header)
        extra = QbftExtraData.decode(fields.extra_data).with_commit_seals((message.commit_seal,))
        (signer,) = recover_commit_signers(fields.with_extra_data(extra.encode()))
        self._check_validator(signer, "commit signer")
        self.commits[signer] = message

    @property
    def is_committed(self) -> bool:
        """A quorum of commit seals is in: the block is final."""
        return len(self.commits) >= self.quorum

    def finalize(self) -> BlockAPI:
        """The proposed block with the collected commit seals in its extraData.

        :raises ConsensusError: Fewer commits than the quorum.
        """
        if not self.is_committed:
            raise ConsensusError(
                f"only {len(self.commits)} of {self.quorum} commits at height {self.height}; not final"
            )
        block = self._proposed_block()
        seals = tuple(self.commits[v].commit_seal for v in self.validators if v in self.commits)
        extra = QbftExtraData.decode(block.header.extra_data).with_commit_seals(seals)
        return block.copy(header=block.header.copy(extra_data=extra.encode()))
