"""``idfuse ledger``: create a development ledger in a data directory and run it.

``init`` writes the genesis and the two accounts (see :class:`~idfuse_node.datadir.DataDir`);
``start`` opens the chain, deploys the registry contracts on first start, and serves JSON-RPC
until SIGTERM or Ctrl-C. Every failure the user can fix is one line on stderr and exit code 1.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import typer
from eth_utils.address import to_checksum_address

from idfuse_node.cli.common import (
    BLOCK_PERIOD_OPTION,
    START_CHAIN_ID_OPTION,
    configure_logging,
    fail,
    settle_heap,
    stop_on_signal,
)
from idfuse_node.datadir import DataDir, update_endpoints
from idfuse_node.defaults import DEFAULT_CHAIN_ID
from idfuse_node.exceptions import IdfuseNodeError
from idfuse_sdk.exceptions import KeystoreError

__all__ = ["DEFAULT_CHAIN_ID", "app", "initialise", "register"]

"""The chain id of a data directory initialised without ``--chain-id``."""

log = logging.getLogger("idfuse.ledger")

app = typer.Typer(
    name="ledger",
    help="Run a single-validator development ledger (QBFT, JSON-RPC).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DATA_DIR_OPTION = typer.Option(..., "--data-dir", help="The node's data directory.")


def initialise(data_dir: DataDir, chain_id: int, block_period: int) -> None:
    """Initialise the empty ``data_dir`` (genesis, validator and development accounts) and say
    so on stdout; a failure is one line on stderr (the :class:`typer.Exit` raised).
    """
    from idfuse_node.ledger.service import init_data_dir

    if not data_dir.is_empty():
        raise fail(f"{data_dir.root} is not empty; refusing to initialise it (pick another --data-dir)")
    try:
        validator, dev = init_data_dir(data_dir, chain_id=chain_id, block_period=block_period)
    except (IdfuseNodeError, KeystoreError, OSError) as error:
        raise fail(f"cannot initialise {data_dir.root}: {error}") from None
    typer.echo(f"initialised {data_dir.root} (chain id {chain_id})")
    typer.echo(f"validator    {to_checksum_address(validator)}")
    typer.echo(f"dev account  {to_checksum_address(dev)}")


@app.command("init")
def init_command(
    data_dir: Path = DATA_DIR_OPTION,
    chain_id: int = typer.Option(DEFAULT_CHAIN_ID, "--chain-id", min=1, help="The chain id."),
    block_period: int = typer.Option(1, "--block-period", min=1, help="Seconds between blocks (genesis)."),
) -> None:
    """Create a genesis, a validator key and a funded development account in an empty directory."""
    initialise(DataDir(data_dir), chain_id, block_period)


@app.command("start")
def start_command(
    data_dir: Path = DATA_DIR_OPTION,
    host: str = typer.Option("127.0.0.1", "--host", help="Address the JSON-RPC server binds."),
    rpc_port: int = typer.Option(
        8545, "--rpc-port", min=0, max=65535, help="JSON-RPC port (0: any free port)."
    ),
    chain_id: int = START_CHAIN_ID_OPTION,
    block_period: float | None = BLOCK_PERIOD_OPTION,
) -> None:
    """Run the ledger in DIR (initialising an empty DIR first) until SIGTERM or Ctrl-C."""
    configure_logging()
    stop = stop_on_signal(log)  # from here on, Ctrl-C or SIGTERM stops the node once it is up
    directory = DataDir(data_dir)
    if directory.is_empty():
        initialise(directory, chain_id, 1)
    elif not directory.genesis.exists():
        raise fail(f"{directory.root} has no genesis.json; it is not an idfuse data directory")
    try:
        _run(directory, host, rpc_port, block_period, stop)
    except typer.Exit:
        raise
    except (IdfuseNodeError, KeystoreError, OSError) as error:
        raise fail(str(error)) from None
    except Exception as error:  # a bug: still one line for the user, the trace in the log
        log.debug("unexpected failure", exc_info=True)
        raise fail(f"unexpected {type(error).__name__}: {error}") from None


def _run(directory: DataDir, host: str, port: int, block_period: float | None, stop: threading.Event) -> None:
    from idfuse_node.ledger.service import LedgerService

    service = LedgerService(directory, host=host, port=port, block_period=block_period)
    service.start()
    try:
        update_endpoints(directory.endpoints, **service.endpoints())
        head = service.head_number()
        typer.echo(f"ledger running: chain id {service.chain_id}, head block {head}")
        typer.echo(f"JSON-RPC            {service.url}")
        for name, address in service.contracts.items():
            typer.echo(f"{name:20} {address}")
        typer.echo(f"dev account         {service.dev_address} (keystore {directory.dev_keystore})")
        typer.echo(f"endpoints           {directory.endpoints}")
        typer.echo("stop with Ctrl-C or SIGTERM")
        settle_heap()
        while not stop.wait(0.5):
            pass
        log.info("shutting down")
    finally:
        service.stop()
    typer.echo("ledger stopped")


def register(root: typer.Typer) -> None:
    """Add ``idfuse ledger`` to the ``idfuse`` command."""
    root.add_typer(app, name="ledger")
