"""Resolvers over real HTTP on 127.0.0.1 (ephemeral ports), over the test index."""

from __future__ import annotations

import httpx
import pytest

from idfuse_node.indexer.reader import IndexReader
from idfuse_node.indexer.store import MemoryIndexStore
from idfuse_node.resolver import ResolverServer, ResolverSettings, create_app
from tests.node.resolver.indexdata import Built, populate


@pytest.fixture(scope="module")
def served() -> tuple[ResolverServer, Built]:
    store = MemoryIndexStore()
    built = populate(store, other_resolver="http://127.0.0.1:9")
    server = ResolverServer(create_app(IndexReader(store), settings=ResolverSettings(chain_head=lambda: 10)))
    server.start()
    yield server, built
    server.stop()


@pytest.fixture
def client(served: tuple[ResolverServer, Built]) -> httpx.Client:
    with httpx.Client(base_url=served[0].url, timeout=10) as http:
        yield http
