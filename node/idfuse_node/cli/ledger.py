"""``idfuse ledger``: create a development ledger in a data directory and run it.

``init`` writes the genesis and the two accounts (see :class:`~idfuse_node.datadir.DataDir`);
``start`` opens the chain, deploys the registry contracts on first start, and serves JSON-RPC
until SIGTERM or Ctrl-C. Every failure the user can fix is one line on stderr and exit code 1.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Final

import typer
from eth_keys.datatypes import PrivateKey
from eth_utils.address import to_checksum_address

from idfuse_node.cli.common import fail, stop_on_signal
from idfuse_node.datadir import DataDir, update_endpoints
from idfuse_node.exceptions import IdfuseNodeError
from idfuse_sdk.exceptions import KeystoreError

__all__ = ["DEFAULT_CHAIN_ID", "app", "init_data_dir", "register"]

DEFAULT_CHAIN_ID: Final = 1337
FUNDING_WEI: Final = 10**6 * 10**18
"""What the genesis gives the development account and the validator: a million ether."""
GAS_LIMIT: Final = 1_000_000_000

log = logging.getLogger("idfuse.ledger")

app = typer.Typer(
    name="ledger",
    help="Run a single-validator development ledger (QBFT, JSON-RPC).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DATA_DIR_OPTION = typer.Option(..., "--data-dir", help="The node's data directory.")


def init_data_dir(data_dir: DataDir, *, chain_id: int, block_period: int) -> tuple[str, str]:
    """Write a fresh genesis and the validator and development accounts into ``data_dir``.

    Returns (validator address, development account address).

    :raises GenesisError: ``chain_id`` or ``block_period`` is out of range.
    :raises KeystoreError, OSError: a file could not be written.
    """
    from idfuse_node.ledger.genesis import GenesisConfig

    data_dir.ensure()
    validator = data_dir.create_validator_account()
    dev = data_dir.create_dev_account()
    genesis = GenesisConfig(
        chain_id=chain_id,
        validators=(bytes.fromhex(validator[2:]),),
        alloc={bytes.fromhex(validator[2:]): FUNDING_WEI, bytes.fromhex(dev[2:]): FUNDING_WEI},
        gas_limit=GAS_LIMIT,
        block_period_seconds=block_period,
        timestamp=int(time.time()),
    )
    genesis.save(data_dir.genesis)
    data_dir.genesis.chmod(0o600)
    return validator, dev


def _init(data_dir: DataDir, chain_id: int, block_period: int) -> None:
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
    _init(DataDir(data_dir), chain_id, block_period)


@app.command("start")
def start_command(
    data_dir: Path = DATA_DIR_OPTION,
    host: str = typer.Option("127.0.0.1", "--host", help="Address the JSON-RPC server binds."),
    rpc_port: int = typer.Option(
        8545, "--rpc-port", min=0, max=65535, help="JSON-RPC port (0: any free port)."
    ),
    chain_id: int = typer.Option(
        DEFAULT_CHAIN_ID, "--chain-id", min=1, help="Chain id if DIR is initialised now."
    ),
    block_period: float | None = typer.Option(
        None, "--block-period", min=0.01, help="Seconds between blocks; by default the genesis period."
    ),
) -> None:
    """Run the ledger in DIR (initialising an empty DIR first) until SIGTERM or Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = stop_on_signal(log)  # from here on, Ctrl-C or SIGTERM stops the node once it is up
    directory = DataDir(data_dir)
    if directory.is_empty():
        _init(directory, chain_id, 1)
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
    from idfuse_node.ledger.bootstrap import bootstrap_registries
    from idfuse_node.ledger.chain import Ledger
    from idfuse_node.ledger.genesis import GenesisConfig
    from idfuse_node.ledger.producer import BlockProducer
    from idfuse_node.ledger.txpool import TxPool
    from idfuse_node.rpc import RpcContext, RpcServer

    genesis = GenesisConfig.load(directory.genesis)
    validator_key = PrivateKey(bytes(directory.load_validator_account().key))
    dev_address = directory.load_dev_account().address
    log.info("opening the chain in %s", directory.chain_db)
    ledger = Ledger.open(directory.root, genesis, validator_key)
    try:
        contracts = bootstrap_registries(ledger, validator_key, [bytes.fromhex(dev_address[2:])])
        log.info("registry contracts ready at block %d", ledger.head().block_number)
        context = RpcContext(ledger)
        pool = TxPool(ledger, contracts["Consortium"])
        context.pool = pool
        producer = BlockProducer(ledger, pool, block_period, lock=context.lock)
        server = RpcServer(context, host=host, port=port)
        try:
            server.start()
        except RuntimeError as error:
            raise fail(f"{error} (is the port in use?)") from None
        producer.start()
        try:
            named: dict[str, str] = {
                name: to_checksum_address(address) for name, address in contracts.items()
            }
            update_endpoints(
                directory.endpoints,
                rpc_url=server.url,
                chain_id=genesis.chain_id,
                contracts=named,
                dev_account=directory.dev_account_endpoint(dev_address),
            )
            typer.echo(
                f"ledger running: chain id {genesis.chain_id}, head block {ledger.head().block_number}"
            )
            typer.echo(f"JSON-RPC            {server.url}")
            for name, address in named.items():
                typer.echo(f"{name:20} {address}")
            typer.echo(f"dev account         {dev_address} (keystore {directory.dev_keystore})")
            typer.echo(f"endpoints           {directory.endpoints}")
            typer.echo("stop with Ctrl-C or SIGTERM")
            while not stop.wait(0.5):
                pass
            log.info("shutting down")
        finally:
            producer.stop()
            server.stop()
    finally:
        ledger.close()
    typer.echo("ledger stopped")


def register(root: typer.Typer) -> None:
    """Add ``idfuse ledger`` to the ``idfuse`` command."""
    root.add_typer(app, name="ledger")
