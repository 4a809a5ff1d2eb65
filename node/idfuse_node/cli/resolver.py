"""``idfuse resolver``: serve a data directory's index over HTTP (Handle REST API and ``/v1``).

Opens ``DIR/index`` (see :class:`~idfuse_node.datadir.DataDir`), serves it until SIGTERM or
Ctrl-C, and writes ``resolver_url`` into ``DIR/endpoints.json``. With ``--rpc`` the resolver is
a replica: an :class:`~idfuse_node.fusion.indexing.IndexerThread` follows the chain into the
index it serves, waiting for an endpoint that does not answer. Every failure the user can fix
(an index of another chain among them) is one line on stderr and exit code 1.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Final

import typer

from idfuse_node.cli.common import configure_logging, fail, settle_heap, stop_on_signal
from idfuse_node.cli.following import FollowOptions, following
from idfuse_node.cli.limits import limited
from idfuse_node.datadir import DataDir, update_endpoints
from idfuse_node.exceptions import IdfuseNodeError

if TYPE_CHECKING:
    from idfuse_node.fusion.indexing import IndexerThread
    from idfuse_node.indexer.store import IndexStore
    from idfuse_node.resolver.settings import ResolverSettings

__all__ = ["register", "serve_command"]

log = logging.getLogger("idfuse.resolver")

HELP: Final = (
    "Serve DIR/index over HTTP: the Handle REST API, /v1, /health and /metrics, until SIGTERM or "
    "Ctrl-C; the URL goes into DIR/endpoints.json.\n\n"
    "Without --rpc, the index is one an indexer has written and stopped writing (LevelDB admits "
    "one process per index). With --rpc URL the resolver is a replica: it also follows that "
    "chain into its own DIR/index, as 'idfuse indexer' would, and serves what it has indexed. "
    "Replicas behind a load balancer, each with its own data directory, scale the read side out. "
    "While the chain endpoint is down (or before it first answers) a replica keeps serving the "
    "last indexed block and says so in /health and /v1/checkpoint; it catches up when the "
    "endpoint returns.\n\n"
    "Example: idfuse resolver --data-dir ./replica --rpc http://10.0.0.5:8545 "
    "--endpoints ./node/endpoints.json --port 8080"
)


@limited
@following
def serve_command(
    follow: FollowOptions,
    settings: ResolverSettings,
    data_dir: Path = typer.Option(..., "--data-dir", help="The node's data directory."),  # noqa: B008
    host: str = typer.Option("127.0.0.1", "--host", help="Address the resolver binds."),
    port: int = typer.Option(8080, "--port", min=0, max=65535, help="Port (0: any free port)."),
    rpc: str | None = typer.Option(
        None,
        "--rpc",
        metavar="URL",
        help="Follow the chain at this JSON-RPC URL into DIR/index while serving it (a replica); "
        "the indexer options below apply only with it.",
    ),
) -> None:
    """Serve DIR/index: the Handle REST API, /v1, /health and /metrics, until SIGTERM or Ctrl-C."""
    configure_logging()
    stop = stop_on_signal(log)
    directory = DataDir(data_dir)
    if rpc is None and not directory.index_db.is_dir():
        raise fail(f"{directory.index_db} does not exist: run the indexer on {directory.root} first")
    try:
        if rpc is None:
            _run(directory, host, port, settings, stop)
        else:
            logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per indexer request
            _run_replica(directory, (host, port), settings, (rpc, follow), stop)
    except typer.Exit:
        raise
    except (IdfuseNodeError, OSError) as error:
        raise fail(str(error)) from None


def _run(directory: DataDir, host: str, port: int, settings: ResolverSettings, stop: threading.Event) -> None:
    from idfuse_node.indexer.store import LevelDBIndexStore

    store = LevelDBIndexStore(directory.index_db, create=False)
    try:
        _serve(directory, store, (host, port), settings, stop, None)
    finally:
        store.close()
    typer.echo("resolver stopped")


def _run_replica(
    directory: DataDir,
    address: tuple[str, int],
    settings: ResolverSettings,
    chain: tuple[str, FollowOptions],
    stop: threading.Event,
) -> None:
    from idfuse_node.fusion.indexing import IndexerThread
    from idfuse_node.indexer.store import LevelDBIndexStore

    rpc, follow = chain
    contracts = follow.contracts(directory)
    directory.ensure()
    store = LevelDBIndexStore(directory.index_db)
    try:
        indexer = IndexerThread(rpc, store, contracts, replica=True, **follow.indexer_options())
        settings = replace(settings, chain_head=indexer.head, unreachable_since=indexer.unreachable_since)
        checkpoint = indexer.checkpoint()
        where = "an empty index" if checkpoint is None else f"block {checkpoint.number}"
        typer.echo(f"replica: following {rpc} into {directory.index_db} from {where}")
        try:
            failure = _serve(directory, store, address, settings, stop, indexer)
        finally:
            indexer.stop()
    finally:
        store.close()
    if failure is not None:
        raise fail(f"the indexer stopped: {failure}")
    typer.echo("resolver stopped")


def _serve(
    directory: DataDir,
    store: IndexStore,
    address: tuple[str, int],
    settings: ResolverSettings,
    stop: threading.Event,
    indexer: IndexerThread | None,
) -> str | None:
    """Serve ``store`` and start ``indexer`` beside it; serve until ``stop`` or the indexer
    ends; what ended it, if it did (the caller stops the indexer)."""
    from idfuse_node.indexer.reader import IndexReader
    from idfuse_node.resolver import ResolverServer, create_app

    host, port = address
    server = ResolverServer(create_app(IndexReader(store), settings=settings), host=host, port=port)
    try:
        server.start()
    except RuntimeError as error:
        raise fail(f"{error} (is the port in use?)") from None
    failure: str | None = None
    try:
        if indexer is not None:
            indexer.start()
        update_endpoints(directory.endpoints, resolver_url=server.url)
        typer.echo(f"resolver running: {server.url} (index {directory.index_db})")
        settle_heap()
        typer.echo("stop with Ctrl-C or SIGTERM")
        while not stop.wait(0.5):
            if indexer is not None and not indexer.is_alive():  # it stops only when asked, or fails
                failure = "unexpectedly (see the log)" if indexer.error is None else str(indexer.error)
                break
    finally:
        server.stop()
    return failure


def register(root: typer.Typer) -> None:
    """Add ``idfuse resolver`` to the ``idfuse`` command."""
    root.command("resolver", help=HELP)(serve_command)
