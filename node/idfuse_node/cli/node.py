"""``idfuse node``: run a fusion node (ledger, indexer and resolver in one process) and ask a
running one how it is doing.

``start`` initialises an empty data directory, serves JSON-RPC and the resolver until SIGTERM
or Ctrl-C and writes both URLs into ``DIR/endpoints.json``; ``status`` reads that file and asks
the node over HTTP; ``compact`` compacts a stopped node's (or indexer's) index. Every failure
the user can fix is one line on stderr and exit code 1.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from idfuse_node.cli.common import (
    BLOCK_PERIOD_OPTION,
    START_CHAIN_ID_OPTION,
    configure_logging,
    fail,
    settle_heap,
    stop_on_signal,
)
from idfuse_node.cli.limits import limited
from idfuse_node.datadir import ENDPOINTS_FILE, DataDir, default_data_dir
from idfuse_node.exceptions import IdfuseNodeError
from idfuse_sdk.exceptions import KeystoreError
from idfuse_sdk.nodefinder import node_location

if TYPE_CHECKING:
    from idfuse_node.resolver.settings import ResolverSettings

__all__ = ["app", "register"]

log = logging.getLogger("idfuse.node")

app = typer.Typer(
    name="node",
    help="Run a fusion node: the ledger, the indexer and the resolver in one process.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DATA_DIR_OPTION = typer.Option(
    None,
    "--data-dir",
    metavar="DIR",
    help="The node's data directory (default: $IDFUSE_DATA_DIR or ~/.local/share/idfuse/node).",
)

STATUS_DIR_OPTION = typer.Option(
    None,
    "--data-dir",
    "--node",
    metavar="DIR",
    help=(
        "The node's data directory, or its endpoints.json (default: $IDFUSE_NODE as the client "
        "commands use it, else $IDFUSE_DATA_DIR or ~/.local/share/idfuse/node)."
    ),
)


@app.command("start")
@limited
def start_command(
    settings: ResolverSettings,
    data_dir: Path | None = DATA_DIR_OPTION,
    rpc_port: int = typer.Option(8545, "--rpc-port", min=0, max=65535, help="JSON-RPC port (0: any free)."),
    resolver_port: int = typer.Option(
        8080, "--resolver-port", min=0, max=65535, help="Resolver port (0: any free)."
    ),
    chain_id: int = START_CHAIN_ID_OPTION,
    block_period: float | None = BLOCK_PERIOD_OPTION,
) -> None:
    """Run the ledger, the indexer and the resolver of DIR on 127.0.0.1 until SIGTERM or Ctrl-C."""
    configure_logging()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per indexer request
    stop = stop_on_signal(log)
    directory = DataDir(data_dir or default_data_dir())
    try:
        _run(directory, (rpc_port, resolver_port), chain_id, block_period, settings, stop)
    except typer.Exit:
        raise
    except (IdfuseNodeError, KeystoreError, OSError) as error:
        raise fail(str(error)) from None
    except Exception as error:  # a bug: still one line for the user, the trace in the log
        log.debug("unexpected failure", exc_info=True)
        raise fail(f"unexpected {type(error).__name__}: {error}") from None


def _run(
    directory: DataDir,
    ports: tuple[int, int],
    chain_id: int,
    block_period: float | None,
    settings: ResolverSettings,
    stop: threading.Event,
) -> None:
    from idfuse_node.fusion import FusionNode

    node = FusionNode(
        directory,
        rpc_port=ports[0],
        resolver_port=ports[1],
        chain_id=chain_id,
        block_period=block_period,
        resolver_settings=settings,
    )
    endpoints = node.start()
    failure: IdfuseNodeError | None = None
    try:
        if node.initialised:
            typer.echo(f"initialised {directory.root} (chain id {chain_id})")
        head = node.ledger.head_number()
        typer.echo(f"node running: chain id {node.ledger.chain_id}, head block {head}")
        typer.echo(f"JSON-RPC            {endpoints['rpc_url']}")
        typer.echo(f"resolver            {node.resolver_url}")
        typer.echo(f"dev account         {node.ledger.dev_address} (keystore {directory.dev_keystore})")
        typer.echo(f"endpoints           {directory.endpoints}")
        typer.echo("stop with Ctrl-C or SIGTERM")
        settle_heap()
        while not stop.wait(0.5):
            failure = node.failure()
            if failure is not None:
                break
        log.info("shutting down")
    finally:
        node.stop()
    if failure is not None:
        raise fail(f"the indexer stopped: {failure}")
    typer.echo("node stopped")


@app.command("status")
def status_command(
    data_dir: Path | None = STATUS_DIR_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Ask the running node of DIR for its head, indexed block, lag, validators and counts.

    DIR is found as client commands find their node: --data-dir (or --node), else $IDFUSE_NODE.
    """
    from idfuse_node.fusion import node_status

    location = node_location(data_dir)
    directory = DataDir(location.parent if location.name == ENDPOINTS_FILE else location)
    try:
        status = node_status(directory)
    except IdfuseNodeError as error:
        raise fail(str(error)) from None
    if as_json:
        typer.echo(json.dumps(status.to_json(), indent=2, sort_keys=True))
        return
    typer.echo(f"JSON-RPC     {status.rpc_url} (chain id {status.chain_id})")
    typer.echo(f"head block   {status.head}")
    typer.echo(f"validators   {', '.join(status.validators)}")
    typer.echo(f"peers        {status.peers} (a single-validator node)")
    if status.resolver_url is None:
        typer.echo("resolver     none (endpoints.json names no resolver_url)")
        return
    typer.echo(f"resolver     {status.resolver_url}")
    indexed = "nothing yet" if status.indexed is None else f"block {status.indexed} (lag {status.lag})"
    typer.echo(f"indexed      {indexed}")
    counts = status.counts or {}
    typer.echo(
        f"index holds  {counts.get('prefixes', 0)} prefixes, {counts.get('identifiers', 0)} identifiers, "
        f"{counts.get('batches', 0)} batches"
    )


COMPACT_PROGRESS_SECONDS = 30.0


def _bytes_in(directory: Path) -> int:
    return sum(entry.stat().st_size for entry in directory.iterdir() if entry.is_file())


COMPACT_HELP = (
    "Compact DIR/index, the LevelDB index of a stopped node, indexer or resolver.\n\n"
    "After a backfill of millions of identifiers LevelDB's own compaction lags behind the "
    "writes, and every read looks in a table of each level; compacted, in one. It takes minutes "
    "for millions of identifiers (about 4 for 10 million). Stop what uses DIR first: the index "
    "is locked while it runs. Interrupting is safe: LevelDB installs compacted tables "
    "atomically.\n\n"
    "Example: idfuse node compact --data-dir ./node"
)


@app.command("compact", help=COMPACT_HELP)
def compact_command(data_dir: Path | None = DATA_DIR_OPTION) -> None:
    """Compact DIR/index (see COMPACT_HELP)."""
    from idfuse_node.indexer.store import LevelDBIndexStore

    index = DataDir(data_dir or default_data_dir()).index_db
    if not (index / "CURRENT").is_file():
        raise fail(f"{index} holds no index: nothing to compact")
    before = _bytes_in(index)
    typer.echo(f"compacting {index} ({before / 1e6:,.1f} MB)", err=True)
    started = time.monotonic()
    failure: list[str] = []

    def compact() -> None:
        try:
            with LevelDBIndexStore(index, create=False) as store:
                store.compact()
        except IdfuseNodeError as error:
            failure.append(str(error))
        except Exception as error:  # a bug: still one line for the user, the trace in the log
            log.debug("unexpected failure", exc_info=True)
            failure.append(f"unexpected {type(error).__name__}: {error}")

    worker = threading.Thread(target=compact, name="idfuse-compact", daemon=True)
    worker.start()
    try:
        worker.join(COMPACT_PROGRESS_SECONDS)
        while worker.is_alive():
            typer.echo(f"  still compacting ({time.monotonic() - started:,.0f} s)", err=True)
            worker.join(COMPACT_PROGRESS_SECONDS)
    except KeyboardInterrupt:
        # LevelDB cannot be stopped mid-compaction; leaving now is safe (tables are installed
        # atomically through its MANIFEST), and skips closing a database still in use.
        typer.echo("interrupted: the index is as it was, or partly compacted; both are whole", err=True)
        os._exit(130)
    if failure:
        raise fail(failure[0])
    typer.echo(
        f"compacted {index} in {time.monotonic() - started:,.1f} s: "
        f"{before / 1e6:,.1f} MB -> {_bytes_in(index) / 1e6:,.1f} MB"
    )


def register(root: typer.Typer) -> None:
    """Add ``idfuse node`` to the ``idfuse`` command."""
    root.add_typer(app, name="node")
