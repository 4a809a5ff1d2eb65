"""QBFT headers as Hyperledger Besu writes them: extraData, block hash, commit seals.

The one implementation the ledger (which seals blocks) and auditors (which verify headers read
over JSON-RPC) share, so they can never disagree (docs: DESIGN §4, §7). Each module's docstring
names the Besu source file its rules come from.

- :mod:`.extradata`: :class:`QbftExtraData`, :class:`Vote`, strict ``encode``/``decode``.
- :mod:`.header`: :class:`HeaderFields`, :func:`block_hash`, :func:`commit_seal_digest`,
  :data:`MIX_HASH`; accepts py-evm headers and JSON-RPC block dicts alike.
- :mod:`.seals`: :func:`sign_commit_seal`, :func:`recover_commit_signers`,
  :func:`verify_commit_seals`, :func:`quorum`.
- :mod:`.verify`: :func:`verify_header`, the checks an auditor runs on a block read over RPC.
"""

from idfuse_sdk.qbft.extradata import MAX_ROUND, VANITY_LENGTH, QbftExtraData, Vote
from idfuse_sdk.qbft.header import (
    DIFFICULTY,
    MIX_HASH,
    NONCE,
    HeaderFields,
    block_hash,
    commit_seal_digest,
    header_fields,
    reported_hash,
    to_address,
)
from idfuse_sdk.qbft.seals import (
    CommitSealReport,
    quorum,
    recover_commit_signers,
    sign_commit_seal,
    verify_commit_seals,
)
from idfuse_sdk.qbft.verify import verify_header

__all__ = [
    "DIFFICULTY",
    "MAX_ROUND",
    "MIX_HASH",
    "NONCE",
    "VANITY_LENGTH",
    "CommitSealReport",
    "HeaderFields",
    "QbftExtraData",
    "Vote",
    "block_hash",
    "commit_seal_digest",
    "header_fields",
    "quorum",
    "recover_commit_signers",
    "reported_hash",
    "sign_commit_seal",
    "to_address",
    "verify_commit_seals",
    "verify_header",
]
