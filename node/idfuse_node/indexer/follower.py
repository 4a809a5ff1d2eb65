"""The indexer's loop: checkpoint → block ranges → headers, logs, batch transactions → apply →
commit; reorg detection, rollback and finality.

:class:`Indexer` follows one chain into one index store. Each :meth:`Indexer.sync_once` pass
reads the head (and the endpoint's ``finalized`` block when it has one) and indexes every block
after the checkpoint, range by range, as the :class:`~idfuse_node.indexer.source.ChainSource`
sizes them. A block is **final** when it is at or below the ``finalized`` tag or at least
``finality_depth`` blocks below the head. Final blocks are committed several at a time
(:class:`~idfuse_node.indexer.writer.FinalBlocksWriter`: no undo log, one durable write for up
to ``batch_blocks`` blocks, each block's effects together with a checkpoint at or after it);
the others one by one with their undo logs (:class:`~idfuse_node.indexer.writer.BlockWriter`),
which are pruned once the blocks become final.

A block whose parent hash is not the stored hash of the block before it means the chain
reorganised: the follower walks back to the highest block whose stored hash is the chain's,
rolls the index back to it (:func:`~idfuse_node.indexer.writer.rollback_to`) and indexes the new
branch. A reorganisation that reaches a final block raises
:class:`~idfuse_node.exceptions.IndexConsistencyError` (on a QBFT chain, an alarm).

:meth:`Indexer.run` repeats passes until its stop event is set; when the endpoint stays down
(the source gave up retrying) it waits with capped backoff and tries again, while the index
stays readable at its last checkpoint; the outage is logged once, by the source.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final, TypedDict

from idfuse_node.exceptions import (
    ChainSourceError,
    IndexChainMismatchError,
    IndexConsistencyError,
    StorageError,
)
from idfuse_node.indexer import events as ev
from idfuse_node.indexer import schema
from idfuse_node.indexer.apply import BlockApplier
from idfuse_node.indexer.records import ChainBinding, Checkpoint
from idfuse_node.indexer.source import BlockHeaderInfo, ChainSource, LogAnswers, TxInfo
from idfuse_node.indexer.store import IndexStore
from idfuse_node.indexer.writebehind import WriteBehindStore
from idfuse_node.indexer.writer import BlockWriter, FinalBlocksWriter, prune_undo, rollback_to

__all__ = [
    "DEFAULT_BATCH_BLOCKS",
    "DEFAULT_COMPACT_AFTER",
    "DEFAULT_FINALITY_DEPTH",
    "Indexer",
    "IndexerOptions",
    "SyncResult",
]

log = logging.getLogger("idfuse.indexer")

DEFAULT_FINALITY_DEPTH: Final = 12
"""Blocks below the head after which a block counts as final when the endpoint has no
``finalized`` tag."""
DEFAULT_BATCH_BLOCKS: Final = 1_000
"""Final blocks one store write carries at most."""
MAX_PENDING_KEYS: Final = 500_000
"""A final-blocks write is committed early once it holds this many changed keys."""
RANGE_EVENTS: Final = 5_000
"""Events a fetched range should hold (a batch counts as its records), at the density seen so far."""
FIRST_SPAN: Final = 1
"""Blocks in the first range (the density is unknown, and nothing is applied until it arrives);
ranges grow at most fourfold a step."""
PROGRESS_SECONDS: Final = 5.0
IDLE_SECONDS: Final = 0.1
"""Seconds between polls for new blocks once caught up (``poll_interval``): a pass that finds
nothing asks the endpoint for its head (and its ``finalized`` block), so polling ten times a
second costs an endpoint little, and a new block is indexed within a tenth of a second (at 0.5,
the bulk benchmark's replica lost up to half a second before its first block)."""
MAX_RETRY_SECONDS: Final = 30.0
DEFAULT_COMPACT_AFTER: Final = 256 << 20
"""Bytes written to the index while catching up after which :meth:`Indexer.run`, once caught up,
compacts it (``compact_after``). A backfill's writes outrun LevelDB's own compaction and leave
the index across levels, so that every read looks in a table of each: at 10 million
identifiers a random read took 10.9 µs against 6.0 compacted (docs/benchmarks.md, "Scale",
run 14). 256 MiB is about 230,000 batch-registered identifiers (at the 1,129 bytes an
identifier the scale bench's index takes), an index that compacts in seconds."""
INDEXED_CONTRACTS: Final = ("PrefixRegistry", "IdentifierRegistry")


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What one :meth:`Indexer.sync_once` pass did."""

    checkpoint: Checkpoint | None
    head: int
    blocks: int
    events: int
    rolled_back_to: int | None


class _ChainMoved(Exception):  # noqa: N818  # internal signal: restart the pass
    """The chain changed under the range from ``first`` being fetched (a reorg)."""

    def __init__(self, first: int) -> None:
        super().__init__(f"the chain changed while blocks from {first} were fetched")
        self.first = first


@dataclass(frozen=True, slots=True)
class _Fetched:
    """One range, fetched and decoded."""

    first: int
    headers: list[BlockHeaderInfo]
    by_block: Mapping[int, list[ev.RegistryEvent]]
    transactions: Mapping[bytes, TxInfo]


@dataclass(frozen=True, slots=True)
class _Answered:
    """One range's headers and its ``eth_getLogs`` answers, not parsed yet, with the
    transactions its ``BatchRegistered`` logs seem to come from (a look-ahead)."""

    first: int
    headers: list[BlockHeaderInfo]
    logs: LogAnswers
    transactions: Mapping[bytes, TxInfo]


class IndexerOptions(TypedDict):
    """The options of :class:`Indexer` that a command line or a replica passes through."""

    start_block: int
    finality_depth: int
    batch_blocks: int
    use_finalized_tag: bool
    poll_interval: float
    compact_after: int


class Indexer:
    """Follows a chain into an index store.

    :param source: The chain's JSON-RPC client.
    :param store: The index store (the follower is its only writer).
    :param binding: The chain id and registry addresses to follow.
    :param start_block: The first block to index when the store is empty (the registries'
        deployment block; earlier blocks hold none of their events).
    :param finality_depth: Blocks below the head after which a block is final.
    :param batch_blocks: Final blocks committed in one store write at most.
    :param use_finalized_tag: Count blocks at or below the endpoint's ``finalized`` block as
        final (False: only ``finality_depth`` decides).
    :param poll_interval: Seconds :meth:`run` waits before it polls again once caught up.
    :param compact_after: Bytes written to the store (since the indexer was made, or its last
        compaction) after which :meth:`run`, when it has caught up (it logs so once, at the end
        of a backfill), compacts the store in a thread of its own while it goes on indexing
        (0: never; :data:`DEFAULT_COMPACT_AFTER`).
    :raises IndexChainMismatchError: The store indexes another chain or other contracts.
    """

    def __init__(
        self,
        source: ChainSource,
        store: IndexStore,
        binding: ChainBinding,
        *,
        start_block: int = 0,
        finality_depth: int = DEFAULT_FINALITY_DEPTH,
        batch_blocks: int = DEFAULT_BATCH_BLOCKS,
        use_finalized_tag: bool = True,
        poll_interval: float = IDLE_SECONDS,
        compact_after: int = DEFAULT_COMPACT_AFTER,
    ) -> None:
        if start_block < 0 or finality_depth < 0 or batch_blocks < 1:
            raise ValueError("start_block and finality_depth must be >= 0, batch_blocks >= 1")
        if compact_after < 0:
            raise ValueError(f"compact_after must be 0 (never) or more bytes, got {compact_after}")
        if not poll_interval > 0:
            raise ValueError(f"poll_interval must be above 0 seconds, got {poll_interval}")
        missing = [name for name in INDEXED_CONTRACTS if name not in binding.contracts]
        if missing:
            raise ValueError(f"the binding names no address for {', '.join(missing)}")
        self.source = source
        self.store = store
        self.binding = binding
        self.start_block = start_block
        self.finality_depth = finality_depth
        self.batch_blocks = batch_blocks
        self.use_finalized_tag = use_finalized_tag
        self.poll_interval = poll_interval
        self.compact_after = compact_after
        self.compactions = 0
        """Compactions :meth:`run` has finished."""
        self._compaction: threading.Thread | None = None
        self._compacted_at = store.bytes_written
        self.decoder = ev.EventDecoder({name: binding.contracts[name] for name in INDEXED_CONTRACTS})
        self.addresses = [self.decoder.addresses[name] for name in INDEXED_CONTRACTS]
        self._registry = self.decoder.addresses["IdentifierRegistry"]
        self._batch_topic = self.decoder.topic("IdentifierRegistry", "BatchRegistered")
        self.events_applied = 0
        self.blocks_indexed = 0
        self._progress_at = time.monotonic()
        self._progress_counts = (0, 0)
        self.head: int | None = None
        """The chain head the last pass saw (None before one has)."""
        self._stop: threading.Event | None = None
        self._names: dict[bytes, str] = {}  # prefix names by node, for the applier
        self._span = FIRST_SPAN
        self._weight = 1.0  # events + batch records per registry log, in the last decoded range
        self._bind()

    def _bind(self) -> None:
        raw = self.store.get(schema.CHAIN_KEY)
        if raw is None:
            self.store.write({schema.CHAIN_KEY: self.binding.to_bytes()}, [])
            return
        stored = ChainBinding.from_bytes(raw)
        if stored.chain_id != self.binding.chain_id or {
            name: address.lower() for name, address in stored.contracts.items()
        } != {name: address.lower() for name, address in self.binding.contracts.items()}:
            raise IndexChainMismatchError(
                f"the index follows chain {stored.chain_id} with contracts {stored.contracts}, not chain "
                f"{self.binding.chain_id} with {self.binding.contracts}; use another index directory"
            )

    # --- state

    def checkpoint(self) -> Checkpoint | None:
        """The last indexed block."""
        raw = self.store.get(schema.CHECKPOINT_KEY)
        return None if raw is None else Checkpoint.from_bytes(raw)

    def _stored_hash(self, number: int, store: IndexStore | None = None) -> bytes | None:
        """Indexed block ``number``'s hash, from ``store`` (a pass's write-behind view of
        :attr:`store`, which sees the write in flight) or :attr:`store`."""
        return (self.store if store is None else store).get(schema.block_key(number))

    def final_number(self, head: int) -> int:
        """The highest final block (-1: none) given the head: the endpoint's ``finalized``
        block or ``head - finality_depth``, whichever is higher."""
        finalized = self.source.finalized_number() if self.use_finalized_tag else None
        by_depth = head - self.finality_depth
        return max(by_depth, -1 if finalized is None else min(finalized, head))

    # --- one pass

    def sync_once(self) -> SyncResult:
        """Index every block after the checkpoint up to the head (one pass).

        :return: What the pass did.
        :raises ChainSourceError: The endpoint failed (after the source's retries).
        :raises IndexConsistencyError: The chain reorganised below a final block.
        :raises EventDecodeError: A registry log or batch does not decode.
        """
        blocks_before, events_before = self.blocks_indexed, self.events_applied
        rolled_back: int | None = None
        while True:
            try:
                head = self.head = self.source.head_number()
                final = self.final_number(head)
                checkpoint = self.checkpoint()
                start = self.start_block if checkpoint is None else checkpoint.number + 1
                if start <= head:
                    self._sync_range(start, head, final)
                if final >= 0:
                    prune_undo(self.store, final + 1)
                break
            except _Reorg as reorg:
                rolled_back = self._roll_back(reorg.number, reorg.final)
        return SyncResult(
            self.checkpoint(),
            head,
            self.blocks_indexed - blocks_before,
            self.events_applied - events_before,
            rolled_back,
        )

    def _sync_range(self, start: int, head: int, final: int) -> None:
        """Index ``start``…``head``: one thread fetches the next range while this one parses,
        decodes, applies and commits the current one (the endpoint and the store work in
        parallel). The fetching thread mostly waits on the endpoint (it parses only the batch
        transactions, in C): were it to parse and decode the logs too, each store read here,
        which lets go of the interpreter lock, would wait for that thread's whole switch
        interval to get it back. A third thread writes each committed
        group to the store while this one applies the next (:class:`WriteBehindStore`); every
        write has landed when this returns or raises."""
        ranges = self._ranges(start, head)
        store = WriteBehindStore(self.store)
        with (
            ThreadPoolExecutor(1, thread_name_prefix="idfuse-indexer-fetch") as fetcher,
            store,
        ):
            pending = self._fetch_next(fetcher, ranges)
            while pending is not None:
                if self._stop is not None and self._stop.is_set():
                    pending.cancel()
                    return
                try:
                    answered = pending.result()
                    self._learn_density(len(answered.headers), round(answered.logs.count() * self._weight))
                    pending = self._fetch_next(fetcher, ranges)
                    fetched = self._decode(answered)
                except _ChainMoved as moved:
                    # Nothing of the range was committed; the reorg check sees the new chain.
                    if pending is not None:
                        pending.cancel()
                    raise _Reorg(moved.first - 1, final) from None
                previous = self._stored_hash(fetched.first - 1, store) if fetched.first > 0 else None
                if previous is not None and fetched.headers[0].parent_hash != previous:
                    if pending is not None:
                        pending.cancel()
                    raise _Reorg(fetched.first - 1, final)
                self._commit_blocks(store, fetched, final)
                self._progress(head)

    def _ranges(self, start: int, head: int) -> Iterator[tuple[int, int]]:
        """Consecutive ranges covering ``start``…``head``, each sized when it is taken: at most
        the source's working ``eth_getLogs`` range, and about :data:`RANGE_EVENTS` events at
        the density seen so far (so that fetching the next range overlaps applying this one,
        and a range of dense blocks does not pile up in memory)."""
        position = start
        while position <= head:
            span = max(1, min(self.source.range_size, self._span))
            last = min(head, position + span - 1)
            yield position, last
            position = last + 1

    def _learn_density(self, blocks: int, events: int) -> None:
        """Size the next ranges by ``events`` (logs of the registries) in ``blocks``."""
        wanted = RANGE_EVENTS * blocks // max(events, 1)
        self._span = max(1, min(wanted, self._span * 4))

    def _fetch_next(
        self, fetcher: ThreadPoolExecutor, ranges: Iterator[tuple[int, int]]
    ) -> Future[_Answered] | None:
        bounds = next(ranges, None)
        return None if bounds is None else fetcher.submit(self._fetch, *bounds)

    def _fetch(self, first: int, last: int) -> _Answered:
        """Headers and ``eth_getLogs`` answers of blocks ``first``…``last``, and the
        transactions that carried its batches (their calldata holds the records): fetched here,
        they no longer hold up the applying thread, which checks them against the events.

        :raises _ChainMoved: The headers do not describe one chain (a reorg while fetching).
        """
        headers = self.source.headers(first, last)
        for before, after in itertools.pairwise(headers):
            if after.parent_hash != before.hash:
                raise _ChainMoved(first)
        logs = self.source.fetch_logs(first, last, self.addresses)
        batches = logs.transactions_with(self._registry, self._batch_topic)
        return _Answered(first, headers, logs, self.source.transactions(batches) if batches else {})

    def _decode(self, answered: _Answered) -> _Fetched:
        """A fetched range's decoded events and batch transactions.

        :raises _ChainMoved: The logs are not of the headers' blocks (a reorg while fetching).
        """
        first = answered.first
        hashes = {header.number: header.hash for header in answered.headers}
        logs = self.source.parse_logs(answered.logs)
        by_block: dict[int, list[ev.RegistryEvent]] = defaultdict(list)
        batch_txs: list[bytes] = []
        decode = self.decoder.decode
        records = 0
        for raw in logs:
            if raw.removed or hashes.get(raw.block_number) != raw.block_hash:
                raise _ChainMoved(first)
            event = decode(raw)
            if event is None:
                continue
            by_block[raw.block_number].append(event)
            if isinstance(event, ev.BatchRegistered):
                batch_txs.append(raw.tx_hash)
                records += event.count
        # a batch's log carries up to 20,000 records (and its calldata is fetched): ranges are
        # sized by what is applied, not by logs, so a range of batches stays ~RANGE_EVENTS records
        self._weight = (len(logs) + records) / len(logs) if logs else self._weight
        fetched = answered.transactions
        missing = [tx_hash for tx_hash in batch_txs if tx_hash not in fetched]  # the look-ahead missed
        transactions = {tx_hash: fetched[tx_hash] for tx_hash in batch_txs if tx_hash in fetched}
        if missing:
            transactions.update(self.source.transactions(missing))
        return _Fetched(first, answered.headers, by_block, transactions)

    def _commit_blocks(self, store: IndexStore, fetched: _Fetched, final: int) -> None:
        headers, by_block, transactions = fetched.headers, fetched.by_block, fetched.transactions
        chain_id = self.binding.chain_id
        group: FinalBlocksWriter | None = None
        grouped = 0
        for header in headers:
            events = by_block.get(header.number, ())
            if header.number <= final:
                if group is None:
                    group = FinalBlocksWriter(
                        store, header.number, header.hash, header.parent_hash, header.timestamp
                    )
                else:
                    group.advance(header.number, header.hash, header.parent_hash, header.timestamp)
                self.events_applied += BlockApplier(group, chain_id, transactions, self._names).apply(events)
                self.blocks_indexed += 1
                grouped += 1
                if grouped >= self.batch_blocks or group.pending >= MAX_PENDING_KEYS:
                    group.commit()
                    group, grouped = None, 0
                continue
            if group is not None:
                group.commit()
                group, grouped = None, 0
            writer = BlockWriter(store, header.number, header.hash, header.parent_hash, header.timestamp)
            self.events_applied += BlockApplier(writer, chain_id, transactions, self._names).apply(events)
            writer.commit()
            self.blocks_indexed += 1
        if group is not None:
            group.commit()

    # --- reorgs

    def _roll_back(self, number: int, final: int) -> int:
        """The chain no longer holds indexed block ``number + 1``'s parent: find the fork
        point at or below ``number``, roll back to it; returns it."""
        self._names.clear()
        fork = self._fork_point(number)
        checkpoint = self.checkpoint()
        if checkpoint is None or checkpoint.number <= fork:
            return fork  # the chain moved under a range being fetched; nothing indexed is gone
        if self._has_final_above(fork):
            # Blocks committed as final are gone: a final chain does not reorganise.
            raise IndexConsistencyError(
                f"the chain reorganised below a final block (final up to {final}): indexed block "
                f"{fork + 1} is no longer on the chain (on a QBFT chain this must not happen); "
                "rebuild the index"
            )
        log.warning(
            "chain reorganisation: rolling the index back from block %d to %d", checkpoint.number, fork
        )
        rollback_to(self.store, fork)
        return fork

    def _has_final_above(self, fork: int) -> bool:
        """Whether an indexed block above ``fork`` has no undo log (was committed as final)."""
        for key, _ in self.store.iterate(schema.BLOCK_PREFIX, start=schema.block_key(fork + 1)):
            if self.store.get(schema.undo_key(schema.parse_block_key(key))) is None:
                return True
        return False

    def _fork_point(self, number: int) -> int:
        """The highest block at or below ``number`` whose stored hash is the chain's (or the
        block before the index's first block)."""
        step = 64
        high = number
        while high >= 0:
            low = max(0, high - step + 1)
            stored = {n: self._stored_hash(n) for n in range(low, high + 1)}
            known = [n for n in range(low, high + 1) if stored[n] is not None]
            if not known:
                return high
            for header in reversed(self.source.headers(min(known), max(known))):
                if stored.get(header.number) == header.hash:
                    return header.number
            high = low - 1
            step *= 2
        return -1

    # --- the loop

    def _progress(self, head: int, *, force: bool = False) -> None:
        now = time.monotonic()
        elapsed = now - self._progress_at
        if not force and elapsed < PROGRESS_SECONDS:
            return
        blocks = self.blocks_indexed - self._progress_counts[0]
        events = self.events_applied - self._progress_counts[1]
        checkpoint = self.checkpoint()
        number = -1 if checkpoint is None else checkpoint.number
        log.info(
            "indexed to block %d (head %d, lag %d): %.0f blocks/s, %.0f events/s",
            number,
            head,
            head - number,
            blocks / max(elapsed, 1e-9),
            events / max(elapsed, 1e-9),
        )
        self._progress_at = now
        self._progress_counts = (self.blocks_indexed, self.events_applied)

    def run(self, stop: threading.Event, *, idle: float | None = None) -> None:
        """Index until ``stop`` is set: a pass, then wait ``idle`` seconds (default
        ``poll_interval``) when caught up.

        Endpoint failures are retried forever with capped backoff (an outage logged once, by
        the source); a stop request is honoured between commits.

        :raises IndexConsistencyError: The chain reorganised below a final block.
        :raises EventDecodeError: A registry log or batch does not decode.
        """
        idle = self.poll_interval if idle is None else idle
        delay = idle
        self._stop = stop
        caught_up = False
        try:
            while not stop.is_set():
                try:
                    result = self.sync_once()
                except ChainSourceError as error:
                    # an outage was logged once by the source; anything else is logged each time
                    level = logging.DEBUG if self.source.unreachable_since is not None else logging.WARNING
                    log.log(level, "the chain endpoint failed: %s; retrying in %.1f s", error, delay)
                    stop.wait(delay)
                    delay = min(MAX_RETRY_SECONDS, max(delay * 2, 1.0))
                    continue
                delay = idle
                if result.blocks:
                    self._progress(result.head)
                at_head = result.checkpoint is not None and result.checkpoint.number >= result.head
                if at_head and not caught_up:  # once per catching up, for operators and scripts
                    log.info("caught up at block %d", result.head)
                    self._compact_after_catching_up()
                caught_up = at_head
                if not result.blocks:
                    stop.wait(idle)
        finally:
            compaction = self._compaction
            if compaction is not None and compaction.is_alive():
                log.info("waiting for the index compaction to finish before stopping")
                compaction.join()

    def _compact_after_catching_up(self) -> None:
        """Start compacting the store in a thread of its own when this catch-up wrote at least
        ``compact_after`` bytes (and no compaction is running)."""
        written = self.store.bytes_written - self._compacted_at
        if not self.compact_after or written < self.compact_after:
            return
        if self._compaction is not None and self._compaction.is_alive():
            return
        self._compacted_at += written
        self._compaction = threading.Thread(
            target=self._compact, args=(written,), name="idfuse-index-compact", daemon=True
        )
        self._compaction.start()

    def _compact(self, written: int) -> None:
        log.info(
            "compacting the index after %.1f MiB written while catching up (indexing and reads go on)",
            written / 2**20,
        )
        started = time.monotonic()
        try:
            self.store.compact()
        except StorageError as error:  # the index is as it was: LevelDB installs whole tables
            log.warning("the index compaction failed: %s", error)
            return
        self.compactions += 1
        log.info("compacted the index in %.1f s", time.monotonic() - started)


class _Reorg(Exception):  # noqa: N818  # internal signal
    """Indexed block ``number`` (or one below) is no longer on the chain."""

    def __init__(self, number: int, final: int) -> None:
        super().__init__(f"reorganisation at or below block {number}")
        self.number = number
        self.final = final
