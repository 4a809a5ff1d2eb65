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


NODE_EXTRA_MISSING = "the ledger needs the node extra: pip install 'idfuse[node]'"


def _node_available() -> bool:
    """Whether the node extra is installed: idfuse_node ships with the SDK, its dependencies
    (py-evm, LevelDB, uvicorn) come with ``idfuse[node]``. Nothing heavy is imported here."""
    import importlib.util

    try:
        return all(importlib.util.find_spec(name) is not None for name in ("eth", "plyvel", "uvicorn"))
    except (ImportError, ValueError):
        return False


def _add_node_commands() -> None:
    """Add ``idfuse ledger`` from idfuse_node, or a stand-in that says how to install it.

    ``idfuse_node.cli.ledger`` imports py-evm and LevelDB lazily, when a command runs."""
    if _node_available():
        from idfuse_node.cli.ledger import app as ledger_app

        app.add_typer(ledger_app, name="ledger")
        return

    @app.command(
        "ledger",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        add_help_option=False,
    )
    def ledger_missing() -> None:
        """Run a development ledger (needs the node extra)."""
        typer.echo(f"error: {NODE_EXTRA_MISSING}", err=True)
        raise typer.Exit(1)


_add_node_commands()


def main() -> None:
    """Run the CLI."""
    app()
