"""Helpers every test package may use."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest


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
