"""The ledger's VM: py-evm's London rules, sealed the QBFT way.

- :class:`QbftLondonBlockHeader` is a London header whose ``hash`` is the QBFT block hash
  (:func:`idfuse_sdk.qbft.block_hash`: commit seals left out, round 0), so a child's
  ``parent_hash`` links to the hash Besu and auditors compute.
- :class:`QbftLondonVM` builds headers with difficulty 1, the QBFT mix hash and a zero nonce,
  accepts extraData up to :data:`EXTRA_DATA_MAX_BYTES` (validators and commit seals do not fit
  in py-evm's 32), and pays no block or uncle reward. Its consensus class is py-evm's
  ``NoProofConsensus``: the QBFT seal check needs the validator set after the parent, which
  :class:`idfuse_node.ledger.chain.Ledger` reads and checks with
  :func:`idfuse_sdk.qbft.verify_header` before it persists any block.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final, cast

from eth.abc import BlockHeaderAPI
from eth.consensus.noproof import NoProofConsensus
from eth.vm.forks.byzantium.headers import configure_header
from eth.vm.forks.london import LondonVM
from eth.vm.forks.london.blocks import LondonBackwardsHeader, LondonBlock, LondonBlockHeader
from eth.vm.forks.london.headers import create_london_header_from_parent
from eth_typing import Hash32
from rlp.sedes import CountableList  # type: ignore[import-untyped]

from idfuse_sdk.qbft import DIFFICULTY, MIX_HASH, NONCE, block_hash

EXTRA_DATA_MAX_BYTES: Final = 4096
"""The largest extraData the ledger accepts: vanity, validators, vote, round and 65-byte
commit seals for well over the validator sets a consortium runs."""


class QbftLondonBlockHeader(LondonBlockHeader):
    """A London header that hashes as QBFT does (commit seals and round excluded)."""

    @property
    def hash(self) -> Hash32:
        if self._hash is None:
            self._hash = block_hash(self)
        return cast(Hash32, self._hash)


def to_qbft_header(header: BlockHeaderAPI) -> QbftLondonBlockHeader:
    """``header`` (a London header of any class) as a :class:`QbftLondonBlockHeader`."""
    if isinstance(header, QbftLondonBlockHeader):
        return header
    return cast(QbftLondonBlockHeader, QbftLondonBlockHeader.deserialize(LondonBlockHeader.serialize(header)))


class QbftLondonBlock(LondonBlock):
    """A London block whose header is a :class:`QbftLondonBlockHeader`."""

    fields = [  # noqa: RUF012 (rlp's Serializable reads a list, as py-evm's blocks declare it)
        ("header", QbftLondonBlockHeader),
        ("transactions", CountableList(LondonBlock.transaction_builder)),
        ("uncles", CountableList(LondonBackwardsHeader)),
    ]


def _qbft_difficulty(parent_header: BlockHeaderAPI, timestamp: int) -> int:
    return DIFFICULTY


_create_london_header = create_london_header_from_parent(_qbft_difficulty)
configure_qbft_header = configure_header(difficulty_fn=_qbft_difficulty)
"""py-evm's header configuration (used on import) with QBFT's constant difficulty."""


def create_qbft_header_from_parent(
    parent_header: BlockHeaderAPI | None, **header_params: Any
) -> QbftLondonBlockHeader:
    """A London header after ``parent_header`` (or a genesis header for None) with QBFT's
    constant difficulty, mix hash and nonce."""
    header_params["difficulty"] = DIFFICULTY
    header_params["mix_hash"] = MIX_HASH
    header_params["nonce"] = NONCE
    return to_qbft_header(_create_london_header(parent_header, **header_params))


class QbftLondonVM(LondonVM):
    """London execution with QBFT headers and no block reward."""

    fork = "london-qbft"
    block_class = QbftLondonBlock
    consensus_class = NoProofConsensus
    extra_data_max_bytes: ClassVar[int] = EXTRA_DATA_MAX_BYTES
    create_header_from_parent = staticmethod(create_qbft_header_from_parent)
    compute_difficulty = staticmethod(_qbft_difficulty)
    configure_header = configure_qbft_header

    @staticmethod
    def get_block_reward() -> int:
        return 0

    @staticmethod
    def get_uncle_reward(block_number: int, uncle: BlockHeaderAPI) -> int:
        return 0
