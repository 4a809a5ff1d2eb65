"""A batch registered through another contract: its records are not in the transaction's input,
so the index records the batch (root, count) with no records and says so in the prefix history."""

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from idfuse_node.indexer import schema
from idfuse_node.indexer.reader import IndexReader
from idfuse_node.indexer.store import MemoryIndexStore
from idfuse_sdk.deploy import create_address
from idfuse_sdk.encoding import BatchRecord, HandleValue, encode_batch
from tests.node.devchain import address
from tests.node.indexer.chainfixture import OWNER, registry_chain  # noqa: F401
from tests.node.indexer.indexing import chain_binding, index_chain

V1 = HandleValue(index=1, type="URL", data=b"https://example.org/r")


def _relay_init_code(target: bytes) -> bytes:
    """A contract that forwards its calldata to ``target`` (CALL with all gas) and reverts when
    the call does, written out in EVM bytecode."""
    runtime = (
        bytes.fromhex("36600060003760006000366000600073")  # calldatacopy(0, 0, size); push call args
        + target
        + bytes.fromhex("5af115602b57005b60006000fd")  # call(gas, target, ...); revert on failure
    )
    assert runtime.index(b"\x5b") == 0x2B
    # codecopy(0, 11, len); return(0, len): the runtime follows these 11 bytes
    return bytes([0x60, len(runtime), 0x80, 0x60, 0x0B, 0x60, 0x00, 0x39, 0x60, 0x00, 0xF3]) + runtime


def test_a_relayed_batch_is_indexed_without_its_records(registry_chain):  # noqa: F811
    chain = registry_chain
    top = chain.allocate("88")
    registry = chain.contracts["IdentifierRegistry"]
    nonce = chain.pool.pending_nonce(address(OWNER))
    chain.send_raw(OWNER, b"", _relay_init_code(registry), gas=500_000)
    relay = create_address(address(OWNER), nonce)
    chain.prefix_call(
        OWNER, "setOperator(bytes32,address,bool)", ["bytes32", "address", "bool"], [top, relay, True]
    )
    records = [BatchRecord("r1", (V1,)), BatchRecord("r2", (V1,))]
    call = function_signature_to_4byte_selector("registerBatch(bytes32,bytes)") + encode(
        ["bytes32", "bytes"], [top, encode_batch(top, records)]
    )
    chain.send_raw(OWNER, relay, call)

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
