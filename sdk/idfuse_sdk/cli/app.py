"""Entry point of the `idfuse` console script."""

from __future__ import annotations

import typer

from idfuse_sdk import __version__
from idfuse_sdk.cli.common import JSON_OPTION, echo_json

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
def contracts_command(as_json: bool = JSON_OPTION) -> None:
    """List the registry contracts this SDK ships, with their compiler and source digest."""
    from idfuse_sdk.contracts.artifacts import load_all

    found = load_all()
    if as_json:
        echo_json(
            {
                name: {"compiler": artifact.compiler, "sourceDigest": artifact.source_digest}
                for name, artifact in found.items()
            }
        )
        return
    for name, artifact in found.items():
        typer.echo(f"{name:24} solc {artifact.compiler}  digest {artifact.source_digest[:12]}")


NODE_EXTRA_MISSING = "idfuse {command} needs the node extra: pip install 'idfuse[node]'"


def _node_available() -> bool:
    """Whether the node extra is installed: idfuse_node ships with the SDK, its dependencies
    (py-evm, LevelDB, uvicorn) come with ``idfuse[node]``. Nothing heavy is imported here."""
    import importlib.util

    try:
        return all(importlib.util.find_spec(name) is not None for name in ("eth", "plyvel", "uvicorn"))
    except (ImportError, ValueError):
        return False


NODE_COMMANDS: tuple[tuple[str, str], ...] = (
    ("ledger", "idfuse_node.cli.ledger"),
    ("deploy", "idfuse_node.cli.deploy"),
    ("indexer", "idfuse_node.cli.indexer"),
    ("resolver", "idfuse_node.cli.resolver"),
    ("node", "idfuse_node.cli.node"),
)
"""(command, module) of every node command; each module's ``register(app)`` adds its command
or group to ``app`` and imports py-evm, LevelDB and the like lazily, when a command runs."""


def _add_node_commands() -> None:
    """Add the node's commands from idfuse_node, or stand-ins that say how to install them."""
    if _node_available():
        import importlib

        for _, module in NODE_COMMANDS:
            importlib.import_module(module).register(app)
        return

    for name, _ in NODE_COMMANDS:
        _add_missing_node_command(name)


def _add_missing_node_command(name: str) -> None:
    @app.command(
        name,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        add_help_option=False,
    )
    def missing() -> None:
        """Needs the node extra: pip install 'idfuse[node]'."""
        typer.echo(f"error: {NODE_EXTRA_MISSING.format(command=name)}", err=True)
        raise typer.Exit(1)


CLIENT_COMMANDS: tuple[str, ...] = (
    "idfuse_sdk.cli.account",
    "idfuse_sdk.cli.prefix",
    "idfuse_sdk.cli.template",
    "idfuse_sdk.cli.identifier",
    "idfuse_sdk.cli.batch",
    "idfuse_sdk.cli.lookup",
)
"""The modules of the client commands (accounts, prefixes, templates, identifiers, bulk registration,
resolve and verify); each ``register(app)`` adds its command or group and imports the client lazily."""


def _add_client_commands() -> None:
    import importlib

    for module in CLIENT_COMMANDS:
        importlib.import_module(module).register(app)


_add_client_commands()
_add_node_commands()


def main() -> None:
    """Run the CLI."""
    app()
