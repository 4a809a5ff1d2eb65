"""Bulk registration (idfuse_sdk.bulk) against a real fusion node: CSV and JSONL files land
and resolve, a bad row sends nothing, an interrupted run resumes without duplicates, and
repeated or already-registered handles are skipped and reported."""

from __future__ import annotations

import asyncio
import gc
import json

import pytest

from idfuse_sdk.bulk import abulk_register, bulk_register, read_source
from idfuse_sdk.bulk.runner import _BATCH_BASE_GAS, _blob, _gas_bound
from idfuse_sdk.client import Account, AsyncIdfuseClient, IdfuseClient
from idfuse_sdk.contracts.abi import decode_log, event_topic
from idfuse_sdk.encoding import BatchRecord, HandleValue, encode_batch
from idfuse_sdk.exceptions import BatchEmpty, BatchMalformed, BulkSourceError, NotFoundError
from idfuse_sdk.identifiers import prefix_node
from tests.e2e.processes import running_node
from tests.waiting import eventually

RESOLVE_TIMEOUT = 60.0
PREFIX = "77"


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with running_node(tmp_path_factory.mktemp("batch") / "node") as process:
        yield process.data_dir


@pytest.fixture(scope="module")
def dev(node):
    validator = Account.from_keystore(
        node / "validator.keystore.json", password_file=node / "validator.password"
    )
    account = Account.dev_account(node)
    with IdfuseClient.from_endpoints(node, account=validator) as admin:
        admin.bootstrap_allocate_prefix(PREFIX, owner=account.address)
    with IdfuseClient.from_endpoints(node, account=account, timeout=300, http_timeout=300) as client:
        yield client


def resolves(client: IdfuseClient, handle: str, url: str) -> None:
    eventually(
        lambda: True if client.resolve(handle).value("URL").text == url else None,
        f"{handle} resolving to {url}",
        timeout=RESOLVE_TIMEOUT,
        interval=0.2,
        ignore=(NotFoundError, LookupError),
    )


def batch_count(client: IdfuseClient, prefix: str) -> int:
    return len(client._run(client.flow_registered_keys(prefix)))


def registrations(client: IdfuseClient, prefix: str) -> int:
    """Handles registered under ``prefix`` counted per event: ``IdentifierCreated`` ones plus
    every ``BatchRegistered`` count. Equal to :func:`batch_count` when none was registered twice."""
    node = "0x" + prefix_node(prefix).hex()
    created, batch = ("0x" + event_topic(name).hex() for name in ("IdentifierCreated", "BatchRegistered"))
    criteria = {
        "address": client.contracts["IdentifierRegistry"],
        "fromBlock": "0x0",
        "toBlock": "latest",
        "topics": [[created, batch], None, node],
    }
    total = 0
    for log in client._run(client._rpc("eth_getLogs", [criteria])):
        decoded = decode_log(log)
        total += int(decoded.args["count"]) if decoded.name == "BatchRegistered" else 1
    return total


def test_register_batch_returns_the_event(dev):
    result = dev.register_batch(PREFIX, [BatchRecord("single-a", (HandleValue.text(1, "URL", "https://a"),))])
    assert result.count == 1
    assert result.batch_id >= 1
    assert len(result.root) == 32
    assert result.tx_hash.startswith("0x")
    assert result.block_number > 0
    resolves(dev, f"{PREFIX}/single-a", "https://a")


def test_ten_thousand_from_csv(dev, tmp_path):
    source = tmp_path / "ids.csv"
    rows = ["suffix,URL,2:EMAIL"] + [f"csv-{n},https://e/{n},m{n}@e.org" for n in range(10_000)]
    source.write_text("\n".join(rows) + "\n")
    seen = []
    report = bulk_register(dev, PREFIX, source, progress=seen.append)
    assert report.landed == 10_000
    assert len(report.chunks) == 5
    assert len(set(report.tx_hashes)) == 5
    assert [p.chunks_done for p in seen] == [1, 2, 3, 4, 5]
    resolves(dev, f"{PREFIX}/csv-9999", "https://e/9999")
    assert dev.resolve(f"{PREFIX}/csv-0").value("EMAIL").text == "m0@e.org"


def test_jsonl_in_chunks(dev, tmp_path):
    # The CSV test shows the 10,000-record scale; this one the JSONL format over several
    # chunks, at a size that keeps the default suite within its time budget.
    source = tmp_path / "ids.jsonl"
    lines = [
        json.dumps({"suffix": f"js-{n}", "values": [{"index": 1, "type": "URL", "data": f"https://j/{n}"}]})
        for n in range(3_000)
    ]
    source.write_text("\n".join(lines) + "\n")
    report = bulk_register(dev, PREFIX, source, chunk_size=1_000)
    assert report.landed == 3_000
    assert len(report.chunks) == 3
    resolves(dev, f"{PREFIX}/js-2999", "https://j/2999")


def test_chunks_are_sent_with_their_checked_gas_bound(dev, tmp_path):
    # One eth_call at the bound instead of eth_estimateGas: each chunk's transaction carries
    # exactly the runner's bound for its records, which it did not need in full.
    source = tmp_path / "bound.csv"
    source.write_text("suffix,URL\n" + "".join(f"gb-{n},https://g/{n}\n" for n in range(1_500)))
    records, _ = read_source(source, PREFIX)
    report = bulk_register(dev, PREFIX, source, chunk_size=1_000)
    assert [chunk.sent for chunk in report.chunks] == [1_000, 500]
    gas_limit = int(dev._run(dev._rpc("eth_getBlockByNumber", ["latest", False]))["gasLimit"], 16)
    for chunk, part in zip(report.chunks, (records[:1_000], records[1_000:]), strict=True):
        transaction = dev._run(dev._rpc("eth_getTransactionByHash", [chunk.tx_hash]))
        receipt = dev._run(dev._rpc("eth_getTransactionReceipt", [chunk.tx_hash]))
        assert int(transaction["gas"], 16) == _gas_bound(part, gas_limit)
        assert _BATCH_BASE_GAS < int(receipt["gasUsed"], 16) < int(transaction["gas"], 16)
    resolves(dev, f"{PREFIX}/gb-1499", "https://g/1499")


def test_a_bound_too_small_falls_back_to_the_estimate(dev):
    blob = encode_batch(
        prefix_node(PREFIX), [BatchRecord("gb-small", (HandleValue.text(1, "URL", "https://s"),))]
    )
    result = dev._run(dev.flow_register_batch_blob(PREFIX, blob, gas_bound=30_000))
    transaction = dev._run(dev._rpc("eth_getTransactionByHash", [result.tx_hash]))
    assert result.count == 1
    assert int(transaction["gas"], 16) > 30_000  # the call ran out of gas; the estimate was used
    assert int(transaction["gas"], 16) > result.tx.gas_used


@pytest.mark.parametrize(("blob", "error"), [(b"", BatchEmpty), (b"\xff" * 40, BatchMalformed)])
def test_a_revert_under_the_bound_raises_and_sends_nothing(dev, blob, error):
    nonce = dev._run(dev._rpc("eth_getTransactionCount", [dev.address, "pending"]))
    with pytest.raises(error):
        dev._run(dev.flow_register_batch_blob(PREFIX, blob, gas_bound=5_000_000))
    assert dev._run(dev._rpc("eth_getTransactionCount", [dev.address, "pending"])) == nonce


def test_a_bad_row_sends_nothing(dev, tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text("suffix,URL\nok-1,https://x\nbad suffix\x01,https://y\n")
    before = batch_count(dev, PREFIX)
    with pytest.raises(BulkSourceError) as caught:
        bulk_register(dev, PREFIX, source)
    assert caught.value.line == 3
    assert batch_count(dev, PREFIX) == before
    assert not (tmp_path / "bad.csv.journal").exists()


def test_jsonl_bad_line_is_named(tmp_path):
    source = tmp_path / "bad.jsonl"
    source.write_text('{"suffix": "a", "values": []}\n\n{"suffix": "b", "values": [{"index": 1}]}\n')
    with pytest.raises(BulkSourceError) as caught:
        read_source(source, PREFIX)
    assert caught.value.line == 3


@pytest.mark.parametrize("fmt", [["hex"], {"hex": 1}, 16, None])
def test_jsonl_format_that_is_no_name_is_named(tmp_path, fmt):
    source = tmp_path / "format.jsonl"
    value = {"index": 1, "type": "URL", "data": "00", "format": fmt}
    source.write_text(json.dumps({"suffix": "a", "values": [value]}) + "\n")
    with pytest.raises(BulkSourceError, match="format must be string, base64 or hex") as caught:
        read_source(source, PREFIX)
    assert caught.value.line == 1


@pytest.mark.parametrize("enabled", [True, False])
def test_reading_leaves_the_garbage_collector_as_it_found_it(tmp_path, enabled):
    # read_source pauses the collector while records pile up (thousands of rows would
    # trigger many passes), and hands it back as it was, also when a row is refused.
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("suffix,URL\n" + "".join(f"gc-{n},https://g/{n}\n" for n in range(5_000)))
    bad.write_text("suffix,URL\nok,https://x\nbad suffix\x01,https://y\n")
    passes: list[str] = []

    def seen(phase, info):
        if phase == "start":
            passes.append(info["generation"])

    was = gc.isenabled()
    gc.collect()  # the allocation count starts from zero, so only the reading could trigger a pass
    gc.callbacks.append(seen)
    try:
        if not enabled:
            gc.disable()
        records, _ = read_source(good, PREFIX)
        # at most the pass that handing the collector back sets off (about 30 unpaused)
        assert len(passes) <= 1
        assert [item.record.suffix for item in records[:2]] == ["gc-0", "gc-1"]
        assert len(records) == 5_000
        assert gc.isenabled() is enabled
        with pytest.raises(BulkSourceError):
            read_source(bad, PREFIX)
        assert gc.isenabled() is enabled
    finally:
        gc.callbacks.remove(seen)
        if was:
            gc.enable()


def test_a_file_record_is_packed_once_as_encode_batch_would(tmp_path):
    # The runner sends each chunk as its records' bytes from reading the file, sorted by
    # handle key: byte for byte the blob encode_batch builds from the same records.
    source = tmp_path / "records.jsonl"
    rows = [
        {"suffix": f"P-{n}", "values": [{"index": 1, "type": "URL", "data": f"https://x.example/{n}"}]}
        for n in range(7, 0, -1)
    ]
    rows[2]["values"].append({"index": 2, "type": "RAW", "data": "00ff", "format": "hex"})
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    records, _ = read_source(source, PREFIX)
    for chunk in (records, records[:1], records[2:5]):
        assert _blob(chunk) == encode_batch(prefix_node(PREFIX), [item.record for item in chunk])


class StopError(Exception):
    """What :func:`interrupt` raises: the run stopped after its first chunk, as Ctrl-C would."""


def interrupt(progress):
    raise StopError


def test_interrupted_run_resumes_without_duplicates(dev, tmp_path):
    source = tmp_path / "resume.csv"
    source.write_text("suffix,URL\n" + "".join(f"rs-{n},https://r/{n}\n" for n in range(3_000)))

    with pytest.raises(StopError):
        bulk_register(dev, PREFIX, source, chunk_size=1_000, progress=interrupt)
    entries = [json.loads(line) for line in (tmp_path / "resume.csv.journal").read_text().splitlines()]
    assert [entry["event"] for entry in entries] == ["start", "sent", "mined"]
    report = bulk_register(dev, PREFIX, source, chunk_size=1_000)
    assert report.landed == 2_000
    assert report.chunks[0].resumed
    assert not report.already_registered
    again = bulk_register(dev, PREFIX, source, chunk_size=1_000)
    assert again.landed == 0
    assert all(chunk.resumed for chunk in again.chunks)
    txs = {
        entry["tx"]
        for entry in map(json.loads, (tmp_path / "resume.csv.journal").read_text().splitlines())
        if entry["event"] == "mined"
    }
    assert len(txs) == 3


def test_sent_but_unconfirmed_chunk_is_found_by_its_transaction(dev, tmp_path):
    source = tmp_path / "pending.csv"
    source.write_text("suffix,URL\n" + "".join(f"pd-{n},https://p/{n}\n" for n in range(50)))
    first = bulk_register(dev, PREFIX, source)
    journal = tmp_path / "pending.csv.journal"
    kept = [line for line in journal.read_text().splitlines() if json.loads(line)["event"] != "mined"]
    journal.write_text("\n".join(kept) + "\n")  # as if the run died before the receipt
    again = bulk_register(dev, PREFIX, source)
    assert again.landed == 0
    assert again.chunks[0].tx_hash == first.chunks[0].tx_hash
    assert again.chunks[0].resumed


def test_duplicates_and_registered_handles_are_skipped(dev, tmp_path):
    dev.create_identifier(f"{PREFIX}/taken", [HandleValue.text(1, "URL", "https://first")])
    source = tmp_path / "dups.csv"
    source.write_text(
        "suffix,URL\ntaken,https://second\nnew-1,https://n\nnew-1,https://again\ncsv-5,https://x\n"
    )
    report = bulk_register(dev, PREFIX, source)
    assert report.duplicates_in_file == [(4, "new-1")]
    assert sorted(report.already_registered) == [(2, "taken"), (5, "csv-5")]
    assert report.landed == 1
    resolves(dev, f"{PREFIX}/new-1", "https://n")
    assert dev.resolve(f"{PREFIX}/taken").value("URL").text == "https://first"


def test_async_bulk_registration_resumes_the_sync_ones_journal(node, dev, tmp_path):
    source = tmp_path / "async.jsonl"
    lines = [
        json.dumps({"suffix": f"as-{n}", "values": [{"index": 1, "type": "URL", "data": f"https://as/{n}"}]})
        for n in range(1_500)
    ]
    source.write_text("\n".join(lines) + "\n")

    with pytest.raises(StopError):
        bulk_register(dev, PREFIX, source, chunk_size=500, progress=interrupt)

    async def scenario():
        account = Account.dev_account(node)
        async with AsyncIdfuseClient.from_endpoints(node, account=account, http_timeout=300) as client:
            plan, seen, asked = [], [], []
            report = await abulk_register(
                client,
                PREFIX,
                source,
                chunk_size=500,
                planned=lambda records, chunks: plan.append((records, chunks)),
                progress=seen.append,
                stop=lambda: asked.append(True) and False,
            )
            again = await abulk_register(client, PREFIX, source, chunk_size=500, stop=lambda: len(asked) > 99)
            return plan, seen, asked, report, again

    plan, seen, asked, report, again = asyncio.run(scenario())
    assert plan == [(1_500, 3)]
    assert [(p.chunks_done, p.records_done) for p in seen] == [(1, 500), (2, 1_000), (3, 1_500)]
    assert len(asked) == 3
    assert (report.landed, report.landed_earlier, report.registered) == (1_000, 500, 1_500)
    assert [chunk.resumed for chunk in report.chunks] == [True, False, False]
    assert (again.landed, again.landed_earlier, again.registered) == (0, 1_500, 1_500)
    assert not report.interrupted
    resolves(dev, f"{PREFIX}/as-1499", "https://as/1499")
    assert registrations(dev, PREFIX) == batch_count(dev, PREFIX)


def test_stop_ends_the_run_between_chunks(dev, tmp_path):
    source = tmp_path / "stop.csv"
    source.write_text("suffix,URL\n" + "".join(f"st-{n},https://s/{n}\n" for n in range(30)))
    done = []
    report = bulk_register(
        dev, PREFIX, source, chunk_size=10, progress=done.append, stop=lambda: len(done) == 2
    )
    assert report.interrupted
    assert (report.landed, report.registered, len(report.chunks)) == (20, 20, 2)
    rest = bulk_register(dev, PREFIX, source, chunk_size=10)
    assert (rest.landed, rest.landed_earlier, rest.registered, rest.interrupted) == (10, 20, 30, False)
