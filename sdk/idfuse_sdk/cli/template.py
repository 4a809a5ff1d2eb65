"""``idfuse template set|show``: the data templates identifiers under a prefix may follow.

A field is ``TYPE[:OPTION...]`` with options ``required``, ``hex``/``base64`` (the value's
format; string by default), ``min=N`` and ``max=N`` (its length in bytes), e.g.
``--field URL:required --field SERIAL:max=64``.
"""

from __future__ import annotations

from typing import Any

import typer

from idfuse_sdk.cli.common import Reading, Signing, echo_json, fail, one_line_errors, reads, signs, tx_line

__all__ = ["parse_field", "register"]

app = typer.Typer(name="template", help="Register and show data templates.", no_args_is_help=True)

_FORMATS = {"string": 0, "base64": 1, "hex": 2}


def parse_field(text: str) -> Any:
    """A :class:`~idfuse_sdk.encoding.TemplateField` from ``TYPE[:required][:hex|base64][:min=N][:max=N]``.

    :raises typer.Exit: an unknown option (after printing one line).
    """
    from idfuse_sdk.encoding import TemplateField
    from idfuse_sdk.types import ValueFormat

    value_type, *options = text.split(":")
    settings: dict[str, Any] = {}
    for option in options:
        name, _, number = option.partition("=")
        if option == "required":
            settings["required"] = True
        elif option in _FORMATS:
            settings["format"] = ValueFormat(_FORMATS[option])
        elif name in ("min", "max") and number.isdigit():
            settings["min_length" if name == "min" else "max_length"] = int(number)
        else:
            raise fail(f"--field {text}: unknown option {option!r} (required, hex, base64, min=N, max=N)")
    with one_line_errors():
        return TemplateField(value_type, **settings)


@app.command("set")
@signs
def set_command(
    signing: Signing,
    prefix: str = typer.Argument(..., help="The prefix the template belongs to."),
    name: str = typer.Argument(..., help="The template's name."),
    version: int = typer.Argument(..., min=1, help="Its version (templates are immutable)."),
    fields: list[str] = typer.Option(  # noqa: B008
        ..., "--field", help="TYPE[:required][:hex|base64][:min=N][:max=N] (repeatable)."
    ),
) -> None:
    """Register template NAME VERSION under PREFIX (by the prefix's owner or an operator)."""
    from idfuse_sdk.encoding import validate_template

    parsed = [parse_field(item) for item in fields]
    with one_line_errors():  # before a password prompt or a node
        validate_template(name, version, parsed)
    with signing.client() as client:
        result = client.register_template(prefix, name, version, parsed)
    if signing.as_json:
        echo_json(
            {
                "prefix": prefix,
                "name": name,
                "version": version,
                "template_id": result.template_id,
                "tx_hash": result.tx.tx_hash,
                "block_number": result.tx.block_number,
            }
        )
    else:
        typer.echo(f"registered template {name} v{version} of {prefix}: id 0x{result.template_id.hex()}")
        typer.echo(tx_line(result.tx))


@app.command("show")
@reads
def show_command(
    reading: Reading,
    prefix: str = typer.Argument(..., help="The prefix the template belongs to."),
    name: str = typer.Argument(..., help="The template's name."),
    version: int = typer.Argument(..., min=1, help="Its version."),
) -> None:
    """Show a template's fields as the chain stores them."""
    from idfuse_sdk.encoding import template_id
    from idfuse_sdk.identifiers import prefix_node
    from idfuse_sdk.types import ValueFormat

    with reading.client() as client:
        identifier = bytes(template_id(prefix_node(prefix), name, version))
        fields = client.template(prefix, name, version)
    if fields is None:
        raise fail(f"template {name} v{version} of {prefix} is not registered")
    rows = [
        {
            "type": item.value_type,
            "format": ValueFormat(item.format).name.lower(),
            "required": item.required,
            "min_length": item.min_length,
            "max_length": item.max_length,
        }
        for item in fields
    ]
    if reading.as_json:
        echo_json(
            {"prefix": prefix, "name": name, "version": version, "template_id": identifier, "fields": rows}
        )
        return
    from rich.table import Table

    from idfuse_sdk.cli.common import console

    table = Table(title=f"template {name} v{version} of {prefix} (0x{identifier.hex()[:16]}…)")
    for column in ("type", "format", "required", "min", "max"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(value) for value in row.values()))
    console.print(table)


def register(root: typer.Typer) -> None:
    """Add ``idfuse template`` to the ``idfuse`` command."""
    root.add_typer(app)
