"""The Handle answer the index keeps for a live handle (``v6:answer:``), joined with the
prefix's derived values and the checkpoint, is byte for byte what the strict path renders from
the record; a handle without that part, or with a part not as the index writes it, is rendered
from its record."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from idfuse_node.indexer import answerpart, schema
from idfuse_node.indexer.reader import IndexReader
from idfuse_node.indexer.records import HandleRecord, IndexedValue, PrefixRecord, Provenance
from idfuse_node.indexer.store import MemoryIndexStore
from idfuse_node.indexer.writer import BlockWriter, rollback_to
from idfuse_node.jsonbytes import dumps
from idfuse_node.resolver import ResolverServer, ResolverSettings, create_app, render
from idfuse_node.resolver.fastrender import joined_answer
from idfuse_node.resolver.render import AnswerFrame
from idfuse_sdk.identifiers import handle_key, prefix_node
from idfuse_sdk.types import PUBLIC_READ
from tests.node.resolver.indexdata import NOW, populate
from tests.node.resolver.test_fastrender import frames, live_records, strict

HANDLE = "/api/handles/88.200/PN-0001"


def kept(stored: bytes | None, text: str, frame: AnswerFrame) -> bytes | None:
    """What the resolver joins for the answer part ``stored``: None when it is not usable."""
    part = None if stored is None else answerpart.parse(stored)
    if part is None:
        return None
    stamp = frame.fallback_time if part.newest is None else part.newest
    admin = dumps(render.admin_value(frame.prefix, frame.ttl, stamp))
    site = b""
    if frame.local_service is not None:
        site = dumps(render.site_value(frame.prefix, frame.local_service, frame.ttl, stamp))
    return joined_answer(part, text, admin, site, dumps(frame.checkpoint))


@settings(max_examples=400)
@given(live_records, frames(), st.text(max_size=12))
def test_a_kept_answer_is_the_strict_answer(record, frame, text):
    frame = frame._replace(types=(), indexes=())
    assert kept(answerpart.build(record), text, frame) == strict(record.to_bytes(), text, frame)


def _provenance(number: int) -> Provenance:
    return Provenance(1, "0x" + "ab" * 20, number, "0x" + "cd" * 32, "0x" + "ef" * 32, 0)


def _record(values: tuple[IndexedValue, ...], *, deleted: bool = False) -> HandleRecord:
    first = _provenance(1)
    return HandleRecord(
        "88/X", "88", "X", "0x01", "0x02", "0x03", values, 0, "0x04", "single", deleted, first, first,
        "IdentifierCreated", 5,
    )  # fmt: skip


def _value(index: int, number: int, permissions: int = PUBLIC_READ) -> IndexedValue:
    return IndexedValue(index, "URL", "string", "0x61", 60, permissions, number, _provenance(number))


def test_the_part_holds_each_provenance_once_and_the_derived_values_slots():
    values = (_value(101, 7), _value(300, 7), _value(1, 1), _value(100, 1), _value(2, 9, permissions=0))
    part = answerpart.parse(answerpart.build(_record(values)) or b"")
    assert part is not None
    assert part.newest == 9  # an unreadable value's time counts, as the strict path counts it
    assert [len(field.split(b'"index":')) - 1 for field in (part.low, part.site_gap, part.high)] == [2, 1, 1]
    assert len(part.provenances) == 2  # blocks 1 and 7; the unreadable value's is not needed
    assert b'"block_number":9' not in b"".join(part.provenances)


def test_deleted_handles_and_records_past_the_mark_limit_keep_no_answer():
    assert answerpart.build(_record((), deleted=True)) is None
    many = tuple(_value(i, i) for i in range(answerpart.MAX_PROVENANCES + 1))
    assert answerpart.build(_record(many)) is None
    assert answerpart.build(_record(many[:-1])) is not None


@pytest.fixture
def served() -> Iterator[tuple[MemoryIndexStore, bytes, httpx.Client]]:
    """The resolver over a populated index: the store, PN-0001's handle key and a client."""
    store = MemoryIndexStore()
    populate(store)
    server = ResolverServer(create_app(IndexReader(store)))
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            yield store, handle_key(prefix_node("88.200"), "PN-0001"), http
    finally:
        server.stop()


@pytest.mark.parametrize(
    "damage",
    [
        lambda part: part.rsplit(b"\n", 1)[0],  # a provenance missing: a mark is left over
        lambda part: b"x" + part,  # the newest time is not a number
        lambda part: b"\n".join(part.split(b"\n")[:5]),  # no provenance at all
        lambda part: part + (b"\n" + part.split(b"\n")[-1]) * 300,  # more provenances than marks
    ],
    ids=["missing provenance", "bad time", "too few fields", "too many provenances"],
)
def test_a_damaged_part_is_declined_and_the_record_rendered_instead(served, damage):
    store, hkey, http = served
    expected = http.get(HANDLE)
    part = store.get(schema.answer_key(hkey))
    assert part is not None
    store.write({schema.answer_key(hkey): damage(part)}, ())
    damaged = store.get(schema.answer_key(hkey))
    assert answerpart.parse(damaged or b"") is None or kept(damaged, "88.200/PN-0001", _frame()) is None
    answer = http.get(HANDLE)
    assert answer.status_code == 200
    assert answer.content == expected.content
    store.write({}, [schema.answer_key(hkey)])  # no part at all: the record is rendered
    assert http.get(HANDLE).content == expected.content


def _frame() -> AnswerFrame:
    store = MemoryIndexStore()
    populate(store)
    reader = IndexReader(store)
    prefix = reader.prefix(prefix_node("88.200"))
    assert prefix is not None
    return AnswerFrame(prefix, None, 86400, 0, None)


@pytest.mark.parametrize("entries", [0, 16])
def test_the_resolver_serves_kept_answers_with_the_answer_cache_on_or_off(entries):
    store = MemoryIndexStore()
    populate(store)
    settings = ResolverSettings(cache_entries=entries)
    server = ResolverServer(create_app(IndexReader(store), settings=settings))
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            answers = [http.get(HANDLE) for _ in range(3)]
            filtered = http.get(HANDLE, params={"type": "URL", "index": "100"})
    finally:
        server.stop()
    assert {answer.status_code for answer in answers} == {200}
    assert answers[0].content == answers[1].content == answers[2].content
    document = answers[0].json()
    assert [value["index"] for value in document["values"]] == sorted(v["index"] for v in document["values"])
    assert "HS_ADMIN" in {value["type"] for value in document["values"]}
    # the filtered answer (rendered, not kept) selects from the same values
    same = [value for value in document["values"] if value["type"] == "URL" or value["index"] == 100]
    assert filtered.json()["values"] == same


def test_the_index_writes_the_part_beside_the_record_and_undoes_both():
    """The writer stores a live record's part under its own key, removes it when the handle is
    deleted, and a rollback restores both keys."""
    store = MemoryIndexStore()
    populate(store)
    hkey = handle_key(prefix_node("88.200"), "PN-0001")
    stored = store.get(schema.handle_record_key(hkey))
    assert stored is not None
    record = HandleRecord.from_bytes(stored)
    assert stored == record.to_bytes()  # the record's JSON alone
    assert store.get(schema.answer_key(hkey)) == answerpart.build(record)
    assert answerpart.parse(store.get(schema.answer_key(hkey)) or b"") is not None
    before = dict(store.iterate(b""))

    writer = BlockWriter(store, 4, keccak(text="block4"), keccak(text="block3"), NOW + 4)
    writer.put_handle(hkey, dataclasses.replace(record, values=(), deleted=True))
    writer.commit()
    assert store.get(schema.answer_key(hkey)) is None
    assert HandleRecord.from_bytes(store.get(schema.handle_record_key(hkey)) or b"").deleted

    rollback_to(store, 3)
    assert dict(store.iterate(b"")) == before


def test_a_deleted_handle_has_no_part_and_answers_404(served):
    store, hkey, http = served
    record = HandleRecord.from_bytes(store.get(schema.handle_record_key(hkey)) or b"")
    writer = BlockWriter(store, 4, keccak(text="block4"), keccak(text="block3"), NOW + 4)
    writer.put_handle(hkey, dataclasses.replace(record, values=(), deleted=True))
    writer.commit()
    gone = http.get(HANDLE)
    assert gone.status_code == 404
    assert gone.json()["message"] == "handle was deleted"
    assert http.get("/api/handles/88.200/absent").json()["message"] == "handle not found"


def test_an_unfiltered_answer_is_joined_from_the_part_alone(served):
    """With the record's JSON unreadable and its part intact, the unfiltered answer is still
    served (from the part), and the filtered one, which reads the JSON, is a damaged index."""
    store, hkey, http = served
    expected = http.get(HANDLE)
    store.write({schema.handle_record_key(hkey): b"{}"}, ())
    assert http.get(HANDLE).content == expected.content
    assert http.get(HANDLE, params={"type": "URL"}).status_code == 503


def test_the_next_block_changes_the_derived_values_of_kept_answers(served):
    """HS_ADMIN is rendered once per checkpoint and value time: a new owner at the next block is
    in the very next answer (the answer cache is off by default)."""
    store, _, http = served
    before = http.get(HANDLE).json()
    node = prefix_node("88.200")
    writer = BlockWriter(store, 4, keccak(text="block4"), keccak(text="block3"), NOW + 4)
    prefix = writer.get_record(schema.prefix_record_key(node), PrefixRecord)
    assert prefix is not None
    owner = "0x" + "12" * 20
    writer.put_record(schema.prefix_record_key(node), dataclasses.replace(prefix, owner=owner))
    writer.commit()
    after = http.get(HANDLE).json()

    def admin(document: dict[str, Any]) -> dict[str, Any]:
        return next(value for value in document["values"] if value["type"] == "HS_ADMIN")

    assert admin(before)["data"]["value"]["owner"] != owner
    assert admin(after)["data"]["value"]["owner"] == owner
    assert after["checkpoint"]["block_number"] == before["checkpoint"]["block_number"] + 1
    assert [v for v in after["values"] if v["type"] != "HS_ADMIN"] == [
        v for v in before["values"] if v["type"] != "HS_ADMIN"
    ]
