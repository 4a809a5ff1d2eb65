"""Block production: a block as soon as a transaction is pending, then at most one a period.

:meth:`BlockProducer.produce_once` takes the pool's executable transactions up to the head's
gas limit and builds one block with one :meth:`~idfuse_node.ledger.chain.Ledger.build_block`
call (one ``apply_all_transactions``). ``build_block`` returns only after the block is on
disk, so :meth:`BlockProducer.wait_for_receipt` (which the JSON-RPC server awaits before
answering ``eth_getTransactionReceipt``-style waits) hands out receipts of stored blocks only.
:meth:`BlockProducer.run` loops until its stop event is set; :meth:`BlockProducer.start` runs
that loop in a daemon thread.
"""

from __future__ import annotations

import logging
import threading
import time

from eth.abc import BlockAPI, ReceiptAPI
from eth.exceptions import TransactionNotFound
from eth_typing import Hash32
from eth_utils.exceptions import ValidationError

from idfuse_node.ledger.chain import Ledger
from idfuse_node.ledger.txpool import TxPool

log = logging.getLogger(__name__)

#: How long an idle producer waits for a transaction before it looks at its stop event again.
_IDLE_POLL_SECONDS = 0.1


class BlockProducer:
    """Builds this validator's blocks from ``pool``.

    :param period_seconds: Time between blocks; by default the genesis block period.
    :param lock: Held while a block is built and stored, and while receipts are looked up;
        share it with whatever else reads the ledger from other threads (the JSON-RPC server's
        lock), so nobody reads a half-stored block.
    """

    def __init__(
        self,
        ledger: Ledger,
        pool: TxPool,
        period_seconds: float | None = None,
        *,
        lock: threading.RLock | None = None,
    ) -> None:
        self.ledger = ledger
        self.pool = pool
        self.period_seconds = float(
            ledger.genesis.block_period_seconds if period_seconds is None else period_seconds
        )
        self.lock = lock if lock is not None else threading.RLock()
        self._new_block = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stop: threading.Event | None = None

    def produce_once(self, *, timestamp: int | None = None) -> BlockAPI | None:
        """Build one block from the pool's executable transactions; None when there are none.

        If py-evm refuses the block (it should not: the pool hands out only transactions the
        head state can pay for, in nonce order), the transactions are dropped from the pool so
        that the chain keeps going, and None is returned.
        """
        with self.lock:
            transactions = self.pool.executable(self.ledger.head().gas_limit)
            if not transactions:
                return None
            try:
                block, _ = self.ledger.build_block(transactions, timestamp=timestamp)
            except ValidationError:
                log.exception("block with %d pooled transactions refused; dropping them", len(transactions))
                self.pool.discard(tx.hash for tx in transactions)
                return None
            self.pool.remove_included(block)
        with self._new_block:
            self._new_block.notify_all()
        return block

    def run(self, stop: threading.Event) -> None:
        """Produce blocks until ``stop`` is set: one as soon as a transaction is pending, then
        at most one a period while transactions keep coming (a block starts no sooner than a
        period after the previous one started)."""
        while not stop.is_set():
            if not self.pool.wait_for_pending(_IDLE_POLL_SECONDS):
                continue
            started = time.monotonic()
            self.produce_once()
            stop.wait(max(0.0, self.period_seconds - (time.monotonic() - started)))

    def start(self) -> threading.Thread:
        """Run :meth:`run` in a daemon thread until :meth:`stop`."""
        if self._thread is not None:
            raise RuntimeError("the block producer is running already")
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self.run, args=(self._stop,), name="block-producer", daemon=True
        )
        self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = None) -> None:
        """Stop the thread :meth:`start` began, after the block it may be storing."""
        if self._thread is None or self._stop is None:
            return
        self._stop.set()
        self._thread.join(timeout)
        self._thread, self._stop = None, None

    def receipt(self, tx_hash: bytes) -> ReceiptAPI | None:
        """The receipt of ``tx_hash`` if a stored block holds it, else None."""
        with self.lock:
            try:
                return self.ledger.receipt(Hash32(tx_hash))
            except TransactionNotFound:
                return None

    def wait_for_receipt(self, tx_hash: bytes, timeout: float) -> ReceiptAPI | None:
        """The receipt of ``tx_hash`` once a stored block holds it; None after ``timeout``
        seconds without one."""
        deadline = time.monotonic() + timeout
        with self._new_block:
            while True:
                found = self.receipt(tx_hash)
                remaining = deadline - time.monotonic()
                if found is not None or remaining <= 0:
                    return found
                self._new_block.wait(remaining)
