"""py-evm's chain database, reading headers back as QBFT headers.

py-evm's ``HeaderDB`` decodes every stored header through a module-level
``_decode_block_header`` into its own header classes, whose ``hash`` is keccak of the whole
header: a header reloaded from LevelDB would then hash with its commit seals and no longer
match the key it is stored under or its child's ``parent_hash``. Every read in ``HeaderDB``
and ``ChainDB`` goes through the static ``_get_block_header_by_hash``, which
:class:`QbftChainDB` overrides to decode into
:class:`~idfuse_node.ledger.vm.QbftLondonBlockHeader`.
"""

from __future__ import annotations

import functools

import rlp  # type: ignore[import-untyped]
from eth.abc import BlockHeaderAPI, DatabaseAPI
from eth.db.chain import ChainDB
from eth.exceptions import HeaderNotFound
from eth.validation import validate_word
from eth_typing import Hash32

from idfuse_node.ledger.vm import QbftLondonBlockHeader


@functools.lru_cache(128)
def _decode_qbft_header(header_rlp: bytes) -> QbftLondonBlockHeader:
    header: QbftLondonBlockHeader = rlp.decode(header_rlp, sedes=QbftLondonBlockHeader)
    return header


class QbftChainDB(ChainDB):
    """A :class:`eth.db.chain.ChainDB` whose headers hash the QBFT way after a reload."""

    @staticmethod
    def _get_block_header_by_hash(db: DatabaseAPI, block_hash: Hash32) -> BlockHeaderAPI:
        validate_word(block_hash, title="Block Hash")
        try:
            header_rlp = db[block_hash]
        except KeyError as error:
            raise HeaderNotFound(f"No header with hash 0x{block_hash.hex()} found") from error
        return _decode_qbft_header(bytes(header_rlp))
