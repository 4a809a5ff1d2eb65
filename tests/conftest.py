"""Helpers every test package may use."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

# Keys are never printed: the session fails when a known private key is in any output.
from tests.keyleaks import pytest_configure as pytest_configure
from tests.keyleaks import pytest_runtest_logreport as pytest_runtest_logreport
from tests.keyleaks import pytest_sessionfinish as pytest_sessionfinish
from tests.keyleaks import pytest_terminal_summary as pytest_terminal_summary


def mode_of(path: Path) -> int:
    """The permission bits of ``path`` (e.g. 0o600)."""
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_zero() -> Iterator[None]:
    """Run with umask 0, so only an explicit chmod can make a file 0600 or a directory 0700."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)
