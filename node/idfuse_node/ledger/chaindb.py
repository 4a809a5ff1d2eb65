"""py-evm's chain database, reading headers back as QBFT headers and blocks without tries.

py-evm's ``HeaderDB`` decodes every stored header through a module-level
``_decode_block_header`` into its own header classes, whose ``hash`` is keccak of the whole
header: a header reloaded from LevelDB would then hash with its commit seals and no longer
match the key it is stored under or its child's ``parent_hash``. Every read in ``HeaderDB``
and ``ChainDB`` goes through the static ``_get_block_header_by_hash``, which
:class:`QbftChainDB` overrides to decode into
:class:`~idfuse_node.ledger.vm.QbftLondonBlockHeader`.

py-evm reads a block's transactions and receipts by walking their tries, one node at a time
in pure Python (about 0.3 ms a transaction). :class:`QbftChainDB` also keeps each stored
block's encoded transactions and receipts flat, one RLP list per block under
:data:`TRANSACTIONS_PREFIX` / :data:`RECEIPTS_PREFIX` + the trie's root (content-addressed, so
any header naming the root finds it, sealed or not), written in the same atomic batch as the
block, and reads them from there. A block stored before the flat lists existed is read from
its tries once, and its flat lists are written then.
"""

from __future__ import annotations

import functools

import rlp  # type: ignore[import-untyped]
from eth.abc import (
    BlockAPI,
    BlockHeaderAPI,
    DatabaseAPI,
    ReceiptAPI,
    ReceiptDecoderAPI,
    SignedTransactionAPI,
    TransactionDecoderAPI,
)
from eth.db.chain import ChainDB
from eth.exceptions import HeaderNotFound
from eth.validation import validate_word
from eth_typing import Hash32

from idfuse_node.ledger import rawrlp
from idfuse_node.ledger.vm import QbftLondonBlockHeader

TRANSACTIONS_PREFIX = b"idfuse:block-transactions:"
"""+ a transaction root: the RLP list of the block's encoded transactions, in order."""
RECEIPTS_PREFIX = b"idfuse:block-receipts:"
"""+ a receipt root: the RLP list of the block's encoded receipts, in order."""


@functools.lru_cache(128)
def _decode_qbft_header(header_rlp: bytes) -> QbftLondonBlockHeader:
    header: QbftLondonBlockHeader = rlp.decode(header_rlp, sedes=QbftLondonBlockHeader)
    return header


class QbftChainDB(ChainDB):
    """A :class:`eth.db.chain.ChainDB` whose headers hash the QBFT way after a reload and
    whose blocks' transactions and receipts are also stored flat."""

    @staticmethod
    def _get_block_header_by_hash(db: DatabaseAPI, block_hash: Hash32) -> BlockHeaderAPI:
        validate_word(block_hash, title="Block Hash")
        try:
            header_rlp = db[block_hash]
        except KeyError as error:
            raise HeaderNotFound(f"No header with hash 0x{block_hash.hex()} found") from error
        return _decode_qbft_header(bytes(header_rlp))

    @classmethod
    def _persist_block(
        cls, db: DatabaseAPI, block: BlockAPI, genesis_parent_hash: Hash32
    ) -> tuple[tuple[Hash32, ...], tuple[Hash32, ...]]:
        """py-evm's, plus the block's flat transaction and receipt lists in the same batch
        (its receipt trie is already stored: the VM writes it while building the block)."""
        result = super()._persist_block(db, block, genesis_parent_hash)
        header = block.header
        db[TRANSACTIONS_PREFIX + header.transaction_root] = rlp.encode(
            [tx.encode() for tx in block.transactions]
        )
        db[RECEIPTS_PREFIX + header.receipt_root] = rlp.encode(
            list(cls._get_block_data_from_root_hash(db, header.receipt_root))
        )
        return result

    def encoded_transactions(self, header: BlockHeaderAPI) -> list[bytes]:
        """The encoded transactions of the stored block ``header``, in order."""
        return self._flat(TRANSACTIONS_PREFIX, header.transaction_root)

    def encoded_receipts(self, header: BlockHeaderAPI) -> list[bytes]:
        """The encoded receipts of the stored block ``header``, in order."""
        return self._flat(RECEIPTS_PREFIX, header.receipt_root)

    def _flat(self, prefix: bytes, root: Hash32) -> list[bytes]:
        key = prefix + root
        try:
            encoded: list[bytes] = rawrlp.decode(bytes(self.db[key]))
        except KeyError:
            # Stored before the flat lists existed: read the trie once and keep its list.
            encoded = [bytes(item) for item in self._get_block_data_from_root_hash(self.db, root)]
            self.db[key] = rlp.encode(encoded)
        return encoded

    def get_block_transactions(
        self, header: BlockHeaderAPI, transaction_decoder: type[TransactionDecoderAPI]
    ) -> tuple[SignedTransactionAPI, ...]:
        return tuple(transaction_decoder.decode(item) for item in self.encoded_transactions(header))

    def get_receipts(
        self, header: BlockHeaderAPI, receipt_decoder: type[ReceiptDecoderAPI]
    ) -> tuple[ReceiptAPI, ...]:
        return tuple(receipt_decoder.decode(item) for item in self.encoded_receipts(header))
