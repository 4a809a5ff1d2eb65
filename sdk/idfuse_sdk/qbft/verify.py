"""Whole-header checks an auditor runs on a block read over JSON-RPC.

The rules of hyperledger/besu ``consensus/qbft/src/main/java/org/hyperledger/besu/consensus/qbft/
QbftBlockHeaderValidationRulesetFactory.java`` that need no parent state beyond the validator
set: the constant mix hash and difficulty (``ConstantFieldValidationRule``), the proposer in the
validator set (``BftCoinbaseValidationRule``) and the commit seals
(``BftCommitSealsValidationRule``), plus the hash the node reported, which must be the QBFT
hash. Ancestry (``parentHash`` equal to the parent's :func:`block_hash`), timestamps, gas and
the validator-set transition (``QbftValidatorsValidationRule``) are left to the caller, who
holds the parent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from idfuse_sdk.exceptions import QbftHeaderError
from idfuse_sdk.qbft.header import DIFFICULTY, MIX_HASH, header_fields, reported_hash, to_address
from idfuse_sdk.qbft.seals import CommitSealReport, verify_commit_seals


def verify_header(header: object, validators: Iterable[bytes | str]) -> CommitSealReport:
    """Check that ``header`` is a final QBFT block of ``validators``.

    :param header: A py-evm header, a JSON-RPC block (whose ``hash``, when present, is checked)
        or :class:`~idfuse_sdk.qbft.HeaderFields`.
    :param validators: The validator set after the block's parent.
    :raises QbftHeaderError: The header is malformed, its mix hash or difficulty is not QBFT's,
        its proposer (``miner``) is not a validator, or its reported hash is not the QBFT hash.
    :raises QbftExtraDataError: Its ``extraData`` is not a QBFT encoding.
    :raises QbftSealError: Its commit seals do not finalise it (see :func:`verify_commit_seals`).
    """
    validator_list = list(validators)
    fields = header_fields(header)
    if fields.mix_hash != MIX_HASH:
        raise QbftHeaderError(f"block {fields.number} mix hash is 0x{fields.mix_hash.hex()}, not QBFT's")
    if fields.difficulty != DIFFICULTY:
        raise QbftHeaderError(f"block {fields.number} difficulty is {fields.difficulty}, not {DIFFICULTY}")
    report = verify_commit_seals(fields, validator_list)
    if fields.coinbase not in {to_address(v) for v in validator_list}:
        raise QbftHeaderError(f"block {fields.number} proposer 0x{fields.coinbase.hex()} is not a validator")
    reported = reported_hash(header) if isinstance(header, Mapping) else None
    if reported is not None and reported != report.block_hash:
        raise QbftHeaderError(
            f"block {fields.number} reported hash 0x{reported.hex()} is not its QBFT hash "
            f"0x{report.block_hash.hex()}"
        )
    return report
