"""Entry point of the `idfuse` console script."""

from __future__ import annotations

import typer

from idfuse_sdk import __version__

app = typer.Typer(
    name="idfuse",
    help="idfuse: blockchain-fused identifier registry for the industrial internet.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"idfuse {__version__}")
        raise typer.Exit


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_version, is_eager=True
    ),
) -> None:
    """Register, resolve and verify industrial-internet identifiers on a consortium chain."""


@app.command("contracts")
def contracts_command(
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List the registry contracts this SDK ships, with their compiler and source digest."""
    from idfuse_sdk.contracts.artifacts import load_all

    found = load_all()
    if as_json:
        import json

        typer.echo(
            json.dumps(
                {
                    name: {"compiler": artifact.compiler, "sourceDigest": artifact.source_digest}
                    for name, artifact in found.items()
                },
                indent=2,
            )
        )
        return
    for name, artifact in found.items():
        typer.echo(f"{name:24} solc {artifact.compiler}  digest {artifact.source_digest[:12]}")


def main() -> None:
    """Run the CLI."""
    app()
