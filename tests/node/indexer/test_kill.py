"""kill -9: ``idfuse indexer`` backfilling a chain of a few thousand events is killed at random
moments and restarted; the index it ends with equals one built from scratch.

The comparison covers every ``v6:`` key except the undo logs: whether a block was committed
with an undo log (and when it was pruned) depends on when the follower saw it relative to the
finality horizon, not on the chain. Block hashes (``v6:block:``), the checkpoint, counts and
every record must be byte-identical.
"""

import json
import random
import signal
import subprocess
import time
from pathlib import Path

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from idfuse_node.indexer.reader import IndexReader
from idfuse_node.indexer.store import LevelDBIndexStore, MemoryIndexStore
from idfuse_sdk.encoding import BatchRecord, HandleValue, encode_values
from tests.e2e.processes import idfuse_exe, start
from tests.node.devchain import address, raw_tx
from tests.node.indexer.chainfixture import GAS, OWNER, running_chain
from tests.node.indexer.indexing import CONTRACTS, chain_binding, dump, index_chain

KILLS = 6
BATCHES = 40
RECORDS = 100
SINGLES = 150


def _build(chain) -> None:
    """BATCHES batches of RECORDS records (one block each) and SINGLES createIdentifier calls."""
    node = chain.allocate("88")
    value = HandleValue(index=1, type="URL", data=b"https://example.org/item")
    for batch in range(BATCHES):
        records = [BatchRecord(f"b{batch}-{i}", (value,)) for i in range(RECORDS)]
        chain.register_batch(node, records)
    selector = function_signature_to_4byte_selector("createIdentifier(bytes32,string,bytes32,bytes)")
    nonce = chain.pool.pending_nonce(address(OWNER))
    last = None
    for i in range(SINGLES):
        data = selector + encode(
            ["bytes32", "string", "bytes32", "bytes"], [node, f"s{i}", bytes(32), encode_values([value])]
        )
        tx = raw_tx(OWNER, nonce + i, to=chain.contracts["IdentifierRegistry"], data=data, gas=GAS, value=0)
        last = chain.pool.add(tx)
    assert chain.producer.wait_for_receipt(last, timeout=120) is not None


def _start(data_dir: Path, url: str, log: Path) -> subprocess.Popen:
    command = [idfuse_exe(), "indexer", "--rpc", url, "--data-dir", str(data_dir), "--batch-blocks", "1"]
    return start(command, log, append=True)


def index_until(data_dir: Path, url: str, number: int, log: Path) -> int:
    """Run the indexer until it says it caught up at block ``number`` or later, stop it with
    SIGTERM (exit 0) and return the block it stopped at. Its output is appended to ``log``."""
    seen = log.read_text().count("caught up at block ") if log.exists() else 0
    process = _start(data_dir, url, log)
    deadline = time.monotonic() + 120
    while True:
        text = log.read_text()
        lines = text.split("caught up at block ")[1 + seen :]
        if any(int(line.split()[0]) >= number for line in lines):
            break
        assert process.poll() is None, text[-2000:]
        assert time.monotonic() < deadline, f"the indexer did not catch up to block {number}"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0, log.read_text()[-2000:]
    return int(log.read_text().rsplit("indexer stopped at block ", 1)[1].split()[0])


def _wait_started(log: Path, runs: int, process: subprocess.Popen) -> None:
    """Until the ``runs``-th start line is in the log (the process has opened its index)."""
    deadline = time.monotonic() + 60
    while log.read_text().count("indexing chain") < runs:
        assert process.poll() is None, log.read_text()[-2000:]
        assert time.monotonic() < deadline, "the indexer did not start"
        time.sleep(0.01)


def test_kill_9_at_random_moments_then_finish_equals_from_scratch(tmp_path):
    rng = random.Random(20261123)
    data_dir = tmp_path / "node"
    data_dir.mkdir()
    log = tmp_path / "indexer.log"
    with running_chain(tmp_path / "chain") as chain:
        _build(chain)
        contracts = {name: chain.address_of(name) for name in CONTRACTS}
        (data_dir / "endpoints.json").write_text(json.dumps({"contracts": contracts}))
        head = chain.ledger.head().block_number
        interrupted = []
        for run in range(KILLS):
            process = _start(data_dir, chain.url, log)
            _wait_started(log, run + 1, process)
            time.sleep(rng.uniform(0.0, 0.1))  # the whole backfill takes a few tenths of a second
            process.send_signal(signal.SIGKILL)
            process.wait(30)
            with LevelDBIndexStore(data_dir / "index") as store:
                checkpoint = IndexReader(store).checkpoint()
            interrupted.append(None if checkpoint is None else checkpoint.number)
        # The kills must have landed mid-backfill, or this test shows nothing about crashes.
        assert any(number is None or number < head for number in interrupted), (head, interrupted)
        assert index_until(data_dir, chain.url, head, log) >= head, interrupted
        scratch = MemoryIndexStore()
        index_chain(chain.url, scratch, chain_binding(chain))
        with LevelDBIndexStore(data_dir / "index") as store:
            assert IndexReader(store).counts().identifiers == BATCHES * RECORDS + SINGLES
            assert dump(store) == dump(scratch)
