"""A batch registered through another contract: its records are not in the transaction's input,
so the index records the batch (root, count) with no records and says so in the prefix history."""

from idfuse_node.indexer import schema
from idfuse_node.indexer.reader import IndexReader
from idfuse_node.indexer.store import MemoryIndexStore
from idfuse_sdk.encoding import BatchRecord, HandleValue
from tests.node.indexer.chainfixture import OWNER, registry_chain  # noqa: F401
from tests.node.indexer.indexing import chain_binding, index_chain
from tests.node.indexer.relay import register_relayed

V1 = HandleValue(index=1, type="URL", data=b"https://example.org/r")


def test_a_relayed_batch_is_indexed_without_its_records(registry_chain):  # noqa: F811
    chain = registry_chain
    top = chain.allocate("88")
    register_relayed(chain, top, [BatchRecord("r1", (V1,)), BatchRecord("r2", (V1,))])

    store = MemoryIndexStore()
    index_chain(chain.url, store, chain_binding(chain))
    reader = IndexReader(store)
    (key, _), *_ = list(store.iterate(schema.BATCH_PREFIX))
    batch = reader.batch(schema.parse_batch_record_key(key))
    assert batch.count == 2
    assert batch.accepted == 0
    assert batch.duplicates == ()
    assert reader.handle_by_name("88/r1") is None
    assert reader.counts().batches == 1
    assert reader.counts().identifiers == 0
    entry = reader.prefix_history(top, limit=20)[-1]
    assert entry.event == "BatchRegistered"
    assert entry.detail["records_available"] is False
    assert "not the registry" in entry.detail["unavailable_reason"]
