"""Bulk registration: a file's records in chunks of ``registerBatch``, journalled so that a
rerun after an interruption registers nothing twice."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from idfuse_sdk.bulk.journal import Journal
from idfuse_sdk.bulk.source import SourceRecord, read_source
from idfuse_sdk.client.ops import Flow, Sleep
from idfuse_sdk.exceptions import ValidationError
from idfuse_sdk.hashing import keccak
from idfuse_sdk.types import MAX_BATCH_RECORDS

if TYPE_CHECKING:
    from idfuse_sdk.client.async_client import AsyncIdfuseClient
    from idfuse_sdk.client.base import BaseIdfuseClient
    from idfuse_sdk.client.results import BatchResult
    from idfuse_sdk.client.sync import IdfuseClient

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "BulkProgress",
    "BulkReport",
    "ChunkReport",
    "abulk_register",
    "bulk_flow",
    "bulk_register",
]

DEFAULT_CHUNK_SIZE: Final = 2_000
_GAS_PER_RECORD: Final = 10_000
"""A generous bound (docs/benchmarks.md, "Gas", measures about 4,400 a record, calldata
included) for splitting chunks and for the gas limit each chunk is sent with."""
_GAS_PER_BYTE: Final = 16
_GAS_SHARE: Final = 0.8
_BATCH_BASE_GAS: Final = 300_000
"""A bound on what a ``registerBatch`` costs besides its records (21,000 intrinsic, the
writer check, the batch's storage and event: 112,000-127,000 measured with one or two
records)."""


@dataclass(frozen=True)
class ChunkReport:
    """One chunk: its hash, the records it held, how many were sent (the rest were on chain
    already), its transaction (None when nothing was sent) and whether an earlier run sent it."""

    chunk: str
    records: int
    sent: int
    tx_hash: str | None
    batch_id: int | None
    block_number: int | None
    resumed: bool


@dataclass(frozen=True)
class BulkProgress:
    """Where a bulk registration stands after a chunk."""

    chunks_done: int
    chunks_total: int
    records_done: int
    records_total: int
    last: ChunkReport


@dataclass
class BulkReport:
    """What a bulk registration did."""

    prefix: str
    records: int
    chunks: list[ChunkReport] = field(default_factory=list)
    landed: int = 0
    duplicates_in_file: list[tuple[int, str]] = field(default_factory=list)
    already_registered: list[tuple[int, str]] = field(default_factory=list)
    interrupted: bool = False
    elapsed: float = 0.0

    @property
    def tx_hashes(self) -> list[str]:
        """Every transaction of the run (and of earlier runs it resumed)."""
        return [chunk.tx_hash for chunk in self.chunks if chunk.tx_hash]

    @property
    def landed_earlier(self) -> int:
        """Records of the file that earlier runs landed (chunks this run found journalled)."""
        return sum(chunk.sent for chunk in self.chunks if chunk.resumed)

    @property
    def registered(self) -> int:
        """Records of the file known on chain now: those of every chunk done (landed by this run
        or an earlier one, or registered already); equals ``records`` once a run completes."""
        return sum(chunk.records for chunk in self.chunks)

    @property
    def records_per_second(self) -> float:
        """Records landed by this run per second of it."""
        return self.landed / self.elapsed if self.elapsed > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "prefix": self.prefix,
            "records": self.records,
            "landed": self.landed,
            "landed_earlier": self.landed_earlier,
            "registered": self.registered,
            "chunks": [chunk.__dict__ for chunk in self.chunks],
            "tx_hashes": self.tx_hashes,
            "duplicates_in_file": [
                {"line": line, "suffix": suffix} for line, suffix in self.duplicates_in_file
            ],
            "already_registered": [
                {"line": line, "suffix": suffix} for line, suffix in self.already_registered
            ],
            "interrupted": self.interrupted,
            "elapsed": round(self.elapsed, 3),
            "records_per_second": round(self.records_per_second, 1),
        }


def _chunks(records: list[SourceRecord], size: int, gas_limit: int) -> list[list[SourceRecord]]:
    """``records`` in file order, ``size`` at most, each within a share of the block gas limit."""
    chunks: list[list[SourceRecord]] = []
    current: list[SourceRecord] = []
    gas = 0
    budget = int(gas_limit * _GAS_SHARE)
    for item in records:
        cost = _record_gas(item)
        if current and (len(current) >= size or gas + cost > budget):
            chunks.append(current)
            current, gas = [], 0
        current.append(item)
        gas += cost
    if current:
        chunks.append(current)
    return chunks


def _record_gas(item: SourceRecord) -> int:
    """A bound on the gas one record adds to a ``registerBatch``."""
    return _GAS_PER_RECORD + _GAS_PER_BYTE * len(item.packed)


def _gas_bound(chunk: list[SourceRecord], gas_limit: int) -> int | None:
    """The gas limit to send ``chunk`` with (checked by one ``eth_call`` before sending), or
    None when the bound would not fit in a block (the chunk is then estimated)."""
    bound = _BATCH_BASE_GAS + sum(_record_gas(item) for item in chunk)
    return bound if bound <= gas_limit else None


def _blob(chunk: list[SourceRecord]) -> bytes:
    """The ``registerBatch`` blob of ``chunk``: its records, each checked once when the file
    was read, in ascending handle-key order (what :func:`~idfuse_sdk.encoding.encode_batch`
    would build again)."""
    return b"".join(item.packed for item in sorted(chunk, key=lambda item: item.handle_key))


def _chunk_hash(chunk: list[SourceRecord]) -> str:
    return "0x" + keccak(_blob(chunk)).hex()


def _settle(client: BaseIdfuseClient, tx_hashes: list[str]) -> Flow[BatchResult | None]:
    """The batch of the first of ``tx_hashes`` that was mined (waiting for those the node still
    holds), or None when none was and the node knows none of them."""
    waited = 0.0
    while True:
        pending = False
        for tx_hash in tx_hashes:
            found = yield from client.flow_batch_receipt(tx_hash)
            if found is not None:
                return found
            pending = pending or (yield from client.flow_transaction_known(tx_hash))
        if not pending or waited > client.timeout:
            return None
        yield Sleep(client.poll_interval)
        waited += client.poll_interval


def bulk_flow(
    client: BaseIdfuseClient,
    prefix: str,
    source: str | Path,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    journal: str | Path | None = None,
    progress: Callable[[BulkProgress], None] | None = None,
    stop: Callable[[], bool] | None = None,
    planned: Callable[[int, int], None] | None = None,
) -> Flow[BulkReport]:
    """The bulk registration written once, as a client flow: :func:`bulk_register` runs it on
    an :class:`~idfuse_sdk.client.IdfuseClient`, :func:`abulk_register` on an
    :class:`~idfuse_sdk.client.AsyncIdfuseClient`. The arguments are theirs; ``client`` is a
    client of the chain serving ``prefix`` that routes nothing (they choose it)."""
    if not 1 <= chunk_size <= MAX_BATCH_RECORDS:
        raise ValidationError(f"chunk_size must be 1-{MAX_BATCH_RECORDS}, got {chunk_size}")
    started = time.monotonic()
    records, repeats = read_source(source, prefix)
    report = BulkReport(prefix, len(records), duplicates_in_file=repeats)
    book = Journal(journal if journal is not None else f"{source}.journal", prefix)
    block = (yield from client._rpc("eth_getBlockByNumber", ["latest", False])) or {}
    gas_limit = int(str(block.get("gasLimit", "0x1c9c380")), 16)
    chunks = _chunks(records, chunk_size, gas_limit)
    hashes = [_chunk_hash(chunk) for chunk in chunks]
    if planned is not None:
        planned(len(records), len(chunks))
    for digest in hashes:  # sent by an earlier run, never confirmed: ask the chain first
        if digest in book.sent and digest not in book.mined:
            found = yield from _settle(client, book.sent[digest])
            if found is not None:
                book.write(_mined_entry(digest, found))
    existing: set[bytes] | None = None
    done = 0
    for position, (chunk, digest) in enumerate(zip(chunks, hashes, strict=True)):
        if stop is not None and stop():
            report.interrupted = True
            break
        mined = book.mined.get(digest)
        if mined is not None:
            result = ChunkReport(
                digest,
                len(chunk),
                int(mined["count"]),
                str(mined["tx"]),
                int(mined["batch_id"]),
                int(mined["block"]),
                True,
            )
        else:
            if existing is None:
                existing = yield from client.flow_registered_keys(prefix)
            fresh = [item for item in chunk if item.handle_key not in existing]
            report.already_registered.extend(
                (item.line, item.record.suffix) for item in chunk if item.handle_key in existing
            )
            if not fresh:
                result = ChunkReport(digest, len(chunk), 0, None, None, None, False)
            else:
                batch = yield from client.flow_register_batch_blob(
                    prefix,
                    _blob(fresh),
                    on_signed=_journal_sent(book, digest),
                    gas_bound=_gas_bound(fresh, gas_limit),
                )
                book.write(_mined_entry(digest, batch))
                existing.update(item.handle_key for item in fresh)
                report.landed += batch.count
                result = ChunkReport(
                    digest, len(chunk), batch.count, batch.tx_hash, batch.batch_id, batch.block_number, False
                )
        report.chunks.append(result)
        done += len(chunk)
        if progress is not None:
            progress(BulkProgress(position + 1, len(chunks), done, len(records), result))
    report.elapsed = time.monotonic() - started
    return report


def bulk_register(
    client: IdfuseClient,
    prefix: str,
    source: str | Path,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    journal: str | Path | None = None,
    progress: Callable[[BulkProgress], None] | None = None,
    stop: Callable[[], bool] | None = None,
    planned: Callable[[int, int], None] | None = None,
) -> BulkReport:
    """Register every record of ``source`` (CSV or JSONL, see :mod:`idfuse_sdk.bulk.source`)
    under ``prefix`` in ``registerBatch`` chunks, in file order, each waited for (on QBFT,
    inclusion is finality).

    Every record is checked first: a bad row raises before anything is sent. A suffix repeated
    in the file, or whose handle is on chain already, is skipped and reported. The journal
    (default ``source`` + ``.journal``) makes a rerun resume: chunks it shows mined are
    skipped, a chunk sent but unconfirmed is looked up by its transaction first, and records
    found on chain are never sent again. ``planned(records, chunks)`` is called once the file
    is read and split, ``progress`` after each chunk; ``stop`` is asked before each chunk and
    when it says yes the run ends with ``interrupted`` set.

    :raises BulkSourceError: a row breaks a rule (with its line); nothing was sent.
    :raises JournalError: the journal cannot be used.
    :raises ClientError: as :meth:`IdfuseClient.register_batch`; the journal keeps what landed.
    :raises RoutingError: a client holding several chains cannot serve ``prefix``.
    """
    if client.held_chains:  # the whole run on the chain serving the prefix, unrouted
        client = client.on(client.serving_chain(prefix))
    return client._run(
        bulk_flow(
            client,
            prefix,
            source,
            chunk_size=chunk_size,
            journal=journal,
            progress=progress,
            stop=stop,
            planned=planned,
        )
    )


async def abulk_register(
    client: AsyncIdfuseClient,
    prefix: str,
    source: str | Path,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    journal: str | Path | None = None,
    progress: Callable[[BulkProgress], None] | None = None,
    stop: Callable[[], bool] | None = None,
    planned: Callable[[int, int], None] | None = None,
) -> BulkReport:
    """:func:`bulk_register` on an :class:`~idfuse_sdk.client.AsyncIdfuseClient`: the same
    flow, its requests awaited. Reading the file and the journal's writes (fsynced) block the
    event loop briefly; the callbacks run in it.

    :raises BulkSourceError: a row breaks a rule (with its line); nothing was sent.
    :raises JournalError: the journal cannot be used.
    :raises ClientError: as :meth:`AsyncIdfuseClient.register_batch`; the journal keeps what landed.
    :raises RoutingError: a client holding several chains cannot serve ``prefix``.
    """
    if client.held_chains:
        client = client.on(await client.serving_chain(prefix))
    return await client._run(
        bulk_flow(
            client,
            prefix,
            source,
            chunk_size=chunk_size,
            journal=journal,
            progress=progress,
            stop=stop,
            planned=planned,
        )
    )


def _journal_sent(book: Journal, digest: str) -> Callable[[str], None]:
    def sent(tx_hash: str) -> None:
        book.write({"event": "sent", "chunk": digest, "tx": tx_hash})

    return sent


def _mined_entry(digest: str, batch: BatchResult) -> dict[str, Any]:
    return {
        "event": "mined",
        "chunk": digest,
        "tx": batch.tx_hash,
        "batch_id": batch.batch_id,
        "count": batch.count,
        "block": batch.block_number,
    }
