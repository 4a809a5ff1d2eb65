"""With the answer cache on (it is off by default), answers are reused only while the index is
unchanged: a new block that changes a handle, deletes it, suspends its prefix or only moves the
checkpoint is seen by the very next request, and a cached answer is byte-identical to a fresh one."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from eth_utils import keccak

from idfuse_node.indexer import schema
from idfuse_node.indexer.reader import IndexReader
from idfuse_node.indexer.records import HandleRecord, PrefixRecord
from idfuse_node.indexer.store import MemoryIndexStore
from idfuse_node.indexer.writer import BlockWriter
from idfuse_node.resolver import ResolverServer, ResolverSettings, create_app, lookup
from idfuse_sdk.identifiers import handle_key, prefix_node
from tests.node.resolver.indexdata import NOW, populate, prov, value

HANDLE = "/api/handles/88.200/PN-0001"
CACHED = 32768


@pytest.fixture
def moving() -> tuple[MemoryIndexStore, httpx.Client]:
    store = MemoryIndexStore()
    populate(store)
    server = ResolverServer(create_app(IndexReader(store), settings=ResolverSettings(cache_entries=CACHED)))
    server.start()
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield store, http
    server.stop()


def _block(store: MemoryIndexStore, number: int) -> BlockWriter:
    return BlockWriter(
        store, number, keccak(text=f"block{number}"), keccak(text=f"block{number - 1}"), NOW + number
    )


def _handle_key() -> bytes:
    return handle_key(prefix_node("88.200"), "PN-0001")


def test_repeated_answers_are_identical(moving):
    _, http = moving
    first = http.get(HANDLE)
    second = http.get(HANDLE)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    filtered = http.get(HANDLE, params={"type": "EMAIL"})
    assert [v["type"] for v in filtered.json()["values"]] == ["EMAIL"]
    assert http.get(HANDLE).content == first.content


def test_a_new_block_is_seen_by_the_next_request(moving):
    store, http = moving
    before = http.get(HANDLE).json()
    assert before["checkpoint"]["block_number"] == 3

    writer = _block(store, 4)
    record = writer.get_record(schema.handle_record_key(_handle_key()), HandleRecord)
    assert record is not None
    changed = (value(1, "URL", b"https://example.com/moved", block=4),)
    writer.put_handle(
        _handle_key(), dataclasses.replace(record, values=changed, version=2, provenance=prov(4))
    )
    writer.commit()
    after = http.get(HANDLE).json()
    assert after["checkpoint"]["block_number"] == 4
    assert after["values"][0]["data"]["value"] == "https://example.com/moved"

    writer = _block(store, 5)
    writer.commit()
    assert http.get(HANDLE).json()["checkpoint"]["block_number"] == 5

    writer = _block(store, 6)
    node = prefix_node("88.200")
    prefix = writer.get_record(schema.prefix_record_key(node), PrefixRecord)
    assert prefix is not None
    writer.put_record(
        schema.prefix_record_key(node),
        dataclasses.replace(
            prefix, status="suspended", effective_status="suspended", effective_from="88.200"
        ),
    )
    writer.commit()
    refused = http.get(HANDLE)
    assert refused.status_code == 404
    assert "suspended" in refused.json()["message"]


def test_a_deleted_handle_is_not_served_from_the_cache(moving):
    store, http = moving
    assert http.get(HANDLE).status_code == 200
    writer = _block(store, 4)
    record = writer.get_record(schema.handle_record_key(_handle_key()), HandleRecord)
    assert record is not None
    writer.put_handle(_handle_key(), dataclasses.replace(record, values=(), deleted=True, provenance=prov(4)))
    writer.commit()
    gone = http.get(HANDLE)
    assert gone.status_code == 404
    assert gone.json()["message"] == "handle was deleted"


def test_every_spelling_of_a_handle_follows_a_change(moving):
    store, http = moving
    spellings = [HANDLE, "/api/handles/88.200/PN%2D0001", "/api/handles/88%2E200/PN-0001"]
    for _ in range(2):  # the second round answers from the cache
        answers = [http.get(path) for path in spellings]
        assert {a.status_code for a in answers} == {200}
        assert len({a.content for a in answers}) == 1
    writer = _block(store, 4)
    record = writer.get_record(schema.handle_record_key(_handle_key()), HandleRecord)
    assert record is not None
    changed = (value(1, "URL", b"https://example.com/moved", block=4),)
    writer.put_handle(
        _handle_key(), dataclasses.replace(record, values=changed, version=2, provenance=prov(4))
    )
    writer.commit()
    for path in reversed(spellings):
        assert http.get(path).json()["values"][0]["data"]["value"] == "https://example.com/moved"


def test_a_full_cache_drops_its_oldest_answer():
    answers = lookup._Answers(None, 3)
    for n in range(5):
        answers.remember(f"88/{n}", b"88%%2F%d" % n, (b"key", b"stored", b"%d" % n))
    assert list(answers.by_text) == ["88/2", "88/3", "88/4"]
    assert list(answers.by_raw.values()) == ["88/2", "88/3", "88/4"]
    answers.remember("88/3", None, (b"key", b"stored", b"again"))  # a refresh takes no room
    assert list(answers.by_text) == ["88/2", "88/3", "88/4"]
    assert answers.by_text["88/3"][2] == b"again"


@pytest.mark.parametrize("entries", [0, 1])
def test_answers_beyond_the_bound_are_still_served_right(entries):
    store = MemoryIndexStore()
    populate(store)
    app = create_app(IndexReader(store), settings=ResolverSettings(cache_entries=entries))
    server = ResolverServer(app)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            first, other = http.get(HANDLE), http.get("/api/handles/88.200/EMPTY")
            assert first.status_code == other.status_code == 200
            for _ in range(3):  # each answer evicts the other's, or none is kept
                assert http.get("/api/handles/88.200/EMPTY").content == other.content
                assert http.get(HANDLE).content == first.content
        assert len(app.lookup._answers.by_text) == len(app.lookup._answers.by_raw) == entries
    finally:
        server.stop()


def test_the_cache_is_off_by_default():
    store = MemoryIndexStore()
    populate(store)
    app = create_app(IndexReader(store))
    server = ResolverServer(app)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            assert http.get(HANDLE).content == http.get(HANDLE).content
        assert ResolverSettings().cache_entries == 0
        assert not app.lookup._answers.by_text
        assert not app.lookup._answers.by_raw
    finally:
        server.stop()
