"""The indexer of a fusion node in a thread: it follows a JSON-RPC URL into an index store until
stopped, and keeps the error that ended it early, if one did."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from idfuse_node.exceptions import IdfuseNodeError
from idfuse_node.indexer.follower import Indexer
from idfuse_node.indexer.records import ChainBinding, Checkpoint
from idfuse_node.indexer.source import ChainSource
from idfuse_node.indexer.store import IndexStore

__all__ = ["IndexerThread"]

log = logging.getLogger("idfuse.indexer")


class IndexerThread:
    """Follow the chain at ``rpc_url`` (registries ``contracts``) into ``store`` in a thread.

    The constructor binds the store to the chain, so a store that indexes another chain fails
    here, before anything runs. Blocks at or below the endpoint's ``finalized`` block are final
    (a QBFT ledger answers it with its head).

    :raises IndexChainMismatchError: ``store`` indexes another chain or other contracts.
    :raises ChainSourceError: the endpoint did not answer its chain id.
    """

    def __init__(self, rpc_url: str, store: IndexStore, contracts: Mapping[str, str]) -> None:
        self.source = ChainSource(rpc_url)
        try:
            self.indexer = Indexer(self.source, store, ChainBinding(self.source.chain_id(), dict(contracts)))
        except BaseException:
            self.source.close()
            raise
        self.error: IdfuseNodeError | None = None
        """What stopped the indexer before it was asked to stop."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="idfuse-indexer", daemon=True)

    def checkpoint(self) -> Checkpoint | None:
        """The last indexed block."""
        return self.indexer.checkpoint()

    def start(self) -> None:
        """Start following."""
        self._thread.start()

    def is_alive(self) -> bool:
        """Whether the indexer still runs."""
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            self.indexer.run(self._stop)
        except IdfuseNodeError as error:
            log.error("the indexer stopped: %s", error)
            self.error = error

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the indexer to stop after its current commit, wait for it, close the source."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.source.close()
