"""Waiting for a live component to reach a state (the indexer catching up, a node serving
again): :func:`eventually`, the one polling loop of the suite. A bound on liveness, never a
speed assertion."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def eventually(
    probe: Callable[[], T | None],
    what: str | Callable[[], str],
    *,
    timeout: float = 60.0,
    interval: float = 0.1,
    ignore: tuple[type[BaseException], ...] = (),
) -> T:
    """``probe()``'s first answer that is not None, asked every ``interval`` seconds; an
    exception of a type in ``ignore`` counts as None. Fails the test naming ``what`` (a
    callable's text is computed then, e.g. with the last answer seen) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = probe()
        except ignore:
            found = None
        if found is not None:
            return found
        if time.monotonic() >= deadline:
            pytest.fail(f"{what() if callable(what) else what} not within {timeout:.0f} s")
        time.sleep(interval)
