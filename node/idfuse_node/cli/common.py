"""What every node command shares: one-line failures and stopping on SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import typer

__all__ = ["fail", "stop_on_signal"]


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
