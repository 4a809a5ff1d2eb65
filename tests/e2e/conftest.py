"""Fixtures of the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.processes import IdfuseProcess


@pytest.fixture
def processes() -> Iterator[list[IdfuseProcess]]:
    """A list a test appends the ``idfuse`` processes it starts to; each is killed (if still
    running) and reaped when the test ends, however it ends."""
    started: list[IdfuseProcess] = []
    yield started
    for process in started:
        process.kill()
