"""The node's interfaces, kept in one place as py-evm keeps its own in ``eth.abc``.

Names end in ``API``; partial implementations start with ``Base``; concrete classes are
named for their backend. The ledger's chain store is py-evm's
:class:`eth.abc.AtomicDatabaseAPI`, implemented over LevelDB by
:class:`idfuse_node.ledger.leveldb.LevelDB` and in memory by py-evm's ``AtomicDB``; the ledger
itself is :class:`LedgerAPI`, implemented by :class:`idfuse_node.ledger.chain.Ledger`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Literal

from eth.abc import BlockAPI, BlockHeaderAPI, ComputationAPI, ReceiptAPI, SignedTransactionAPI, StateAPI

BlockTag = Literal["latest", "safe", "finalized", "earliest"]
"""The block tags a ledger resolves; QBFT blocks are final, so the first three are the head."""


class LedgerAPI(ABC):
    """A QBFT chain this node validates: builds, imports and looks up blocks."""

    @abstractmethod
    def build_block(
        self, transactions: Sequence[SignedTransactionAPI], *, timestamp: int | None = None
    ) -> tuple[BlockAPI, tuple[ReceiptAPI, ...]]:
        """Execute ``transactions`` in a new block, finalise it through QBFT and store it."""

    @abstractmethod
    def import_block(self, block: BlockAPI) -> None:
        """Check a sealed block from elsewhere, execute it and make it the head."""

    @abstractmethod
    def head(self) -> BlockHeaderAPI:
        """The canonical head's header."""

    @abstractmethod
    def block_by_tag(self, tag: BlockTag) -> BlockAPI:
        """The block a JSON-RPC block tag names."""

    @abstractmethod
    def block_by_number(self, number: int) -> BlockAPI:
        """The canonical block at ``number``."""

    @abstractmethod
    def block_by_hash(self, hash_: bytes) -> BlockAPI:
        """The block whose (QBFT) hash is ``hash_``."""

    @abstractmethod
    def transaction(self, tx_hash: bytes) -> SignedTransactionAPI:
        """A transaction in a canonical block."""

    @abstractmethod
    def receipt(self, tx_hash: bytes) -> ReceiptAPI:
        """The receipt of a transaction in a canonical block."""

    @abstractmethod
    def state(self) -> StateAPI:
        """The state after the head block."""

    @abstractmethod
    def call(
        self, sender: bytes, to: bytes, data: bytes, *, gas: int | None = None, value: int = 0
    ) -> ComputationAPI:
        """A message call against the head state; nothing is stored."""

    @abstractmethod
    def close(self) -> None:
        """Release the ledger's storage."""
