"""An index whose table is damaged mid-file (same size, so it opens) fails the request that reads
it: a typed JSON 503 (storage unavailable) on every route, the fast path included, never a bare
500, and nothing of the server's paths or the operator's advice in the body."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from idfuse_node.indexer.reader import IndexReader
from idfuse_node.indexer.store import LevelDBIndexStore
from idfuse_node.resolver import ResolverServer, ResolverSettings, create_app
from idfuse_node.resolver.codes import RC_ERROR
from tests.node.resolver.indexdata import Built, populate

FOOTER = 48
"""A LevelDB table's footer (kept, so the table still opens and the damage is met on a read)."""


@pytest.fixture
def damaged(tmp_path: Path) -> Iterator[tuple[str, Built, Path]]:
    path = tmp_path / "index"
    with LevelDBIndexStore(path) as store:
        built = populate(store)
    LevelDBIndexStore(path).close()  # opening again moves the log into a table
    (table,) = path.glob("*.ldb")
    store = LevelDBIndexStore(path)
    server = ResolverServer(create_app(IndexReader(store), settings=ResolverSettings(chain_head=lambda: 10)))
    size = table.stat().st_size  # damaged while served: same size, so the MANIFEST still matches
    with table.open("r+b") as out:
        out.write(b"\xa5" * (size - FOOTER))
    server.start()
    try:
        yield server.url, built, path
    finally:
        server.stop()
        store.close()


@pytest.mark.parametrize("route", ["/api/handles/{handle}", "/v1/prefixes/88"])
def test_a_damaged_table_answers_a_json_503(damaged, route):
    url, built, path = damaged
    handle = sorted(built.handles)[0]
    with httpx.Client(base_url=url, timeout=10) as http:
        answer = http.get(route.format(handle=handle))
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["responseCode"] == RC_ERROR
    assert "the index cannot be read" in body["message"]
    assert str(path) not in answer.text
