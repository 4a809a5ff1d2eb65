"""What every node command shares: one-line failures and stopping on SIGTERM or Ctrl-C."""

from __future__ import annotations

import gc
import logging
import signal
import threading
from types import FrameType

import typer

from idfuse_node.defaults import DEFAULT_CHAIN_ID

__all__ = [
    "BLOCK_PERIOD_OPTION",
    "START_CHAIN_ID_OPTION",
    "configure_logging",
    "fail",
    "settle_heap",
    "stop_on_signal",
]

START_CHAIN_ID_OPTION = typer.Option(
    DEFAULT_CHAIN_ID, "--chain-id", min=1, help="Chain id if DIR is initialised now."
)
BLOCK_PERIOD_OPTION = typer.Option(
    None, "--block-period", min=0.01, help="Seconds between blocks; by default the genesis period."
)


def configure_logging() -> None:
    """INFO and above to stderr, one line each: time, level, logger, message."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on stderr; the exit (code 1) for the caller to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def stop_on_signal(log: logging.Logger) -> threading.Event:
    """An event that SIGTERM and SIGINT (Ctrl-C) set from now on (each logged to ``log``)."""
    stop = threading.Event()

    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)
    return stop


def settle_heap() -> None:
    """Leave what a service built at start out of the garbage collector's later passes.

    A node holds a few hundred thousand long-lived objects (modules, ABIs, py-evm's and the
    index's state) and creates millions of short-lived ones (decoded events, records,
    answers). Each full collection, triggered by the short-lived ones, would scan the
    long-lived ones again: 0.6-0.7 s of every 100,000 indexed events, 0.12-0.14 s once
    frozen (docs/benchmarks.md, "Indexer"). So a service calls this once it has started: it
    collects what start-up left as garbage, then moves everything still alive to the
    collector's permanent generation (:func:`gc.freeze`). Those objects are still freed by
    reference counting when dropped; only a reference cycle among them would outlive its use.
    """
    gc.collect()
    gc.freeze()
