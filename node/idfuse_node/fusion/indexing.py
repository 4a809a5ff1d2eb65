"""The indexer of a fusion node or a resolver replica in a thread: it follows a JSON-RPC URL into
an index store until stopped, and keeps the error that ended it early, if one did.

A fusion node binds the store to its own ledger before anything runs. A replica
(``idfuse resolver --rpc``) may start while its chain endpoint is down: it binds once the
endpoint first answers, and serves what the index holds meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Final

from idfuse_node.exceptions import ChainSourceError, IdfuseNodeError
from idfuse_node.indexer import schema
from idfuse_node.indexer.follower import (
    DEFAULT_BATCH_BLOCKS,
    DEFAULT_COMPACT_AFTER,
    DEFAULT_FINALITY_DEPTH,
    IDLE_SECONDS,
    MAX_RETRY_SECONDS,
    Indexer,
    IndexerOptions,
)
from idfuse_node.indexer.records import ChainBinding, Checkpoint
from idfuse_node.indexer.source import MAX_BACKOFF, ChainSource
from idfuse_node.indexer.store import IndexStore

__all__ = ["IndexerThread"]

log = logging.getLogger("idfuse.indexer")

FIRST_RETRY_SECONDS: Final = 0.5
"""Wait before asking an endpoint that did not answer its chain id again (doubling, capped)."""
REPLICA_MAX_BACKOFF: Final = 2.0
"""Longest wait between a replica's retries of one request: it catches up soon after its
endpoint returns (the source's default waits up to 8 s)."""


class IndexerThread:
    """Follow the chain at ``rpc_url`` (registries ``contracts``) into ``store`` in a thread.

    A fusion node's (``replica`` False): the constructor binds the store to the chain, so a
    store that indexes another chain fails here, before anything runs. A replica's: the thread
    binds it once the endpoint answers its chain id, retrying forever (a store that indexes
    another chain then ends the thread: :attr:`error`), and retries a failing request every
    :data:`REPLICA_MAX_BACKOFF` seconds at most. The other options are :class:`Indexer`'s.

    :raises IndexChainMismatchError: not a replica: ``store`` indexes another chain or other
        contracts.
    :raises ChainSourceError: not a replica: the endpoint did not answer its chain id.
    """

    def __init__(
        self,
        rpc_url: str,
        store: IndexStore,
        contracts: Mapping[str, str],
        *,
        start_block: int = 0,
        finality_depth: int = DEFAULT_FINALITY_DEPTH,
        batch_blocks: int = DEFAULT_BATCH_BLOCKS,
        use_finalized_tag: bool = True,
        poll_interval: float = IDLE_SECONDS,
        compact_after: int = DEFAULT_COMPACT_AFTER,
        replica: bool = False,
    ) -> None:
        self._stop = threading.Event()
        max_backoff = REPLICA_MAX_BACKOFF if replica else MAX_BACKOFF
        self.source = ChainSource(rpc_url, max_backoff=max_backoff, interrupt=self._stop)
        self._store = store
        self._contracts = dict(contracts)
        self._options: IndexerOptions = {
            "start_block": start_block,
            "finality_depth": finality_depth,
            "batch_blocks": batch_blocks,
            "use_finalized_tag": use_finalized_tag,
            "poll_interval": poll_interval,
            "compact_after": compact_after,
        }
        self.indexer: Indexer | None = None
        """The follower, once the store is bound to the chain."""
        self.error: IdfuseNodeError | None = None
        """What stopped the indexer before it was asked to stop."""
        self._thread = threading.Thread(target=self._run, name="idfuse-indexer", daemon=True)
        if not replica:
            try:
                self.indexer = self._bind()
            except BaseException:
                self.source.close()
                raise

    def _bind(self) -> Indexer:
        binding = ChainBinding(self.source.chain_id(), self._contracts)
        return Indexer(self.source, self._store, binding, **self._options)

    def _bind_when_answering(self) -> Indexer | None:
        """Bind once the endpoint answers its chain id (None: asked to stop first)."""
        delay = FIRST_RETRY_SECONDS
        while not self._stop.is_set():
            try:
                return self._bind()
            except ChainSourceError as error:  # an outage the source has logged, or a bad answer
                level = logging.DEBUG if self.source.unreachable_since is not None else logging.WARNING
                log.log(level, "no chain id from the endpoint: %s; retrying in %.1f s", error, delay)
            self._stop.wait(delay)
            delay = min(MAX_RETRY_SECONDS, delay * 2)
        return None

    def checkpoint(self) -> Checkpoint | None:
        """The last indexed block."""
        raw = self._store.get(schema.CHECKPOINT_KEY)
        return None if raw is None else Checkpoint.from_bytes(raw)

    def head(self) -> int | None:
        """The chain head the indexer last saw (None before it has seen one)."""
        return None if self.indexer is None else self.indexer.head

    def unreachable_since(self) -> float | None:
        """When (``time.time()``) the endpoint stopped answering; None while it answers."""
        return self.source.unreachable_since

    def start(self) -> None:
        """Start following."""
        self._thread.start()

    def is_alive(self) -> bool:
        """Whether the indexer still runs."""
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            indexer = self.indexer or self._bind_when_answering()
            if indexer is None:
                return
            self.indexer = indexer
            indexer.run(self._stop)
        except IdfuseNodeError as error:
            log.error("the indexer stopped: %s", error)
            self.error = error

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the indexer to stop after its current commit, wait for it, close the source."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.source.close()
