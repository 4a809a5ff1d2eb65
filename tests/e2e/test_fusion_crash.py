"""kill -9 of ``idfuse node start`` under sustained write load through the SDK.

A writer thread creates identifiers one by one, with a small ``registerBatch`` now and then,
through one long-lived :class:`~idfuse_sdk.client.IdfuseClient`; every handle is new. The
node is killed with SIGKILL at random moments (``IDFUSE_CRASH_SEED`` fixes the seed; it is in
every assertion message) and restarted on the same data directory and ports, while the writer
keeps going: an SDK error that is not a connection failure or a receipt timeout fails the test.
After every restart:

1. every write whose receipt the SDK returned is on chain, in the same block (number and hash),
   with status 1;
2. the node serves again: the resolver answers ``/health``, its index reaches the chain head
   (at the chain's hash) and it resolves an acknowledged handle, each within a generous bound;
3. no effect is applied twice: every handle is created on chain (``IdentifierCreated`` or a
   batch record) at most once, exactly once when acknowledged, and the index's history holds
   the same creations.

At the end, with the writer stopped and the node stopped cleanly, its index equals one the real
indexer builds from scratch from the same chain (served by ``idfuse ledger start``): an effect
missed or doubled at any restart would remain in it. ``IDFUSE_LONG=1`` kills it 20 times
instead of 3 and compares after every restart too (writer paused, node stopped cleanly),
against an index kept up to date by an indexer that is never killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from eth_abi.abi import decode as abi_decode

from idfuse_node.indexer.reader import IndexReader
from idfuse_node.indexer.store import LevelDBIndexStore, MemoryIndexStore
from idfuse_sdk.client import Account, IdfuseClient
from idfuse_sdk.contracts.abi import event_topic, function
from idfuse_sdk.encoding import BatchRecord, HandleValue, decode_batch_entries
from idfuse_sdk.exceptions import ConnectionFailedError, TransactionTimeoutError
from idfuse_sdk.identifiers import handle_key, prefix_node
from tests import waiting
from tests.e2e.processes import IdfuseProcess, NodeProcess
from tests.longrun import long_run
from tests.node.indexer.indexing import CONTRACTS, binding_of, dump, index_chain

KILLS = long_run(3, 20)
COMPARE_EACH_RESTART = bool(long_run(0, 1))
"""Whether the index is compared with one built by an indexer that never crashed after every
restart (the writer paused, the node stopped cleanly: some 8 s each), not only at the end."""
TOP, PREFIX = "77", "77.1"
BATCH_EVERY = 8
"""Every BATCH_EVERY-th write is a registerBatch of BATCH_RECORDS records."""
BATCH_RECORDS = 3
LIVENESS = 30.0
"""How long the restarted node may take to serve each check: a liveness bound, not a speed claim."""
WRITE_TIMEOUT = 20.0
RETRY = 0.2
"""Seconds the writer waits after a connection failure before its next write."""
CREATIONS = ("IdentifierCreated", "BatchRecord")
"""The history events that create a handle."""
LOG_WINDOW = 10_000
"""The most blocks one eth_getLogs may span (docs/ledger.md)."""

T = TypeVar("T")


@dataclass(frozen=True)
class Landed:
    """A write whose receipt the SDK returned."""

    handles: tuple[str, ...]
    tx_hash: str
    block_number: int
    block_hash: str


@dataclass
class Writes:
    """What the writer did, read under ``lock``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    attempted: list[str] = field(default_factory=list)
    landed: list[Landed] = field(default_factory=list)
    unknown: list[tuple[str, ...]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    failure: str | None = None

    def landed_beyond(self, count: int, context: str) -> bool | None:
        """True once more than ``count`` writes landed (None before); the writer's failure raises."""
        with self.lock:
            assert self.failure is None, f"{self.failure} ({context})"
            return True if len(self.landed) > count else None

    def snapshot(self) -> tuple[list[str], list[Landed], list[tuple[str, ...]]]:
        with self.lock:
            return list(self.attempted), list(self.landed), list(self.unknown)


class Writer(threading.Thread):
    """Writes new identifiers through ``client`` until stopped, recording every outcome."""

    def __init__(self, client: IdfuseClient) -> None:
        super().__init__(name="crash-writer", daemon=True)
        self.client = client
        self.writes = Writes()
        self.stopping = threading.Event()
        self._go = threading.Event()
        self._go.set()
        self._parked = threading.Event()

    def run(self) -> None:
        writes, count = self.writes, 0
        while not self.stopping.is_set():
            if not self._go.is_set():
                self._parked.set()
                self._go.wait()
                continue
            count += 1
            batch = count % BATCH_EVERY == 0
            suffixes = [f"B{count}-{i}" for i in range(BATCH_RECORDS)] if batch else [f"S{count}"]
            handles = tuple(f"{PREFIX}/{suffix}" for suffix in suffixes)
            value = HandleValue.text(1, "URL", f"https://crash.example/{count}")
            with writes.lock:
                writes.attempted.extend(handles)
            try:
                if batch:
                    tx = self.client.register_batch(PREFIX, [BatchRecord(s, (value,)) for s in suffixes]).tx
                else:
                    tx = self.client.create_identifier(handles[0], [value]).tx
            except (ConnectionFailedError, TransactionTimeoutError) as error:  # the node is down
                with writes.lock:
                    writes.unknown.append(handles)
                    writes.errors[type(error).__name__] += 1
                self.stopping.wait(RETRY)
                continue
            except Exception as error:  # any other failure ends the run; the test reports it
                with writes.lock:
                    writes.unknown.append(handles)
                    writes.failure = f"{type(error).__name__}: {error}"
                return
            with writes.lock:
                writes.landed.append(Landed(handles, tx.tx_hash, tx.block_number, tx.block_hash))

    def pause(self) -> None:
        """Return once the writer has finished its current write and waits."""
        self._go.clear()
        assert self._parked.wait(WRITE_TIMEOUT + 30), "the writer did not pause"

    def resume(self) -> None:
        self._parked.clear()
        self._go.set()

    def stop(self) -> None:
        self.stopping.set()
        self._go.set()
        self.join(WRITE_TIMEOUT + 30)
        assert not self.is_alive(), "the writer did not stop"


def rpc(url: str, method: str, *params: Any) -> Any:
    response = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    answer = response.json()
    assert "error" not in answer, (method, answer)
    return answer["result"]


def rpc_batch(url: str, method: str, params: list[list[Any]]) -> list[Any]:
    """``method`` for every entry of ``params``, at most 1000 calls a request, results in order."""
    results: list[Any] = []
    for start in range(0, len(params), 1000):
        calls = [
            {"jsonrpc": "2.0", "id": n, "method": method, "params": p}
            for n, p in enumerate(params[start : start + 1000])
        ]
        answers = sorted(httpx.post(url, json=calls, timeout=60).json(), key=lambda answer: answer["id"])
        assert all("error" not in answer for answer in answers), answers
        results += [answer["result"] for answer in answers]
    return results


def eventually(what: str, probe: Callable[[], T | None], context: str) -> T:
    """``probe()``'s first answer that is not None within LIVENESS seconds (an unreachable node
    answers None too)."""
    return waiting.eventually(probe, f"{what} ({context})", timeout=LIVENESS, ignore=(httpx.TransportError,))


def chain_creations(url: str, registry: str) -> Counter[bytes]:
    """How many times each handle key under PREFIX was created on chain: IdentifierCreated
    events and the records of every registerBatch (decoded from the transaction's input)."""
    node = prefix_node(PREFIX)
    created, batch = ("0x" + event_topic(name).hex() for name in ("IdentifierCreated", "BatchRegistered"))
    head = int(rpc(url, "eth_blockNumber"), 16)
    logs: list[dict[str, Any]] = []
    for start in range(0, head + 1, LOG_WINDOW):
        criteria = {
            "address": registry,
            "fromBlock": hex(start),
            "toBlock": hex(min(head, start + LOG_WINDOW - 1)),
            "topics": [[created, batch], None, "0x" + node.hex()],
        }
        logs += rpc(url, "eth_getLogs", criteria)
    counts: Counter[bytes] = Counter()
    for log in logs:
        if log["topics"][0] == created:
            counts[bytes.fromhex(log["topics"][1][2:])] += 1
    batches = [[log["transactionHash"]] for log in logs if log["topics"][0] == batch]
    register = function("IdentifierRegistry", "registerBatch")
    for transaction in rpc_batch(url, "eth_getTransactionByHash", batches):
        data = bytes.fromhex(transaction["input"][2:])
        assert data[:4] == register.selector, transaction
        _, blob = abi_decode(list(register.inputs), data[4:])
        counts.update(entry.handle_key for entry in decode_batch_entries(node, blob))
    return counts


def index_creations(resolver: httpx.Client, handle: str) -> list[dict[str, Any]]:
    """The provenance of every creation in the index's history of ``handle``."""
    response = resolver.get(f"/v1/identifiers/{handle}/history", params={"limit": 1000})
    if response.status_code == 404:
        return []
    assert response.status_code == 200, (handle, response.text)
    page = response.json()
    assert page["next"] is None, handle
    return [entry["provenance"] for entry in page["entries"] if entry["event"] in CREATIONS]


def check_writes(url: str, resolver: httpx.Client, registry: str, writes: Writes, context: str) -> None:
    """Checks 1 and 3: acknowledged writes on chain as acknowledged; every handle created at
    most once on chain and in the index, acknowledged ones exactly once, in their block."""
    _, landed, _ = writes.snapshot()
    receipts = rpc_batch(url, "eth_getTransactionReceipt", [[write.tx_hash] for write in landed])
    for write, receipt in zip(landed, receipts, strict=True):
        assert receipt is not None, f"acknowledged {write} is not on chain ({context})"
        found = (int(receipt["blockNumber"], 16), receipt["blockHash"], int(receipt["status"], 16))
        assert found == (write.block_number, write.block_hash, 1), (write, found, context)
    index_reaches(url, resolver, max((write.block_number for write in landed), default=0), context)
    on_chain = chain_creations(url, registry)
    attempted, _, _ = writes.snapshot()  # after reading the chain: a handle is attempted before it is sent
    keys: dict[bytes, str] = {handle_key(*handle.split("/", 1)): handle for handle in attempted}
    assert set(on_chain) <= set(keys), f"handles created that nobody wrote ({context})"
    assert max(on_chain.values(), default=0) <= 1, (
        f"created twice: {[keys[key] for key, n in on_chain.items() if n > 1]} ({context})"
    )
    acknowledged = {handle: write for write in landed for handle in write.handles}
    for handle in attempted:
        creations = index_creations(resolver, handle)
        assert len(creations) <= 1, (handle, creations, context)
        known = acknowledged.get(handle)
        if known is not None:
            assert on_chain[handle_key(*handle.split("/", 1))] == 1, (handle, context)
            assert [(c["block_number"], c["tx_hash"]) for c in creations] == [
                (known.block_number, known.tx_hash)
            ], (handle, creations, known, context)


def index_reaches(url: str, resolver: httpx.Client, number: int, context: str) -> None:
    """Wait for the resolver's index to reach block ``number``; its checkpoint is the chain's block."""

    def indexed() -> dict[str, Any] | None:
        checkpoint = resolver.get("/v1/checkpoint").json()["checkpoint"]
        return checkpoint if checkpoint is not None and checkpoint["block_number"] >= number else None

    checkpoint = eventually(f"the index at block {number}", indexed, context)
    block = rpc(url, "eth_getBlockByNumber", hex(checkpoint["block_number"]), False)
    assert checkpoint["block_hash"] == block["hash"], (checkpoint, block["hash"], context)


def check_serving(url: str, resolver: httpx.Client, writes: Writes, context: str) -> None:
    """Check 2: health, the index at the chain head (same hash), an acknowledged handle resolved."""

    def healthy() -> bool | None:
        return True if resolver.get("/health").status_code == 200 else None

    eventually("/health", healthy, context)
    index_reaches(url, resolver, int(rpc(url, "eth_blockNumber"), 16), context)
    _, landed, _ = writes.snapshot()
    if landed:
        handle = landed[-1].handles[-1]

        def resolved() -> bool | None:
            return True if resolver.get(f"/api/handles/{handle}").status_code == 200 else None

        eventually(f"resolving {handle}", resolved, context)


def set_up_prefix(data_dir: Path) -> None:
    """The validator allocates TOP to the development account, which registers PREFIX."""
    validator = Account.from_keystore(
        data_dir / "validator.keystore.json", password_file=data_dir / "validator.password"
    )
    dev = Account.dev_account(data_dir)
    with IdfuseClient.from_endpoints(data_dir, account=validator) as admin:
        admin.bootstrap_allocate_prefix(TOP, owner=dev.address)
    with IdfuseClient.from_endpoints(data_dir, account=dev) as client:
        client.register_child(TOP, PREFIX.split(".")[-1])


def port_of(url: str) -> str:
    port = urlsplit(url).port
    assert port is not None, url
    return str(port)


def compare_with_scratch(
    data_dir: Path, rpc_port: str, contracts: dict[str, str], scratch: MemoryIndexStore, context: str
) -> int:
    """Serve the stopped node's chain with ``idfuse ledger start`` on ``rpc_port``, bring
    ``scratch`` up to its head with the real indexer (from the start when it is empty; an
    indexer that never crashed) and compare it with the node's index; returns the identifiers
    the node's index counts."""
    ledger = IdfuseProcess(
        ["ledger", "start", "--data-dir", str(data_dir), "--rpc-port", rpc_port],
        data_dir / "endpoints.json",
        data_dir.parent,
        "ledger",
    )
    try:
        url = ledger.wait_ready("rpc_url")["rpc_url"]
        # in the node's order: the stored binding keeps the order it was given (endpoints.json sorts)
        index_chain(url, scratch, binding_of(url, {name: contracts[name] for name in CONTRACTS}))
    finally:
        assert ledger.stop() == 0, ledger.output()[-2000:]
    with LevelDBIndexStore(data_dir / "index") as store:
        kept = dump(store)
        identifiers = IndexReader(store).counts().identifiers
    rebuilt = dump(scratch)
    differing = sorted(set(kept) ^ set(rebuilt))[:5]
    assert kept == rebuilt, f"the index differs from one built from scratch: {differing} ({context})"
    return identifiers


def test_kill_9_under_sdk_write_load(tmp_path: Path) -> None:
    seed = int(os.environ.get("IDFUSE_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    rng = random.Random(seed)
    data_dir = tmp_path / "node"
    node = NodeProcess(data_dir, name="node-0")
    writer: Writer | None = None
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(lambda: node.kill())  # the node of the moment
        endpoints = node.wait_serving()
        set_up_prefix(data_dir)
        url, registry = endpoints["rpc_url"], endpoints["contracts"]["IdentifierRegistry"]
        ports = ["--rpc-port", port_of(url), "--resolver-port", port_of(endpoints["resolver_url"])]
        dev = Account.dev_account(data_dir)
        client = cleanup.enter_context(
            IdfuseClient.from_endpoints(data_dir, account=dev, timeout=WRITE_TIMEOUT)
        )
        resolver = cleanup.enter_context(httpx.Client(base_url=endpoints["resolver_url"], timeout=10))
        scratch = MemoryIndexStore()  # with COMPARE_EACH_RESTART: indexed by an indexer never killed
        writer = Writer(client)
        writer.start()
        cleanup.callback(writer.stopping.set)
        for kill in range(1, KILLS + 1):
            context = f"seed {seed}, kill {kill} of {KILLS}"
            written = partial(writer.writes.landed_beyond, len(writer.writes.landed), context)
            eventually(f"a write acknowledged (errors {dict(writer.writes.errors)})", written, context)
            time.sleep(rng.uniform(0.0, 1.5))
            node.process.send_signal(signal.SIGKILL)
            node.process.wait(30)
            node = NodeProcess(data_dir, *ports, name=f"node-{kill}")
            assert node.wait_serving()["rpc_url"] == url, context
            check_serving(url, resolver, writer.writes, context)
            check_writes(url, resolver, registry, writer.writes, context)
            if COMPARE_EACH_RESTART:
                writer.pause()
                index_reaches(url, resolver, int(rpc(url, "eth_blockNumber"), 16), context)
                assert node.stop() == 0, node.output()[-2000:]
                compare_with_scratch(data_dir, ports[1], endpoints["contracts"], scratch, context)
                node = NodeProcess(data_dir, *ports, name=f"node-{kill}-compared")
                node.wait_serving()
                writer.resume()
        writer.stop()
        context = f"seed {seed}, after {KILLS} kills"
        assert writer.writes.failure is None, f"{writer.writes.failure} ({context})"
        check_serving(url, resolver, writer.writes, context)
        check_writes(url, resolver, registry, writer.writes, context)
        attempted, landed, unknown = writer.writes.snapshot()
        on_chain = chain_creations(url, registry)
        for handle in attempted:  # the writer has stopped: chain and index agree on every handle
            key = handle_key(*handle.split("/", 1))
            assert len(index_creations(resolver, handle)) == on_chain[key], (handle, context)
        assert node.stop() == 0, node.output()[-2000:]
        contracts = endpoints["contracts"]
        identifiers = compare_with_scratch(data_dir, ports[1], contracts, MemoryIndexStore(), context)
        summary = {
            "seed": seed,
            "kills": KILLS,
            "acknowledged": len(landed),
            "unknown": len(unknown),
            "unknown_landed": sum(on_chain[handle_key(*write[0].split("/", 1))] for write in unknown),
            "errors": dict(writer.writes.errors),
            "identifiers": identifiers,
        }
        print(json.dumps(summary))
        assert identifiers == len(on_chain), (summary, context)
        assert len(landed) >= KILLS, (summary, context)
