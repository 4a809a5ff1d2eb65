"""A fusion node: the ledger, the indexer and the resolver of one data directory in one process.

:meth:`FusionNode.start` initialises an empty data directory (as ``idfuse ledger start`` does),
then starts, in order, the ledger (pool, producer, JSON-RPC), the indexer following the
ledger's own JSON-RPC URL into ``DIR/index``, and the resolver over that index (its
``/v1/checkpoint`` lag measured against the ledger's head), and writes ``endpoints.json``.
:meth:`FusionNode.stop` stops them in reverse order. A failure while starting stops whatever
had started, so nothing is left running.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

from idfuse_node.datadir import DataDir, Endpoints, update_endpoints
from idfuse_node.exceptions import IdfuseNodeError, ServiceStartError, StorageCorruptError
from idfuse_node.fusion.indexing import IndexerThread
from idfuse_node.indexer.reader import IndexReader
from idfuse_node.indexer.store import LevelDBIndexStore
from idfuse_node.ledger.service import LedgerService, init_data_dir
from idfuse_node.resolver import ResolverServer, create_app
from idfuse_node.resolver.settings import ResolverSettings

__all__ = ["FusionNode"]

log = logging.getLogger("idfuse.node")


def _holds_files(path: Path) -> bool:
    """Whether ``path`` is a directory with something in it."""
    try:
        with os.scandir(path) as entries:
            return next(entries, None) is not None
    except (FileNotFoundError, NotADirectoryError):
        return False


class FusionNode:
    """The node of ``directory``, serving JSON-RPC on ``rpc_port`` and the resolver on
    ``resolver_port`` (0: any free port) on ``host``.

    :param chain_id: The chain id if ``directory`` is initialised now.
    :param block_period: Seconds between blocks; the genesis period when ``None``.
    :param resolver_settings: The resolver's limits and paging (defaults when ``None``).
    """

    def __init__(
        self,
        directory: DataDir,
        *,
        host: str = "127.0.0.1",
        rpc_port: int = 0,
        resolver_port: int = 0,
        chain_id: int,
        block_period: float | None = None,
        resolver_settings: ResolverSettings | None = None,
    ) -> None:
        self.directory = directory
        self.resolver_settings = resolver_settings or ResolverSettings()
        self.host = host
        self.chain_id = chain_id
        self.ledger = LedgerService(directory, host=host, port=rpc_port, block_period=block_period)
        self.resolver_port = resolver_port
        self.initialised = False
        """Whether :meth:`start` initialised the data directory."""
        self.store: LevelDBIndexStore | None = None
        self.indexer: IndexerThread | None = None
        self.resolver: ResolverServer | None = None

    @property
    def resolver_url(self) -> str:
        """The resolver's URL (once started)."""
        if self.resolver is None:
            raise RuntimeError("the node has not started")
        return self.resolver.url

    def start(self) -> Endpoints:
        """Initialise the directory if it is empty, start the three parts, write
        ``endpoints.json``; returns what it wrote.

        :raises IdfuseNodeError: a part could not start (:class:`ServiceStartError` for a port
            in use, a storage error for a locked or corrupt database, or for a chain lost while
            its index remains); nothing is left running.
        :raises KeystoreError, OSError: the directory could not be initialised or read.
        """
        directory = self.directory
        if directory.is_empty():
            init_data_dir(directory, chain_id=self.chain_id, block_period=1)
            self.initialised = True
        elif not directory.genesis.exists():
            raise IdfuseNodeError(f"{directory.root} has no genesis.json; it is not an idfuse data directory")
        elif _holds_files(directory.index_db) and not _holds_files(directory.chain_db):
            raise StorageCorruptError(
                f"{directory.chain_db} is missing or empty but {directory.index_db} indexes a chain: the "
                f"chain was lost; restore {directory.chain_db} from a backup (or, to start a new chain, "
                f"delete {directory.index_db} too)"
            )
        try:
            # the index first: when it is locked or damaged the chain is not even opened
            self.store = LevelDBIndexStore(directory.index_db)
            self.ledger.start()
            self.indexer = IndexerThread(self.ledger.url, self.store, self.ledger.contracts)
            self.indexer.start()
            settings = replace(self.resolver_settings, chain_head=self.ledger.head_number)
            app = create_app(IndexReader(self.store), settings=settings)
            server = ResolverServer(app, host=self.host, port=self.resolver_port)
            try:
                server.start()
            except RuntimeError as error:
                server.stop()
                raise ServiceStartError(f"{error} (is the port in use?)") from None
            self.resolver = server
            fields = self.ledger.endpoints()
            fields["resolver_url"] = server.url
            return update_endpoints(directory.endpoints, **fields)
        except BaseException:
            self.stop()
            raise

    def failure(self) -> IdfuseNodeError | None:
        """What stopped a part of the running node on its own (the indexer), if anything did."""
        return None if self.indexer is None else self.indexer.error

    def stop(self) -> None:
        """Stop the resolver, the indexer (after its current commit), the producer, the JSON-RPC
        server and the ledger, and close both databases; idempotent."""
        resolver, self.resolver = self.resolver, None
        if resolver is not None:
            resolver.stop()
        indexer, self.indexer = self.indexer, None
        if indexer is not None:
            indexer.stop()
        self.ledger.stop()
        store, self.store = self.store, None
        if store is not None:
            store.close()
