"""IndexReader over an index populated through BlockWriter: lookups, pages and batch proofs."""

import pytest
from eth_utils.crypto import keccak

from idfuse_node.exceptions import IndexCorruptError
from idfuse_node.indexer import schema
from idfuse_node.indexer.reader import MAX_PAGE, IndexReader, history_position
from idfuse_node.indexer.records import (
    BatchRecordInfo,
    ChainBinding,
    Checkpoint,
    Counts,
    HandleRecord,
    HistoryEntry,
    PrefixRecord,
    Provenance,
    TemplateField,
    TemplateRecord,
)
from idfuse_node.indexer.store import LevelDBIndexStore, MemoryIndexStore
from idfuse_node.indexer.writer import BlockWriter, write_batch_tree
from idfuse_sdk import merkle
from idfuse_sdk.exceptions import ValidationError
from idfuse_sdk.identifiers import handle_key, prefix_node

OWNER = "0x" + "aB" * 20
OWNER_RAW = bytes.fromhex("ab" * 20)
ROOT = prefix_node("88")
PREFIXES = ["88", "88.100", "88.200", "88.100.1"]
SUFFIXES = ["PN-1", "PN-2", "PN-10", "零件/甲", "a"]
TEMPLATE_ID = keccak(b"template")


@pytest.fixture(params=["memory", "leveldb"])
def store(request, tmp_path):
    if request.param == "memory":
        yield MemoryIndexStore()
    else:
        with LevelDBIndexStore(tmp_path / "index") as leveldb:
            yield leveldb


def hx(raw):
    return "0x" + raw.hex()


def provenance(block, log_index, batch_id=None, record_index=None):
    return Provenance(1337, OWNER, block, hx(bytes(32)), hx(bytes(32)), log_index, batch_id, record_index)


PN1_LAST = provenance(9, 5)
"""The last change to 88.100.1/PN-1, after the history entries the fixture stores."""


def prefix_record(name):
    node = prefix_node(name)
    parent = prefix_node(name.rpartition(".")[0])
    p = provenance(1, 0)
    return PrefixRecord(
        name, hx(node), hx(parent), OWNER, None, "active", "active", None, 0, 0, (), None, hx(bytes(32)), p, p
    )


def handle_record(prefix, suffix, last=None):
    p = provenance(1, 1)
    key = handle_key(prefix, suffix)
    event = "IdentifierCreated" if last is None else "IdentifierUpdated"
    return HandleRecord(
        f"{prefix}/{suffix}", prefix, suffix, hx(key), hx(prefix_node(prefix)), hx(bytes(32)), (), 1,
        hx(bytes(32)), "single", False, p, last or p, event, 100,
    )  # fmt: skip


@pytest.fixture
def reader(store):
    w = BlockWriter(store, 1, b"\x01" * 32, bytes(32), 100)
    w.put_record(schema.CHAIN_KEY, ChainBinding(1337, {"PrefixRegistry": OWNER}))
    for name in PREFIXES:
        node = prefix_node(name)
        w.put_record(schema.prefix_record_key(node), prefix_record(name))
        w.put(schema.pname_key(name), node)
        w.put(schema.child_key(prefix_node(name.rpartition(".")[0]), node), b"")
        w.put(schema.owner_key(OWNER_RAW, node), b"")
        w.add_to_counts(prefixes=1)
    node = prefix_node("88.100.1")
    for suffix in SUFFIXES:
        key = handle_key("88.100.1", suffix)
        last = PN1_LAST if suffix == "PN-1" else None  # PN-1 changed since: history below
        w.put_handle(key, handle_record("88.100.1", suffix, last))
        w.put(schema.suffix_key(node, suffix), key)
        w.add_to_counter(schema.hcount_key(node), 1)
        w.add_to_counts(identifiers=1)
    fields = (TemplateField("URL", "string", True, 1, 200),)
    template = TemplateRecord(hx(TEMPLATE_ID), hx(node), "88.100.1", "part", 1, fields, provenance(1, 2))
    w.put_record(schema.template_record_key(TEMPLATE_ID), template)
    w.put(schema.ptemplate_key(node, TEMPLATE_ID), b"")
    history_key = handle_key("88.100.1", "PN-1")
    for block, log_index, record_index in [(1, 1, 0), (1, 4, 0), (2, 0, 3), (7, 2, 0)]:
        entry = HistoryEntry(
            "IdentifierUpdated", 100, provenance(block, log_index, None, record_index), {"n": block}
        )
        w.put_record(schema.hhist_key(history_key, block, log_index, record_index), entry)
        w.put_record(schema.phist_key(node, block, log_index), entry)
    w.commit()
    return IndexReader(store)


def test_meta(reader):
    assert reader.checkpoint() == Checkpoint(1, hx(b"\x01" * 32), 100)
    assert reader.chain() == ChainBinding(1337, {"PrefixRegistry": OWNER})
    assert reader.counts() == Counts(4, 5, 0)


def test_empty_index(store):
    reader = IndexReader(store)
    assert reader.checkpoint() is None
    assert reader.chain() is None
    assert reader.counts() == Counts(0, 0, 0)
    assert reader.handle_by_name("88/x") is None
    assert reader.prefixes(limit=10) == []


def test_handles(reader):
    key = handle_key("88.100.1", "PN-1")
    assert reader.handle(key) == handle_record("88.100.1", "PN-1", PN1_LAST)
    assert reader.handle_by_name("88.100.1/PN-1") == handle_record("88.100.1", "PN-1", PN1_LAST)
    assert reader.handle_by_name("88.100.1/零件/甲").suffix == "零件/甲"
    assert reader.handle_by_name("88.100.1/missing") is None
    assert reader.handle(keccak(b"nothing")) is None
    assert reader.handle_count(prefix_node("88.100.1")) == 5
    assert reader.handle_count(prefix_node("88")) == 0


@pytest.mark.parametrize("bad", ["no-slash", "88.100.1/", "bad prefix/x", "/x"])
def test_handle_by_name_propagates_validation_errors(reader, bad):
    with pytest.raises(ValidationError):
        reader.handle_by_name(bad)


def test_handles_under_pages_in_suffix_byte_order(reader):
    node = prefix_node("88.100.1")
    ordered = sorted(SUFFIXES, key=lambda suffix: suffix.encode())
    assert [h.suffix for h in reader.handles_under(node, limit=100)] == ordered
    pages, after = [], None
    while page := reader.handles_under(node, after=after, limit=2):
        pages.append([h.suffix for h in page])
        after = page[-1].suffix
    assert pages == [ordered[0:2], ordered[2:4], ordered[4:]]
    assert reader.handles_under(prefix_node("88"), limit=10) == []


def test_prefixes(reader):
    assert reader.prefix(prefix_node("88.100")) == prefix_record("88.100")
    assert reader.prefix_by_name("88.100.1") == prefix_record("88.100.1")
    assert reader.prefix(keccak(b"x")) is None
    assert reader.prefix_by_name("99") is None
    with pytest.raises(ValidationError):
        reader.prefix_by_name("bad prefix")
    assert [p.prefix for p in reader.prefixes(limit=100)] == sorted(PREFIXES)
    assert [p.prefix for p in reader.prefixes(after="88.100", limit=2)] == ["88.100.1", "88.200"]
    assert [p.prefix for p in reader.prefixes(after="88.200", limit=2)] == []


def test_children_and_owner_prefixes_page_by_node(reader):
    children = sorted([prefix_node("88.100"), prefix_node("88.200")])
    assert [bytes.fromhex(p.node[2:]) for p in reader.children(ROOT, limit=10)] == children
    assert [
        bytes.fromhex(p.node[2:]) for p in reader.children(ROOT, after=children[0], limit=10)
    ] == children[1:]
    assert reader.children(prefix_node("88.100.1"), limit=10) == []
    owned = sorted(prefix_node(name) for name in PREFIXES)
    for address in (OWNER, OWNER.lower(), OWNER_RAW):
        assert [bytes.fromhex(p.node[2:]) for p in reader.owner_prefixes(address, limit=10)] == owned
    first = reader.owner_prefixes(OWNER, limit=1)
    rest = reader.owner_prefixes(OWNER, after=bytes.fromhex(first[0].node[2:]), limit=10)
    assert len(first) == 1
    assert [p.node for p in first + rest] == [hx(node) for node in owned]
    assert reader.owner_prefixes("0x" + "00" * 20, limit=10) == []
    with pytest.raises(ValidationError):
        reader.owner_prefixes("not an address", limit=10)


def test_templates(reader):
    template = reader.template(TEMPLATE_ID)
    assert template.name == "part"
    assert template.fields == (TemplateField("URL", "string", True, 1, 200),)
    assert reader.templates_of(prefix_node("88.100.1")) == [template]
    assert reader.templates_of(ROOT) == []
    assert reader.template(keccak(b"x")) is None


def test_history_pages_by_position(reader):
    key = handle_key("88.100.1", "PN-1")
    entries = reader.handle_history(key, limit=10)
    # the superseded changes stored, then the last, which the handle's record holds
    assert [history_position(entry) for entry in entries] == [
        (1, 1, 0), (1, 4, 0), (2, 0, 3), (7, 2, 0), (9, 5, 0)
    ]  # fmt: skip
    assert entries[-1] == reader.handle(key).history_entry()
    assert entries[-1].event == "IdentifierUpdated"
    second = reader.handle_history(key, after=history_position(entries[1]), limit=1)
    assert second == [entries[2]]
    assert reader.handle_history(key, after=history_position(entries[2]), limit=2) == entries[3:]
    assert reader.handle_history(key, after=history_position(entries[3]), limit=5) == entries[4:]
    assert reader.handle_history(key, after=history_position(entries[4]), limit=5) == []
    node = prefix_node("88.100.1")
    prefix_entries = reader.prefix_history(node, limit=10)
    assert prefix_entries == entries[:4]
    assert reader.prefix_history(node, after=(2, 0), limit=10) == entries[3:4]
    assert reader.handle_history(keccak(b"x"), limit=10) == []
    created = reader.handle_history(handle_key("88.100.1", "PN-2"), limit=10)
    assert [(entry.event, history_position(entry)) for entry in created] == [("IdentifierCreated", (1, 1, 0))]


def test_limit_is_required_positive_and_capped(reader, store):
    with pytest.raises(ValidationError):
        reader.prefixes(limit=0)
    w = BlockWriter(store, 2, b"\x02" * 32, b"\x01" * 32, 101)
    node = prefix_node("88.100.1")
    for i in range(MAX_PAGE + 5):
        w.put(schema.suffix_key(node, f"z{i:05}"), handle_key("88.100.1", "PN-1"))
    w.commit()
    assert len(reader.handles_under(node, limit=MAX_PAGE * 10)) == MAX_PAGE


def test_a_dangling_index_entry_is_a_corrupt_index(reader, store):
    node = prefix_node("88.100.1")
    store.write({}, [schema.handle_record_key(handle_key("88.100.1", "PN-1"))])
    with pytest.raises(IndexCorruptError):
        reader.handles_under(node, limit=10)


def add_batch(store, number, batch_id, count):
    leaves = [keccak(b"leaf %d %d" % (batch_id, i)) for i in range(count)]
    w = BlockWriter(store, number, number.to_bytes(32, "big"), (number - 1).to_bytes(32, "big"), 100)
    root = write_batch_tree(w, batch_id, leaves)
    info = BatchRecordInfo(
        batch_id, hx(ROOT), "88", OWNER, hx(root), count, hx(bytes(32)), count, (), provenance(1, 0)
    )
    w.put_record(schema.batch_record_key(batch_id), info)
    w.commit()
    return leaves, root


def test_batch_proofs_verify_for_odd_and_even_leaf_counts(store):
    reader = IndexReader(store)
    for count in range(1, 10):
        leaves, root = add_batch(store, count, 2**255 + count, count)
        assert root == merkle.root(leaves)
        assert reader.batch(2**255 + count).count == count
        for index, leaf in enumerate(leaves):
            proof = reader.batch_proof(2**255 + count, index)
            assert proof == merkle.proof(leaves, index)
            assert merkle.verify(leaf, proof, root)
        assert reader.batch_proof(2**255 + count, count) is None
        assert reader.batch_proof(2**255 + count, -1) is None
    assert reader.batch(1) is None
    assert reader.batch_proof(1, 0) is None


def test_a_missing_merkle_node_is_a_corrupt_index(store):
    add_batch(store, 1, 7, 4)
    store.write({}, [schema.bnode_key(7, 1, 0)])
    reader = IndexReader(store)
    with pytest.raises(IndexCorruptError, match="merkle node 1/1"):
        reader.batch_proof(7, 0)


def test_a_short_merkle_chunk_is_a_corrupt_index(store):
    add_batch(store, 1, 7, 4)
    level0 = store.get(schema.bnode_key(7, 0, 0))
    store.write({schema.bnode_key(7, 0, 0): level0[:96]}, [])  # the fourth leaf cut off
    reader = IndexReader(store)
    assert reader.batch_node(7, 0, 2) == level0[64:96]
    assert reader.batch_node(7, 0, 3) is None
    with pytest.raises(IndexCorruptError, match="merkle node 0/3"):
        reader.batch_proof(7, 2)


def test_a_level_spans_chunks_of_bnode_chunk_nodes(store):
    count = 2 * schema.BNODE_CHUNK + 3
    leaves, root = add_batch(store, 1, 9, count)
    reader = IndexReader(store)
    assert len(store.get(schema.bnode_key(9, 0, 0))) == 32 * schema.BNODE_CHUNK
    assert len(store.get(schema.bnode_key(9, 0, 2))) == 32 * 3
    assert store.get(schema.bnode_key(9, 0, 3)) is None
    assert [reader.batch_node(9, 0, i) for i in range(count)] == leaves
    assert reader.batch_node(9, 0, count) is None
    assert reader.batch_node(9, 0, -1) is None
    assert reader.batch_node(9, -1, 0) is None
    assert reader.batch_node(9, 256, 0) is None
    for index in (0, schema.BNODE_CHUNK - 1, schema.BNODE_CHUNK, count - 1):
        proof = reader.batch_proof(9, index)
        assert proof == merkle.proof(leaves, index)
        assert merkle.verify(leaves[index], proof, root)
