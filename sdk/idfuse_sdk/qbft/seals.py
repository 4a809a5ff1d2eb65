"""Commit seals: sign them, recover their signers, and check that they finalise a block.

From hyperledger/besu:

- A seal is ``nodeKey.sign(calculateDataHashForCommittedSeal(header))`` encoded as
  ``SECPSignature.encodedBytes()``, ``r ‖ s ‖ recId`` (``consensus/qbft/.../statemachine/
  QbftRound.java``; ``crypto/.../SECPSignature.java``). eth-keys signs the same way (RFC 6979,
  low s) and ``Signature.to_bytes()`` is the same layout.
- Recovery: ``BftBlockHashing.recoverCommitterAddresses`` (``consensus/common/.../bft/``).
- Acceptance: ``consensus/common/.../bft/headervalidationrules/BftCommitSealsValidationRule.java``
  rejects duplicated committers, fewer committers than
  ``BftHelpers.calculateRequiredValidatorQuorum(n) = ceil(2n/3)`` and committers outside the
  validator set after the parent block. We reject the same headers; the checks run duplicates,
  then strangers, then quorum, so the error names the most specific fault.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from eth_keys.datatypes import PrivateKey, Signature
from eth_keys.exceptions import BadSignature
from eth_utils.exceptions import ValidationError as KeysValidationError

from idfuse_sdk.exceptions import (
    QbftDuplicateSealError,
    QbftQuorumError,
    QbftSealError,
    QbftUnknownSignerError,
)
from idfuse_sdk.qbft.extradata import QbftExtraData
from idfuse_sdk.qbft.header import block_hash, commit_seal_digest, header_fields, to_address


def quorum(validator_count: int) -> int:
    """The number of distinct validators whose commit seals finalise a block, ``ceil(2n/3)``
    (Besu ``BftHelpers.calculateRequiredValidatorQuorum``: 1→1, 2→2, 3→2, 4→3, 7→5, 10→7)."""
    if validator_count < 0:
        raise ValueError("validator_count must be non-negative")
    return -(-2 * validator_count // 3)


def _private_key(private_key: bytes | PrivateKey) -> PrivateKey:
    if isinstance(private_key, PrivateKey):
        return private_key
    return PrivateKey(bytes(private_key))


def sign_commit_seal(private_key: bytes | PrivateKey, header: object) -> bytes:
    """A validator's 65-byte commit seal over ``header`` (any commit seals already in its
    extraData are ignored; its round is signed).

    :param private_key: The validator's 32-byte secp256k1 key, or an eth-keys ``PrivateKey``.
    :param header: A py-evm header, a JSON-RPC block or :class:`HeaderFields`.
    :raises QbftHeaderError: ``header`` is not a London-or-earlier header.
    :raises QbftExtraDataError: Its ``extraData`` is not a QBFT encoding.
    """
    signature = _private_key(private_key).sign_msg_hash(commit_seal_digest(header))
    return bytes(signature.to_bytes())


def _recover(seal: bytes, digest: bytes, index: int) -> bytes:
    try:
        public_key = Signature(seal).recover_public_key_from_msg_hash(digest)
    except (BadSignature, KeysValidationError) as error:
        raise QbftSealError(f"commit seal {index} is not a valid signature: {error}") from error
    return bytes(public_key.to_canonical_address())


def recover_commit_signers(header: object) -> tuple[bytes, ...]:
    """The 20-byte address behind each commit seal of ``header``, in seal order.

    :raises QbftHeaderError: ``header`` is not a London-or-earlier header.
    :raises QbftExtraDataError: Its ``extraData`` is not a QBFT encoding.
    :raises QbftSealError: A seal does not recover to a public key.
    """
    fields = header_fields(header)
    digest = commit_seal_digest(fields)
    seals = QbftExtraData.decode(fields.extra_data).commit_seals
    return tuple(_recover(seal, digest, index) for index, seal in enumerate(seals))


@dataclass(frozen=True)
class CommitSealReport:
    """What :func:`verify_commit_seals` established about a final block."""

    block_hash: bytes
    """The QBFT block hash (compare with the ``hash`` a node reported)."""
    digest: bytes
    """The commit-seal digest the signers signed."""
    signers: tuple[bytes, ...]
    """The committers, in seal order; all distinct validators."""
    quorum: int
    """Seals needed for the given validator set."""
    validator_count: int
    """Distinct validators given."""


def verify_commit_seals(header: object, validators: Iterable[bytes | str]) -> CommitSealReport:
    """Check that ``header`` is final: its commit seals come from at least ``ceil(2n/3)``
    distinct members of ``validators``, each at most once.

    :param header: A py-evm header, a JSON-RPC block or :class:`HeaderFields`.
    :param validators: The validator set that must commit this block, i.e. the set after its
        parent (for a block that carries no vote, the set in its own extraData).
    :raises QbftHeaderError: ``header`` is not a London-or-earlier header, or a validator is not
        an address.
    :raises QbftExtraDataError: Its ``extraData`` is not a QBFT encoding.
    :raises QbftSealError: A seal does not recover to a public key.
    :raises QbftDuplicateSealError: Two seals recover to the same address.
    :raises QbftUnknownSignerError: A seal recovers to an address outside ``validators``.
    :raises QbftQuorumError: Fewer seals than the quorum.
    """
    validator_set = frozenset(to_address(v) for v in validators)
    fields = header_fields(header)
    signers = recover_commit_signers(fields)
    seen: set[bytes] = set()
    for index, signer in enumerate(signers):
        if signer in seen:
            raise QbftDuplicateSealError(f"commit seal {index} repeats signer 0x{signer.hex()}")
        seen.add(signer)
    for index, signer in enumerate(signers):
        if signer not in validator_set:
            raise QbftUnknownSignerError(f"commit seal {index} is from 0x{signer.hex()}, not a validator")
    needed = quorum(len(validator_set))
    if len(signers) < needed:
        raise QbftQuorumError(
            f"block {fields.number} has {len(signers)} commit seals; "
            f"{len(validator_set)} validators need {needed}"
        )
    return CommitSealReport(
        block_hash=block_hash(fields),
        digest=commit_seal_digest(fields),
        signers=signers,
        quorum=needed,
        validator_count=len(validator_set),
    )
