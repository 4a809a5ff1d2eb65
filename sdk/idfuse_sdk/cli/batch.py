"""``idfuse batch register|status``: bulk registration from CSV or JSONL files.

``register`` reads and checks the whole file first (a bad row is one line naming the file and
the line; nothing is sent), then sends ``registerBatch`` chunks in file order, each waited for,
journalled in ``FILE.journal`` (see docs/sdk.md, "Bulk registration"). Progress goes to stderr:
a rich progress bar on a terminal, one plain line a chunk otherwise. The first Ctrl-C or
SIGTERM lets the chunk in flight finish and stops before the next one; a second Ctrl-C abandons
the chunk in flight (its transaction is in the journal and found by the next run). Either way
the command says how many records are registered and exits 130 (143 on SIGTERM); running the
same command again resumes and registers nothing twice.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Final

import typer

from idfuse_sdk.cli.common import JSON_OPTION, Signing, echo_json, fail, one_line_errors, signs

if TYPE_CHECKING:
    from rich.progress import Progress

    from idfuse_sdk.bulk import BulkProgress, BulkReport

__all__ = ["register"]

app = typer.Typer(
    name="batch", help="Register identifiers in bulk from CSV or JSONL files.", no_args_is_help=True
)

_SIGNAL_EXIT: Final = {signal.SIGINT: 130, signal.SIGTERM: 143}
_TIMEOUT: Final = 600.0
"""Seconds the client waits for a node answer or a receipt: the check before sending executes a
whole chunk."""
_FILE_ARGUMENT = typer.Argument(
    ...,
    help="The records: CSV (header suffix,TYPE,...) or JSONL (.jsonl); see docs/sdk.md.",
    show_default=False,
)
_JOURNAL_OPTION = typer.Option(
    None,
    "--journal",
    help="The journal that makes a rerun resume (default: FILE.journal).",
    show_default=False,
)


class _Interrupts:
    """SIGINT and SIGTERM while a run is on: the first asks the run to stop before its next
    chunk, a second SIGINT abandons the chunk in flight (``KeyboardInterrupt``)."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None

    def requested(self) -> bool:
        return self.received is not None

    def _handle(self, number: int, _: FrameType | None) -> None:
        if self.received is not None and number == signal.SIGINT:
            raise KeyboardInterrupt
        if self.received is None:
            self.received = signal.Signals(number)
            typer.echo(
                "stopping after the chunk in flight (Ctrl-C again to abandon it; a rerun finds it)", err=True
            )

    @contextmanager
    def installed(self) -> Iterator[_Interrupts]:
        previous = {sig: signal.signal(sig, self._handle) for sig in _SIGNAL_EXIT}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class _Progress:
    """Progress on stderr: a rich bar on a terminal, else a line a chunk. Counts the records
    known registered (every record of a chunk done)."""

    def __init__(self) -> None:
        self.total = 0
        self.registered = 0
        self._started = time.monotonic()
        self._bar: Progress | None = None
        self._task: Any = None

    def planned(self, records: int, chunks: int) -> None:
        self.total = records
        self._started = time.monotonic()
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]registering"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("records  chunk {task.fields[chunk]}/{task.fields[chunks]}"),
                TextColumn("{task.fields[rate]:,.0f} records/s"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )
            self._task = self._bar.add_task("register", total=records, chunk=0, chunks=chunks, rate=0.0)
            self._bar.start()

    def chunk(self, progress: BulkProgress) -> None:
        last = progress.last
        self.registered += last.records
        rate = progress.records_done / max(time.monotonic() - self._started, 1e-9)
        if self._bar is not None:
            self._bar.update(
                self._task, completed=progress.records_done, chunk=progress.chunks_done, rate=rate
            )
            return
        if last.resumed:
            how = f"landed earlier in tx {last.tx_hash}"
        elif last.tx_hash is None:
            how = "all registered already"
        else:
            how = f"{last.sent} landed in tx {last.tx_hash} block {last.block_number}"
        typer.echo(
            f"chunk {progress.chunks_done}/{progress.chunks_total}: {last.records} records, {how}; "
            f"{progress.records_done}/{progress.records_total} done",
            err=True,
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


@app.command("register")
@signs
def register_command(
    signing: Signing,
    prefix: str = typer.Argument(..., help="The prefix to register under, e.g. 88.100.1."),
    file: Path = _FILE_ARGUMENT,
    chunk_size: int = typer.Option(
        2_000, "--chunk-size", min=1, max=20_000, help="Records per registerBatch transaction at most."
    ),
    journal: Path | None = _JOURNAL_OPTION,
) -> None:
    """Register every record of FILE under PREFIX in registerBatch chunks; resumable."""
    from idfuse_sdk.bulk import bulk_register
    from idfuse_sdk.exceptions import BulkSourceError

    interrupts = _Interrupts()
    progress = _Progress()
    report: BulkReport | None = None
    try:
        with (
            signing.client(timeout=_TIMEOUT, http_timeout=_TIMEOUT) as client,
            interrupts.installed(),
        ):
            try:
                report = bulk_register(
                    client,
                    prefix,
                    file,
                    chunk_size=chunk_size,
                    journal=journal,
                    progress=progress.chunk,
                    stop=interrupts.requested,
                    planned=progress.planned,
                )
            except BulkSourceError as error:
                raise fail(f"{file} {error}" if error.line else str(error)) from None
            finally:
                progress.close()
    except KeyboardInterrupt:
        interrupts.received = interrupts.received or signal.SIGINT
    if report is None or report.interrupted:
        assert interrupts.received is not None
        if report is not None and signing.as_json:
            echo_json(report.as_dict())
        registered = report.registered if report is not None else progress.registered
        if progress.total:
            typer.echo(
                f"interrupted: {registered} of {progress.total} records landed; "
                "run the same command again to resume",
                err=True,
            )
        else:
            typer.echo("interrupted before any record was sent", err=True)
        raise typer.Exit(_SIGNAL_EXIT[interrupts.received])
    if signing.as_json:
        echo_json(report.as_dict())
        return
    _summary(report, file)


def _summary(report: BulkReport, file: Path) -> None:
    typer.echo(
        f"registered {report.registered} of {report.records} records of {file} under {report.prefix} "
        f"in {len(report.chunks)} chunk(s); {report.elapsed:.1f} s, "
        f"{report.records_per_second:,.0f} records/s"
    )
    typer.echo(f"  landed now:           {report.landed}")
    typer.echo(f"  landed earlier:       {report.landed_earlier}")
    typer.echo(f"  already registered:   {len(report.already_registered)} (skipped)")
    typer.echo(f"  duplicates in file:   {len(report.duplicates_in_file)} (skipped)")
    for line, suffix in (report.duplicates_in_file + report.already_registered)[:10]:
        typer.echo(f"    line {line}: {suffix}")
    for number, chunk in enumerate(report.chunks, start=1):
        if chunk.tx_hash is not None:
            when = " (earlier run)" if chunk.resumed else ""
            typer.echo(
                f"  chunk {number}: {chunk.sent} records, batch {chunk.batch_id}, "
                f"tx {chunk.tx_hash} in block {chunk.block_number}{when}"
            )


@app.command("status")
def status_command(
    file: Path = _FILE_ARGUMENT,
    journal: Path | None = _JOURNAL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show what the journal of FILE records: chunks landed and sent-but-unconfirmed (no node needed)."""
    from idfuse_sdk.bulk import read_source
    from idfuse_sdk.bulk.journal import Journal
    from idfuse_sdk.exceptions import BulkSourceError

    with one_line_errors():
        book = Journal.existing(journal if journal is not None else f"{file}.journal")
        try:
            records, _ = read_source(file, book.prefix)
        except BulkSourceError as error:
            raise fail(f"{file} {error}" if error.line else str(error)) from None
    landed = sum(int(entry["count"]) for entry in book.mined.values())
    document = {
        "file": str(file),
        "journal": str(book.path),
        "prefix": book.prefix,
        "records": len(records),
        "chunks_mined": len(book.mined),
        "landed": landed,
        "unconfirmed": [{"chunk": chunk, "tx": book.sent[chunk]} for chunk in book.unconfirmed],
        "tx_hashes": [str(entry["tx"]) for entry in book.mined.values()],
    }
    if as_json:
        echo_json(document)
        return
    typer.echo(
        f"{file} under {book.prefix}: {len(book.mined)} chunk(s) landed with {landed} new records "
        f"of {len(records)}; {len(book.unconfirmed)} sent and not confirmed yet (a rerun looks them up)"
    )
    for entry in book.mined.values():
        typer.echo(
            f"  batch {entry['batch_id']}: {entry['count']} records, tx {entry['tx']} block {entry['block']}"
        )


def register(root: typer.Typer) -> None:
    """Add ``idfuse batch`` to the ``idfuse`` command."""
    root.add_typer(app)
