"""Deploy the registry once per session; every test starts from that snapshot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contracts.chain import Chain, make_chain


@pytest.fixture(scope="session")
def _deployed() -> tuple[Chain, str]:
    chain = make_chain()
    return chain, chain.tester.take_snapshot()


@pytest.fixture
def chain(_deployed: tuple[Chain, str]) -> Iterator[Chain]:
    chain, snapshot = _deployed
    chain.tester.revert_to_snapshot(snapshot)
    yield chain
    chain.tester.revert_to_snapshot(snapshot)
