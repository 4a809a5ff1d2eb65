"""The options of following a chain, shared by ``idfuse indexer`` and ``idfuse resolver --rpc``
(a replica): ``--endpoints``, ``--start-block``, ``--finality-depth``, ``--ignore-finalized-tag``,
``--batch-blocks``, ``--poll-interval`` and ``--compact-after``.

The defaults are :class:`~idfuse_node.indexer.follower.Indexer`'s, written out here so that the
CLI does not import the indexer to show its help; a test keeps them equal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Concatenate, Final, ParamSpec

import typer

from idfuse_node.cli.common import fail
from idfuse_node.datadir import DataDir, read_endpoints
from idfuse_sdk.cli.common import with_options

if TYPE_CHECKING:
    from idfuse_node.indexer.follower import IndexerOptions

__all__ = [
    "DEFAULT_BATCH_BLOCKS",
    "DEFAULT_COMPACT_AFTER_MIB",
    "DEFAULT_FINALITY_DEPTH",
    "DEFAULT_POLL_INTERVAL",
    "FollowOptions",
    "following",
]

P = ParamSpec("P")

DEFAULT_FINALITY_DEPTH: Final = 12
DEFAULT_BATCH_BLOCKS: Final = 1_000
DEFAULT_POLL_INTERVAL: Final = 0.1
DEFAULT_COMPACT_AFTER_MIB: Final = 256


@dataclass(frozen=True, slots=True)
class FollowOptions:
    """How to follow the chain: where its registries' addresses are, and the indexer's options
    (:class:`~idfuse_node.indexer.follower.Indexer`)."""

    endpoints: Path | None
    start_block: int
    finality_depth: int
    use_finalized_tag: bool
    batch_blocks: int
    poll_interval: float
    compact_after_mib: int

    def indexer_options(self) -> IndexerOptions:
        """The keyword arguments :class:`~idfuse_node.indexer.follower.Indexer` and
        :class:`~idfuse_node.fusion.indexing.IndexerThread` take for these options."""
        return {
            "start_block": self.start_block,
            "finality_depth": self.finality_depth,
            "batch_blocks": self.batch_blocks,
            "use_finalized_tag": self.use_finalized_tag,
            "poll_interval": self.poll_interval,
            "compact_after": self.compact_after_mib << 20,
        }

    def endpoints_file(self, directory: DataDir) -> Path:
        """``--endpoints``, or ``DIR/endpoints.json``."""
        return self.endpoints or directory.endpoints

    def contracts(self, directory: DataDir) -> dict[str, str]:
        """The registry addresses the endpoints file names.

        :raises typer.Exit: it names no address for a registry the indexer follows (one line).
        :raises EndpointsError: it is missing or malformed.
        """
        from idfuse_node.indexer.follower import INDEXED_CONTRACTS

        path = self.endpoints_file(directory)
        contracts = dict(read_endpoints(path).get("contracts", {}))
        missing = [name for name in INDEXED_CONTRACTS if name not in contracts]
        if missing:
            raise fail(f"{path} names no address for {', '.join(missing)}")
        return contracts


ENDPOINTS_OPTION = typer.Option(
    None,
    "--endpoints",
    metavar="FILE",
    help="The endpoints file naming the registry contracts (default: DIR/endpoints.json).",
)
START_BLOCK_OPTION = typer.Option(
    0, "--start-block", min=0, metavar="N", help="First block to index in a new index (the deployment's)."
)
FINALITY_DEPTH_OPTION = typer.Option(
    DEFAULT_FINALITY_DEPTH,
    "--finality-depth",
    min=0,
    metavar="N",
    help="Blocks below the head after which a block is final.",
)
IGNORE_FINALIZED_TAG_OPTION = typer.Option(
    False,
    "--ignore-finalized-tag",
    help="Let only --finality-depth decide finality (for dev chains such as Hardhat, whose "
    "'finalized' block is their head).",
)
BATCH_BLOCKS_OPTION = typer.Option(
    DEFAULT_BATCH_BLOCKS,
    "--batch-blocks",
    min=1,
    metavar="N",
    help="Final blocks written to the index in one commit at most.",
)


def _poll_interval(value: float) -> float:
    # checked here, not by min/max: typer would print the range beside the metavar, widening
    # the column until option names are cut short in an 80-column help
    if not 0.01 <= value <= 60:
        raise typer.BadParameter(f"{value} is not between 0.01 and 60 seconds")
    return value


POLL_INTERVAL_OPTION = typer.Option(
    DEFAULT_POLL_INTERVAL,
    "--poll-interval",
    metavar="SECONDS",
    callback=_poll_interval,
    help="Seconds between polls of the endpoint for new blocks once caught up (0.01-60).",
)


COMPACT_AFTER_OPTION = typer.Option(
    DEFAULT_COMPACT_AFTER_MIB,
    "--compact-after",
    min=0,
    metavar="MIB",
    help="Compact the index, while indexing goes on, when it has caught up with the chain after "
    "writing at least this many MiB to it (a backfill); 0: never.",
)


def _follow_options(
    endpoints: Path | None,
    start_block: int,
    finality_depth: int,
    ignore_finalized_tag: bool,
    batch_blocks: int,
    poll_interval: float,
    compact_after: int,
) -> FollowOptions:
    return FollowOptions(
        endpoints,
        start_block,
        finality_depth,
        not ignore_finalized_tag,
        batch_blocks,
        poll_interval,
        compact_after,
    )


_FOLLOW_OPTIONS: Final = (
    ("endpoints", Path | None, ENDPOINTS_OPTION),
    ("start_block", int, START_BLOCK_OPTION),
    ("finality_depth", int, FINALITY_DEPTH_OPTION),
    ("ignore_finalized_tag", bool, IGNORE_FINALIZED_TAG_OPTION),
    ("batch_blocks", int, BATCH_BLOCKS_OPTION),
    ("poll_interval", float, POLL_INTERVAL_OPTION),
    ("compact_after", int, COMPACT_AFTER_OPTION),
)


def following(command: Callable[Concatenate[FollowOptions, P], None]) -> Callable[..., None]:
    """``command(follow, ...)`` as a typer command that also takes the options of following a
    chain (after its own parameters) and hands it their :class:`FollowOptions`."""
    return with_options(command, _follow_options, _FOLLOW_OPTIONS)
