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


@pytest.fixture
def owner(chain: Chain) -> str:
    """An enterprise that owns prefixes in the tests (accounts[1])."""
    return chain.accounts[1]


@pytest.fixture
def operator(chain: Chain) -> str:
    """An operator the owner may approve (accounts[2])."""
    return chain.accounts[2]


@pytest.fixture
def stranger(chain: Chain) -> str:
    """An account with no rights over anything (accounts[3])."""
    return chain.accounts[3]
