"""``idfuse resolver``: serve a data directory's index over HTTP (Handle REST API and ``/v1``).

Opens ``DIR/index`` (see :class:`~idfuse_node.datadir.DataDir`), serves it until SIGTERM or
Ctrl-C, and writes ``resolver_url`` into ``DIR/endpoints.json``. Every failure the user can fix
is one line on stderr and exit code 1.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from idfuse_node.cli.common import configure_logging, fail, stop_on_signal
from idfuse_node.cli.limits import limited
from idfuse_node.datadir import DataDir, update_endpoints
from idfuse_node.exceptions import IdfuseNodeError

if TYPE_CHECKING:
    from idfuse_node.resolver.settings import ResolverSettings

__all__ = ["register", "serve_command"]

log = logging.getLogger("idfuse.resolver")


@limited
def serve_command(
    settings: ResolverSettings,
    data_dir: Path = typer.Option(..., "--data-dir", help="The node's data directory."),  # noqa: B008
    host: str = typer.Option("127.0.0.1", "--host", help="Address the resolver binds."),
    port: int = typer.Option(8080, "--port", min=0, max=65535, help="Port (0: any free port)."),
) -> None:
    """Serve DIR/index: the Handle REST API, /v1, /health and /metrics, until SIGTERM or Ctrl-C."""
    configure_logging()
    stop = stop_on_signal(log)
    directory = DataDir(data_dir)
    if not directory.index_db.is_dir():
        raise fail(f"{directory.index_db} does not exist: run the indexer on {directory.root} first")
    try:
        _run(directory, host, port, settings, stop)
    except typer.Exit:
        raise
    except (IdfuseNodeError, OSError) as error:
        raise fail(str(error)) from None


def _run(directory: DataDir, host: str, port: int, settings: ResolverSettings, stop: threading.Event) -> None:
    from idfuse_node.indexer.reader import IndexReader
    from idfuse_node.indexer.store import LevelDBIndexStore
    from idfuse_node.resolver import ResolverServer, create_app

    store = LevelDBIndexStore(directory.index_db, create=False)
    try:
        server = ResolverServer(create_app(IndexReader(store), settings=settings), host=host, port=port)
        try:
            server.start()
        except RuntimeError as error:
            raise fail(f"{error} (is the port in use?)") from None
        try:
            update_endpoints(directory.endpoints, resolver_url=server.url)
            typer.echo(f"resolver running: {server.url} (index {directory.index_db})")
            typer.echo("stop with Ctrl-C or SIGTERM")
            while not stop.wait(0.5):
                pass
        finally:
            server.stop()
    finally:
        store.close()
    typer.echo("resolver stopped")


def register(root: typer.Typer) -> None:
    """Add ``idfuse resolver`` to the ``idfuse`` command."""
    root.command("resolver")(serve_command)
