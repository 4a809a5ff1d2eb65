"""``idfuse indexer``: follow a chain's registry contracts over JSON-RPC into a LevelDB index.

The registry addresses come from an endpoints file (``idfuse ledger start`` and ``idfuse
deploy`` write one); the index lives in ``DIR/index``. The command runs until SIGTERM or
Ctrl-C and then stops after the current commit. Progress is logged every few seconds; an
endpoint that goes down is retried forever. Every failure the user can fix is one line on
stderr and exit code 1.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Final

import typer

from idfuse_node.cli.common import configure_logging, fail, settle_heap, stop_on_signal
from idfuse_node.cli.following import FollowOptions, following
from idfuse_node.datadir import DataDir
from idfuse_node.exceptions import IdfuseNodeError

__all__ = ["register"]

log = logging.getLogger("idfuse.indexer")

HELP: Final = (
    "Follow the registry contracts of an EVM chain over JSON-RPC and keep an index of prefixes, "
    "identifiers, batches, templates and their history in DIR/index (LevelDB), the index the "
    "resolver serves.\n\n"
    "The contracts' addresses come from --endpoints (DIR/endpoints.json by default), as "
    "'idfuse ledger start' or 'idfuse deploy' write it. Blocks at or below the chain's "
    "'finalized' block, or at least --finality-depth blocks below the head, are final; newer "
    "blocks can be rolled back when the chain reorganises. Runs until SIGTERM or Ctrl-C.\n\n"
    "Example: idfuse indexer --rpc http://127.0.0.1:8545 --data-dir ./node"
)


DATA_DIR_OPTION = typer.Option(
    ..., "--data-dir", metavar="DIR", help="The node's data directory; the index goes to DIR/index."
)


@following
def indexer_command(
    follow: FollowOptions,
    rpc: str = typer.Option(..., "--rpc", metavar="URL", help="The chain's JSON-RPC URL."),
    data_dir: Path = DATA_DIR_OPTION,
) -> None:
    """Index the chain at --rpc into DIR/index until SIGTERM or Ctrl-C."""
    configure_logging()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    stop = stop_on_signal(log)
    directory = DataDir(data_dir)
    try:
        _run(directory, rpc, follow, stop)
    except typer.Exit:
        raise
    except (IdfuseNodeError, OSError) as error:
        raise fail(str(error)) from None
    except Exception as error:  # a bug: still one line for the user, the trace in the log
        log.debug("unexpected failure", exc_info=True)
        raise fail(f"unexpected {type(error).__name__}: {error}") from None


def _run(directory: DataDir, rpc: str, follow: FollowOptions, stop: threading.Event) -> None:
    from idfuse_node.indexer.follower import Indexer
    from idfuse_node.indexer.records import ChainBinding
    from idfuse_node.indexer.source import ChainSource
    from idfuse_node.indexer.store import LevelDBIndexStore

    contracts = follow.contracts(directory)
    directory.ensure()
    # the index first: a locked or damaged index is refused even while the chain is unreachable
    with LevelDBIndexStore(directory.index_db) as store, ChainSource(rpc, interrupt=stop) as source:
        binding = ChainBinding(source.chain_id(), contracts)
        indexer = Indexer(source, store, binding, **follow.indexer_options())
        checkpoint = indexer.checkpoint()
        where = "an empty index" if checkpoint is None else f"block {checkpoint.number}"
        typer.echo(f"indexing chain {binding.chain_id} at {rpc} into {directory.index_db} from {where}")
        settle_heap()
        indexer.run(stop)
        checkpoint = indexer.checkpoint()
    typer.echo(f"indexer stopped at block {-1 if checkpoint is None else checkpoint.number}")


def register(root: typer.Typer) -> None:
    """Add ``idfuse indexer`` to the ``idfuse`` command."""
    root.command("indexer", help=HELP, no_args_is_help=True)(indexer_command)
