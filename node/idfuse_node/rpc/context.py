"""What the method handlers work on: the ledger, the transaction pool (once a node runs one)
and the lock that keeps them from reading the chain while a block is being stored."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

from eth.abc import BlockAPI, BlockHeaderAPI, ReceiptAPI, SignedTransactionAPI, StateAPI
from eth.exceptions import BlockNotFound, HeaderNotFound, TransactionNotFound
from eth_typing import Hash32

from idfuse_node.ledger.chain import Ledger
from idfuse_node.rpc.errors import server_error
from idfuse_node.rpc.params import BlockRef

CLIENT_VERSION = "idfuse/v0.1.0/python"


class TxPoolAPI(Protocol):
    """The part of the transaction pool JSON-RPC uses."""

    def add(self, raw: bytes) -> bytes:
        """Admit a signed raw transaction; return its hash."""

    def pending_nonce(self, address: bytes) -> int:
        """The next nonce of ``address`` counting its pending transactions."""

    def get(self, tx_hash: bytes) -> SignedTransactionAPI | None:
        """The pooled (not yet included) transaction ``tx_hash``, or None."""


@dataclass
class RpcContext:
    """The ledger (and pool) one JSON-RPC endpoint serves."""

    ledger: Ledger
    pool: TxPoolAPI | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    client_version: str = CLIENT_VERSION

    @property
    def chain_id(self) -> int:
        return self.ledger.genesis.chain_id

    def find_block(self, ref: BlockRef) -> BlockAPI | None:
        """The block ``ref`` names, or None when there is none (yet). ``pending`` is the head:
        this node keeps no pending block."""
        ledger = self.ledger
        try:
            if ref.hash is not None:
                return ledger.block_by_hash(ref.hash)
            if ref.number is not None:
                return ledger.block_by_number(ref.number)
            if ref.tag == "earliest":
                return ledger.block_by_tag("earliest")
            return ledger.block_by_tag("latest")
        except (BlockNotFound, HeaderNotFound):
            return None

    def block(self, ref: BlockRef) -> BlockAPI:
        """The block ``ref`` names.

        :raises RpcError: -32000 "header not found", as geth answers.
        """
        block = self.find_block(ref)
        if block is None:
            raise server_error("header not found")
        return block

    def header(self, ref: BlockRef) -> BlockHeaderAPI:
        return self.block(ref).header

    def state_at(self, header: BlockHeaderAPI) -> StateAPI:
        """The state after block ``header`` (read-only)."""
        return self.ledger.chain.get_vm(header).state

    def receipts(self, block: BlockAPI) -> tuple[ReceiptAPI, ...]:
        """``block``'s receipts, in transaction order."""
        return tuple(self.ledger.chain.chaindb.get_receipts(block.header, block.receipt_builder))

    def locate(self, tx_hash: bytes) -> tuple[BlockAPI, int] | None:
        """The canonical block holding ``tx_hash`` and its index there, or None."""
        try:
            number, index = self.ledger.chain.chaindb.get_transaction_index(Hash32(tx_hash))
        except TransactionNotFound:
            return None
        return self.ledger.block_by_number(number), index
