"""The follower against a real ledger over JSON-RPC: restart resumes exactly, a store bound to
another chain is refused, an endpoint that goes down is retried while the index stays
readable, and the follower catches up when it returns."""

import threading
import time

import pytest

from idfuse_node.exceptions import IndexChainMismatchError
from idfuse_node.indexer import follower
from idfuse_node.indexer.follower import Indexer
from idfuse_node.indexer.reader import IndexReader
from idfuse_node.indexer.records import ChainBinding
from idfuse_node.indexer.source import ChainSource, LogAnswers
from idfuse_node.indexer.store import LevelDBIndexStore, MemoryIndexStore
from idfuse_node.rpc import RpcServer
from idfuse_sdk.encoding import BatchRecord, HandleValue
from tests.node.indexer.chainfixture import OWNER, registry_chain  # noqa: F401
from tests.node.indexer.indexing import chain_binding, dump, index_chain

V1 = HandleValue(index=1, type="URL", data=b"https://example.org/a")


def _write(chain, node, tag, count):
    for i in range(count):
        chain.create(node, f"{tag}{i}", [V1])
    chain.register_batch(node, [BatchRecord(f"{tag}-b{i}", (V1,)) for i in range(5)])


@pytest.mark.parametrize("tagged", [True, False], ids=["finalized-tag", "per-block-undo"])
def test_restart_resumes_to_the_same_index(registry_chain, tmp_path, tagged):  # noqa: F811
    chain = registry_chain
    binding = chain_binding(chain)
    options = {"finality_depth": 3, "use_finalized_tag": tagged}
    top = chain.allocate("88")
    _write(chain, top, "a", 3)
    with LevelDBIndexStore(tmp_path / "index") as store:
        first = index_chain(chain.url, store, binding, **options).checkpoint()
    _write(chain, top, "b", 3)
    chain.register_child("88", "c")
    with LevelDBIndexStore(tmp_path / "index") as store:
        resumed = index_chain(chain.url, store, binding, **options)
        assert resumed.checkpoint().number > first.number
        restarted = dump(store)
    scratch = MemoryIndexStore()
    index_chain(chain.url, scratch, binding, **options)
    assert restarted == dump(scratch)
    assert IndexReader(scratch).counts().identifiers == 16


def test_a_store_of_another_chain_is_refused(registry_chain):  # noqa: F811
    chain = registry_chain
    binding = chain_binding(chain)
    store = MemoryIndexStore()
    index_chain(chain.url, store, binding)
    other_chain = ChainBinding(binding.chain_id + 1, binding.contracts)
    other_contracts = ChainBinding(
        binding.chain_id, {**binding.contracts, "IdentifierRegistry": chain.address_of("Consortium")}
    )
    with ChainSource(chain.url, retries=0) as source:
        for other in (other_chain, other_contracts):
            with pytest.raises(IndexChainMismatchError, match="another index directory"):
                Indexer(source, store, other)
        assert Indexer(source, store, binding).checkpoint() is not None  # the same binding is fine


def test_options_out_of_range_are_refused(registry_chain):  # noqa: F811
    binding = chain_binding(registry_chain)
    with ChainSource(registry_chain.url, retries=0) as source:
        for options in ({"poll_interval": 0}, {"poll_interval": -0.5}, {"batch_blocks": 0}):
            with pytest.raises(ValueError, match=next(iter(options))):
                Indexer(source, MemoryIndexStore(), binding, **options)
        assert Indexer(source, MemoryIndexStore(), binding, poll_interval=2.5).poll_interval == 2.5


def _wait(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def test_run_polls_at_its_poll_interval(registry_chain):  # noqa: F811
    # Caught up, the follower asks again only after poll_interval: a write made meanwhile is
    # not indexed before then, and a stop request does not wait for it.
    chain = registry_chain
    top = chain.allocate("87")
    store = MemoryIndexStore()
    reader = IndexReader(store)
    with ChainSource(chain.url, retries=0) as source:
        indexer = Indexer(source, store, chain_binding(chain), finality_depth=0, poll_interval=30.0)
        stop = threading.Event()
        thread = threading.Thread(target=indexer.run, args=(stop,))
        thread.start()
        try:
            _wait(lambda: reader.checkpoint() is not None and reader.checkpoint().number >= indexer.head)
            time.sleep(0.3)  # into the idle wait
            chain.create(top, "later", [V1])
            time.sleep(1.5)  # at the old 0.5 s, or the new default 0.1 s, it would be indexed by now
            assert reader.handle_by_name("87/later") is None
        finally:
            started = time.monotonic()
            stop.set()
            thread.join(30)
        assert not thread.is_alive()
        assert time.monotonic() - started < 5
        quick = Indexer(source, store, chain_binding(chain), finality_depth=0, poll_interval=0.05)
        assert quick.poll_interval == 0.05
        stop = threading.Event()
        thread = threading.Thread(target=quick.run, args=(stop,))
        thread.start()
        try:
            _wait(lambda: reader.handle_by_name("87/later") is not None, timeout=30)
        finally:
            stop.set()
            thread.join(30)


def _run_until_caught_up(indexer, reader):
    """Run ``indexer`` in a thread until its index reaches the head it saw, then stop it (run
    returns only once a compaction it started has finished)."""
    stop = threading.Event()
    thread = threading.Thread(target=indexer.run, args=(stop,))
    thread.start()
    try:
        _wait(lambda: indexer.head is not None and (reader.checkpoint() or NO_BLOCK).number >= indexer.head)
    finally:
        stop.set()
        thread.join(60)
    assert not thread.is_alive()


NO_BLOCK = type("NoBlock", (), {"number": -1})()


@pytest.mark.parametrize(
    ("compact_after", "compactions"), [(1, 1), (0, 0), (1 << 30, 0)], ids=["enough", "never", "too-little"]
)
def test_run_compacts_the_index_once_caught_up_after_writing_enough(
    registry_chain,  # noqa: F811
    tmp_path,
    caplog,
    compact_after,
    compactions,
):
    # A catch-up's writes leave LevelDB's tables across levels (here: all in the write-ahead
    # log, no table at all); once caught up, run compacts them in a thread of its own.
    chain = registry_chain
    _write(chain, chain.allocate("86"), "c", 4)
    with LevelDBIndexStore(tmp_path / "index") as store:
        indexer = Indexer(
            ChainSource(chain.url, retries=0),
            store,
            chain_binding(chain),
            finality_depth=0,
            compact_after=compact_after,
        )
        with caplog.at_level("INFO", logger="idfuse.indexer"):
            _run_until_caught_up(indexer, IndexReader(store))
        indexer.source.close()
        assert store.bytes_written > 0
        assert indexer.compactions == compactions
        tables = list((tmp_path / "index").glob("*.ldb"))
        assert (len(tables) > 0) == (compactions > 0)  # compacting flushed the memtable to a table
        assert ("compacted the index in" in caplog.text) == (compactions > 0)
        assert IndexReader(store).handle_by_name("86/c3") is not None


def test_compact_after_below_zero_is_refused(registry_chain):  # noqa: F811
    with (
        ChainSource(registry_chain.url, retries=0) as source,
        pytest.raises(ValueError, match="compact_after"),
    ):
        Indexer(source, MemoryIndexStore(), chain_binding(registry_chain), compact_after=-1)


def test_endpoint_down_is_retried_and_the_index_stays_readable(registry_chain, monkeypatch):  # noqa: F811
    chain = registry_chain
    monkeypatch.setattr(follower, "MAX_RETRY_SECONDS", 0.5)
    binding = chain_binding(chain)
    top = chain.allocate("88")
    chain.create(top, "before", [V1])
    port = chain.server.port
    store = MemoryIndexStore()
    reader = IndexReader(store)
    stop = threading.Event()
    source = ChainSource(f"http://127.0.0.1:{port}", retries=1, backoff=0.05, max_backoff=0.1)
    indexer = Indexer(source, store, binding, finality_depth=0)
    thread = threading.Thread(target=indexer.run, args=(stop,), kwargs={"idle": 0.05})
    thread.start()
    try:
        _wait(lambda: reader.handle_by_name("88/before") is not None)
        chain.server.stop()
        chain.create(top, "while-down", [V1])  # the pool takes it directly; the RPC is down
        head = chain.ledger.head().block_number
        time.sleep(1.0)  # several failed passes
        assert thread.is_alive()
        assert reader.handle_by_name("88/before") is not None  # the last checkpoint is served
        assert reader.handle_by_name("88/while-down") is None
        chain.server = RpcServer(chain.context, port=port)
        chain.server.start()
        _wait(lambda: reader.handle_by_name("88/while-down") is not None)
        assert reader.checkpoint().number >= head
    finally:
        stop.set()
        thread.join(30)
        source.close()
    assert not thread.is_alive()


BATCHES = 24


def test_ranges_of_batches_are_sized_by_their_records(registry_chain, monkeypatch):  # noqa: F811
    """A batch's one log carries many records (and its calldata is fetched with it): once a
    range of batches has been decoded, later ranges hold about RANGE_EVENTS records, not
    RANGE_EVENTS logs (at 20,000 records a batch, 5,000 logs would be 100 million records)."""
    chain = registry_chain
    top = chain.allocate("88")
    for block in range(BATCHES):
        chain.register_batch(top, [BatchRecord(f"r{block}-{i}", (V1,)) for i in range(40)])
    monkeypatch.setattr(follower, "RANGE_EVENTS", 100)  # 2.5 batches of 40 records
    monkeypatch.setattr(follower, "FIRST_SPAN", 2)
    spans: list[int] = []
    fetch_logs = ChainSource.fetch_logs

    def recording(self, start, end, addresses):
        spans.append(end - start + 1)
        return fetch_logs(self, start, end, addresses)

    monkeypatch.setattr(ChainSource, "fetch_logs", recording)
    store = MemoryIndexStore()
    with ChainSource(chain.url, retries=0, max_range=4) as source:
        Indexer(source, store, chain_binding(chain), finality_depth=0, use_finalized_tag=False).sync_once()
    assert IndexReader(store).counts().identifiers == BATCHES * 40
    # the first ranges are asked for before a range of batches alone has been decoded (the next
    # range is fetched while this one is decoded); then a range holds about 100 records, 2
    # blocks of batches (sized by logs, ranges would stay at the source's largest, 4 blocks)
    assert len(spans) > 6
    assert max(spans[4:]) <= 2, spans


def test_batch_calldata_is_fetched_by_the_fetching_thread(registry_chain, monkeypatch):  # noqa: F811
    # The transactions that carried a range's batches are fetched with the range, in the
    # fetching thread (a look-ahead over the raw logs), not by the thread that applies it.
    chain = registry_chain
    top = chain.allocate("86")
    for block in range(4):
        chain.register_batch(top, [BatchRecord(f"t{block}-{i}", (V1,)) for i in range(3)])
    fetched: list[tuple[str, int]] = []
    transactions = ChainSource.transactions

    def recording(self, hashes):
        hashes = list(hashes)
        fetched.append((threading.current_thread().name, len(hashes)))
        return transactions(self, hashes)

    monkeypatch.setattr(ChainSource, "transactions", recording)
    store = MemoryIndexStore()
    with ChainSource(chain.url, retries=0) as source:
        Indexer(source, store, chain_binding(chain), finality_depth=0, use_finalized_tag=False).sync_once()
    assert IndexReader(store).handle_by_name("86/t3-2") is not None
    assert sum(count for _, count in fetched) >= 4
    assert all(name.startswith("idfuse-indexer-fetch") for name, _ in fetched), fetched


def test_a_batch_the_look_ahead_missed_is_fetched_when_applied(registry_chain, monkeypatch):  # noqa: F811
    chain = registry_chain
    top = chain.allocate("85")
    chain.register_batch(top, [BatchRecord(f"m{i}", (V1,)) for i in range(3)])
    monkeypatch.setattr(LogAnswers, "transactions_with", lambda self, address, topic: [])
    store = MemoryIndexStore()
    with ChainSource(chain.url, retries=0) as source:
        Indexer(source, store, chain_binding(chain), finality_depth=0, use_finalized_tag=False).sync_once()
    reader = IndexReader(store)
    record = reader.handle_by_name("85/m2")
    assert record is not None
    assert reader.batch(record.provenance.batch_id).accepted == 3
