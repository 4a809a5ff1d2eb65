"""``idfuse id create|update|delete``: identifiers (handles such as ``88.100.1/PN-0001``).

Values are given as ``--value [INDEX:]TYPE[:FORMAT]=VALUE``: UTF-8 text (format ``string``,
the default), or bytes written as ``hex`` (``0x`` optional) or ``base64``. On ``create``
values without an index are numbered 1, 2, ... in order, skipping the indexes given
explicitly (``--value URL=https://a --value 5:EMAIL=ops@b`` writes URL at 1 and EMAIL at 5).
``update`` changes or adds the values at the indexes given (an index is required there) and
removes those named by ``--remove INDEX``.
"""

from __future__ import annotations

import re
from typing import Any

import typer

from idfuse_sdk.cli.common import Signing, echo_json, fail, one_line_errors, signs, tx_line

__all__ = ["parse_values", "register"]

app = typer.Typer(name="id", help="Create, update and delete identifiers.", no_args_is_help=True)

_VALUE = re.compile(r"(?:(?P<index>\d+):)?(?P<type>[^=:]+)(?::(?P<format>[^=:]+))?=(?P<data>.*)", re.DOTALL)

VALUE_HELP = (
    "[INDEX:]TYPE[:hex|:base64]=VALUE, e.g. URL=https://..., 2:EMAIL=ops@example.com or "
    "CERT:hex=0a1b... (repeatable)."
)


def parse_values(items: list[str], *, index_required: bool = False) -> list[Any]:
    """:class:`~idfuse_sdk.encoding.HandleValue` objects from ``[INDEX:]TYPE=VALUE`` texts;
    indexes not given are assigned 1, 2, ... skipping those given.

    :raises typer.Exit: a malformed item, a repeated index or a value the registry refuses
        (after printing one line).
    """
    from idfuse_sdk.encoding import HandleValue, parse_format, sort_values, value_data
    from idfuse_sdk.types import ValueFormat

    parsed: list[tuple[int | None, str, ValueFormat, str]] = []
    for item in items:
        match = _VALUE.fullmatch(item)
        if match is None:
            shown = item if len(item) <= 60 else item[:57] + "..."
            raise fail(f"--value {shown!r}: expected [INDEX:]TYPE[:FORMAT]=VALUE")
        index = int(match["index"]) if match["index"] is not None else None
        if index is None and index_required:
            raise fail(f"--value {match['type']}=...: give the index to change, e.g. 1:{match['type']}=...")
        with one_line_errors():
            fmt = parse_format(match["format"] or "string", f"--value {match['type']}")
        parsed.append((index, match["type"], fmt, match["data"]))
    taken = [index for index, _, _, _ in parsed if index is not None]
    if len(taken) != len(set(taken)):
        raise fail("two --value options name the same index")
    used = set(taken)
    free = (candidate for candidate in range(1, 2**31) if candidate not in used)
    values = []
    with one_line_errors():
        for index, kind, fmt, data in parsed:
            position = index if index is not None else next(free)
            if fmt == ValueFormat.STRING:
                values.append(HandleValue.text(position, kind, data))
            else:
                values.append(HandleValue(position, kind, value_data(data, fmt, f"--value {kind}"), fmt))
        return sort_values(values)  # checked now, before a password prompt or a node


def _template(text: str | None) -> tuple[str, int] | None:
    if text is None:
        return None
    name, _, version = text.rpartition(":")
    if not name or not version.isdigit():
        raise fail(f"--template {text}: expected NAME:VERSION, e.g. part:1")
    return name, int(version)


@app.command("create")
@signs
def create_command(
    signing: Signing,
    handle: str = typer.Argument(..., help="The handle, PREFIX/SUFFIX."),
    values: list[str] = typer.Option(..., "--value", help=VALUE_HELP),  # noqa: B008
    template: str | None = typer.Option(None, "--template", help="NAME:VERSION of a template of the prefix."),
) -> None:
    """Create an identifier with its values (by the prefix's owner or an operator)."""
    parsed = parse_values(values)
    chosen = _template(template)
    with signing.client() as client:
        result = client.create_identifier(handle, parsed, chosen)
    _done(signing.as_json, "created", result, [value.index for value in parsed])


@app.command("update")
@signs
def update_command(
    signing: Signing,
    handle: str = typer.Argument(..., help="The handle, PREFIX/SUFFIX."),
    values: list[str] = typer.Option([], "--value", help="INDEX:TYPE[:FORMAT]=VALUE to set (repeatable)."),  # noqa: B008
    removals: list[int] = typer.Option([], "--remove", help="An index to remove (repeatable)."),  # noqa: B008
) -> None:
    """Change, add (--value INDEX:TYPE=VALUE) or remove (--remove INDEX) values of an identifier."""
    if not values and not removals:
        raise fail("nothing to change: give --value INDEX:TYPE=VALUE or --remove INDEX")
    parsed = parse_values(values, index_required=True)
    with signing.client() as client:
        result = client.update_identifier(handle, parsed, removals)
    _done(signing.as_json, "updated", result, [value.index for value in parsed])


@app.command("delete")
@signs
def delete_command(
    signing: Signing,
    handle: str = typer.Argument(..., help="The handle, PREFIX/SUFFIX."),
) -> None:
    """Delete an identifier (its handle cannot be created again)."""
    with signing.client() as client:
        result = client.delete_identifier(handle)
    _done(signing.as_json, "deleted", result, [])


def _done(as_json: bool, verb: str, result: Any, indexes: list[int]) -> None:
    if as_json:
        echo_json(
            {
                "handle": result.handle,
                "version": result.version,
                "commitment": result.commitment,
                "indexes": indexes,
                "tx_hash": result.tx.tx_hash,
                "block_number": result.tx.block_number,
            }
        )
        return
    shown = f" (indexes {', '.join(map(str, indexes))})" if indexes else ""
    typer.echo(f"{verb} {result.handle} version {result.version}{shown}; {tx_line(result.tx)}")


def register(root: typer.Typer) -> None:
    """Add ``idfuse id`` to the ``idfuse`` command."""
    root.add_typer(app)
