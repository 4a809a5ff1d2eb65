"""What the method handlers work on: the ledger, the transaction pool (once a node runs one)
and the lock that keeps them from reading the chain while a block is being stored."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Protocol, TypeVar

from eth.abc import BlockAPI, BlockHeaderAPI, ReceiptAPI, SignedTransactionAPI, StateAPI
from eth.exceptions import BlockNotFound, HeaderNotFound, TransactionNotFound
from eth_typing import BlockNumber, Hash32

from idfuse_node.ledger.chain import Ledger
from idfuse_node.rpc.errors import server_error
from idfuse_node.rpc.format import BlockLog, block_logs
from idfuse_node.rpc.params import BlockRef

CLIENT_VERSION = "idfuse/v0.1.0/python"
MAX_LOG_RESULTS = 10_000
"""Logs one ``eth_getLogs`` answer may hold (the cap hosted Ethereum endpoints use)."""
CACHED_BLOCKS = 16
"""Recent blocks kept decoded with their receipts. QBFT blocks are final, so a cached block is
never stale; the cache saves re-decoding a whole block (and its receipts) for each of its
transactions when clients fetch receipts one by one."""
CACHED_LOGS = 100_000
"""Logs of recent blocks kept formatted for ``eth_getLogs`` (whole blocks, the least recently
used dropped first once more are held; the newest block is always kept)."""


_T = TypeVar("_T")


def _found(named: _T | None) -> _T:
    """What a block reference named; -32000 "header not found" (as geth answers) for nothing."""
    if named is None:
        raise server_error("header not found")
    return named


@dataclass(frozen=True)
class BlockView:
    """A final block, its receipts and where each transaction's logs start in the block."""

    block: BlockAPI
    receipts: tuple[ReceiptAPI, ...]
    first_logs: tuple[int, ...]


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
    max_log_results: int = MAX_LOG_RESULTS
    _views: OrderedDict[bytes, BlockView] = field(default_factory=OrderedDict, init=False, repr=False)
    _logs: OrderedDict[bytes, tuple[BlockLog, ...]] = field(
        default_factory=OrderedDict, init=False, repr=False
    )
    _logs_held: int = field(default=0, init=False, repr=False)

    @property
    def chain_id(self) -> int:
        return self.ledger.genesis.chain_id

    def find_block(self, ref: BlockRef) -> BlockAPI | None:
        """The block ``ref`` names, or None when there is none (yet). By number or tag it
        comes from the cache of recent blocks when there; a tag is resolved through
        :meth:`find_header` (no header is read twice)."""
        try:
            if ref.hash is not None:
                return self.ledger.block_by_hash(ref.hash)
            if ref.number is not None:
                return self.block_by_number(ref.number)
            header = self.find_header(ref)  # a tag: the head, or the genesis for earliest
            return None if header is None else self.block_by_number(header.block_number)
        except (BlockNotFound, HeaderNotFound):
            return None

    def block(self, ref: BlockRef) -> BlockAPI:
        """The block ``ref`` names.

        :raises RpcError: -32000 "header not found", as geth answers.
        """
        return _found(self.find_block(ref))

    def find_header(self, ref: BlockRef) -> BlockHeaderAPI | None:
        """The header ``ref`` names, read without its block's transactions, or None when there
        is none (yet). State reads, ``eth_call``, proofs and blocks without full transactions
        need only the header: decoding a 2,000-transaction head block for each of them cost
        ~20 ms with py-evm, ~80 ms with its transactions formatted."""
        chain = self.ledger.chain
        try:
            if ref.hash is not None:
                return chain.get_block_header_by_hash(Hash32(ref.hash))
            if ref.number is not None:
                return self.header_by_number(ref.number)
            if ref.tag == "earliest":
                return self.header_by_number(0)
            return self.ledger.head()  # latest, safe, finalized and pending: the head (QBFT)
        except (BlockNotFound, HeaderNotFound):
            return None

    def header(self, ref: BlockRef) -> BlockHeaderAPI:
        """The header ``ref`` names (:meth:`find_header`).

        :raises RpcError: -32000 "header not found", as geth answers.
        """
        return _found(self.find_header(ref))

    def state_at(self, header: BlockHeaderAPI) -> StateAPI:
        """The state after block ``header`` (read-only)."""
        return self.ledger.chain.get_vm(header).state

    def view(self, block: BlockAPI) -> BlockView:
        """``block`` with its receipts, from the cache of recent blocks when there."""
        key = bytes(block.header.hash)
        with self.lock:
            cached = self._views.get(key)
            if cached is not None:
                self._views.move_to_end(key)
                return cached
            receipts = tuple(self.ledger.chain.chaindb.get_receipts(block.header, block.receipt_builder))
            first_logs = tuple(accumulate((len(r.logs) for r in receipts[:-1]), initial=0))
            view = BlockView(block, receipts, first_logs)
            self._views[key] = view
            if len(self._views) > CACHED_BLOCKS:
                self._views.popitem(last=False)
            return view

    def receipts(self, block: BlockAPI) -> tuple[ReceiptAPI, ...]:
        """``block``'s receipts, in transaction order."""
        return self.view(block).receipts

    def block_by_number(self, number: int) -> BlockAPI:
        """The canonical block at ``number``, decoded once while it stays recent."""
        with self.lock:
            for view in reversed(self._views.values()):
                if view.block.header.block_number == number:
                    return view.block
            return self.view(self.ledger.block_by_number(number)).block

    def locate(self, tx_hash: bytes) -> tuple[BlockAPI, int] | None:
        """The canonical block holding ``tx_hash`` and its index there, or None."""
        try:
            number, index = self.ledger.chain.chaindb.get_transaction_index(Hash32(tx_hash))
        except TransactionNotFound:
            return None
        return self.block_by_number(number), index

    def logs(self, header: BlockHeaderAPI) -> tuple[BlockLog, ...]:
        """Block ``header``'s logs, formatted, from the cache of recent blocks' logs when there
        (final blocks never change)."""
        key = bytes(header.hash)
        with self.lock:
            cached = self._logs.get(key)
            if cached is not None:
                self._logs.move_to_end(key)
                return cached
            ledger = self.ledger
            receipts = ledger.encoded_receipts(header)
            logs = block_logs(header, ledger.encoded_transactions(header) if receipts else [], receipts)
            self._logs[key] = logs
            self._logs_held += len(logs)
            while self._logs_held > CACHED_LOGS and len(self._logs) > 1:
                self._logs_held -= len(self._logs.popitem(last=False)[1])
            return logs

    def header_by_number(self, number: int) -> BlockHeaderAPI:
        """The canonical header at ``number``.

        :raises eth.exceptions.HeaderNotFound: There is none yet.
        """
        return self.ledger.chain.get_canonical_block_header_by_number(BlockNumber(number))
