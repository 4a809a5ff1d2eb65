"""``idfuse resolve`` and ``idfuse verify``: what anyone (and an auditor) reads.

``resolve`` asks the node's resolver and falls back to the chain when the resolver cannot be
reached (the ``source`` column says which answered). ``verify`` checks the resolver's answer
against state proofs of a QBFT-sealed block (see docs/sdk.md, "Verification") and exits 1
when anything differs, naming each differing field with what the chain proves and what the
resolver said.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import typer

from idfuse_sdk.cli.common import Reading, console, echo_json, reads

__all__ = ["register", "resolve_command", "verify_command"]


@reads
def resolve_command(
    reading: Reading,
    handle: str = typer.Argument(..., help="The handle, PREFIX/SUFFIX."),
    types: list[str] = typer.Option([], "--type", help="Only values of this type (repeatable)."),  # noqa: B008
    indexes: list[int] = typer.Option([], "--index", help="Only the value at this index (repeatable)."),  # noqa: B008
) -> None:
    """Resolve a handle through the resolver (the chain when the resolver is unreachable)."""
    with reading.client() as client:
        resolution = client.resolve(handle, types or None, indexes or None)
    values: list[dict[str, Any]] = [
        {
            "index": value.index,
            "type": value.type,
            "format": value.format,
            "data": value.text if not isinstance(value.data, dict) else value.data,
            "ttl": value.ttl,
            "timestamp": value.timestamp,
            "provenance": asdict(value.provenance) if value.provenance is not None else None,
        }
        for value in resolution.values
    ]
    if reading.as_json:
        echo_json(
            {
                "handle": resolution.handle,
                "source": resolution.source,
                "checkpoint": resolution.checkpoint,
                "template": resolution.template,
                "values": values,
            }
        )
        return
    from rich.table import Table

    table = Table(title=f"{resolution.handle} (from the {resolution.source})")
    for column in ("index", "type", "data", "ttl", "block", "tx"):
        table.add_column(column, overflow="fold")
    for value in values:
        provenance = value["provenance"] or {}
        table.add_row(
            str(value["index"]),
            str(value["type"]),
            value["data"] if isinstance(value["data"], str) else json.dumps(value["data"]),
            str(value["ttl"]),
            str(provenance.get("block_number", "")),
            str(provenance.get("tx_hash", ""))[:18],
        )
    console.print(table)


@reads
def verify_command(
    reading: Reading,
    subject: str = typer.Argument(..., help="A handle (PREFIX/SUFFIX) or a prefix."),
    block: int | None = typer.Option(
        None, "--block", min=0, help="Prove at this block (e.g. the resolver's checkpoint); default latest."
    ),
) -> None:
    """Verify the resolver's answer for a handle or prefix against chain proofs; exit 1 if it differs."""
    with reading.client() as client:
        at: int | str = "latest" if block is None else block
        report = client.verify(subject, at) if "/" in subject else client.verify_prefix(subject, at)
    checks = [asdict(check) for check in report.checks]
    if reading.as_json:
        echo_json(
            {
                "subject": report.subject,
                "kind": report.kind,
                "verified": report.verified,
                "state": report.state,
                "block_number": report.block_number,
                "block_hash": report.block_hash,
                "resolver_checkpoint": report.resolver_checkpoint,
                "checks": checks,
                "differences": [check["name"] for check in checks if not check["ok"]],
            }
        )
    else:
        _print_report(report, checks)
    if not report.verified:
        if not reading.as_json:
            names = ", ".join(check["name"] for check in checks if not check["ok"])
            typer.echo(f"error: {subject} is not verified; differing: {names}", err=True)
        raise typer.Exit(1)


def _print_report(report: Any, checks: list[dict[str, Any]]) -> None:
    from rich.table import Table

    verdict = "verified" if report.verified else "NOT verified"
    table = Table(title=f"{report.subject}: {verdict} ({report.state}) at block {report.block_number}")
    for column in ("check", "ok", "chain", "resolver", "detail"):
        table.add_column(column, overflow="fold")
    for check in checks:
        table.add_row(
            check["name"], "yes" if check["ok"] else "NO", check["expected"], check["found"], check["detail"]
        )
    console.print(table)


def register(root: typer.Typer) -> None:
    """Add ``idfuse resolve`` and ``idfuse verify`` to the ``idfuse`` command."""
    root.command("resolve")(resolve_command)
    root.command("verify")(verify_command)
