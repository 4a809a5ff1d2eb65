"""``idfuse account new|import|list``: a user's encrypted keystores.

Keystores are Ethereum v3 files named ``<address>.keystore.json`` in the accounts directory
(``--dir``, else ``$IDFUSE_ACCOUNTS_DIR``, else ``$XDG_DATA_HOME/idfuse/accounts``; created
``0700``, files ``0600``). The password comes from a hidden prompt (typed twice) or
``--password-file``; ``import`` reads the private key from stdin (hidden when it is a terminal)
or from an environment variable, never from an argument, and never prints it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from idfuse_sdk.cli.common import JSON_OPTION, echo_json, fail, one_line_errors
from idfuse_sdk.nodefinder import default_accounts_dir

__all__ = ["find_keystore", "list_keystores", "register"]

app = typer.Typer(name="account", help="Create, import and list encrypted accounts.", no_args_is_help=True)

DIR_OPTION = typer.Option(
    None, "--dir", help="The accounts directory (default: $IDFUSE_ACCOUNTS_DIR, else the per-user one)."
)
PASSWORD_FILE_OPTION = typer.Option(
    None, "--password-file", help="Encrypt with the password in this file (else a hidden prompt)."
)
KEYSTORE_SUFFIX = ".keystore.json"


def list_keystores(directory: Path) -> list[tuple[str, Path]]:
    """``(checksum address, file)`` of every keystore in ``directory``, by address."""
    from eth_utils.address import is_address, to_checksum_address

    found: list[tuple[str, Path]] = []
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob(f"*{KEYSTORE_SUFFIX}")):
        try:
            address = json.loads(path.read_text(encoding="utf-8")).get("address", "")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            continue
        if isinstance(address, str) and is_address(address if address.startswith("0x") else "0x" + address):
            found.append((to_checksum_address("0x" + address.removeprefix("0x")), path))
    return sorted(found)


def find_keystore(directory: Path, address: str) -> Path | None:
    """The keystore of ``address`` (any case, ``0x`` optional) in ``directory``, if any."""
    wanted = address.lower().removeprefix("0x")
    for found, path in list_keystores(directory):
        if found.lower().removeprefix("0x") == wanted:
            return path
    return None


def _password(password_file: Path | None) -> str:
    from idfuse_sdk.keystore import read_password_file

    if password_file is not None:
        return read_password_file(password_file)
    return str(typer.prompt("Password for the new keystore", hide_input=True, confirmation_prompt=True))


def _store(directory: Path, password: str, private_key: str | None) -> tuple[str, Path]:
    """Encrypt ``private_key`` (a fresh one when None) into ``directory/<address>.keystore.json``."""
    from eth_account import Account as EthAccount

    from idfuse_sdk.keystore import create_keystore, ensure_private_dir

    key = EthAccount.create().key if private_key is None else private_key
    address = _address_of(key)
    ensure_private_dir(directory)
    path = directory / f"{address}{KEYSTORE_SUFFIX}"
    create_keystore(path, password, key)
    return address, path


def _address_of(key: str | bytes) -> str:
    """The address of ``key``; a one-line failure (naming no key) when it is not one."""
    from eth_account import Account as EthAccount

    try:
        return str(EthAccount.from_key(key).address)
    except (ValueError, TypeError):
        raise fail("the private key is not 64 hexadecimal digits (0x optional) of a valid key") from None


@app.command("new")
def new_command(
    directory: Path | None = DIR_OPTION,
    password_file: Path | None = PASSWORD_FILE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a fresh account, encrypted with a password, in the accounts directory."""
    target = directory or default_accounts_dir()
    with one_line_errors():
        address, path = _store(target, _password(password_file), None)
    _announce("created", address, path, as_json)


@app.command("import")
def import_command(
    directory: Path | None = DIR_OPTION,
    password_file: Path | None = PASSWORD_FILE_OPTION,
    key_env: str | None = typer.Option(
        None, "--key-env", help="Read the private key from this environment variable (else from stdin)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Encrypt an existing private key (stdin or --key-env; never an argument) into a keystore."""
    import os

    target = directory or default_accounts_dir()
    if key_env is not None:
        key = os.environ.get(key_env, "").strip()
        if not key:
            raise fail(f"environment variable {key_env} is not set; put the hex private key in it")
    elif sys.stdin.isatty():
        key = str(typer.prompt("Private key (hex)", hide_input=True)).strip()
    else:
        key = sys.stdin.readline().strip()
        if not key:
            raise fail("no private key on stdin; pipe it in, or use --key-env VAR")
    _address_of(key)  # checked before asking for a password
    with one_line_errors():
        address, path = _store(target, _password(password_file), key)
    _announce("imported", address, path, as_json)


@app.command("list")
def list_command(
    directory: Path | None = DIR_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List the accounts (addresses and keystore files) in the accounts directory."""
    target = directory or default_accounts_dir()
    if target.exists() and not target.is_dir():
        raise fail(f"{target} is not a directory of accounts")
    found = list_keystores(target)
    if as_json:
        echo_json([{"address": address, "keystore": str(path)} for address, path in found])
        return
    if not found:
        typer.echo(f"no accounts in {target} (create one with: idfuse account new)")
        return
    for address, path in found:
        typer.echo(f"{address}  {path}")


def _announce(verb: str, address: str, path: Path, as_json: bool) -> None:
    if as_json:
        echo_json({"address": address, "keystore": str(path)})
    else:
        typer.echo(f"{verb} account {address}")
        typer.echo(f"keystore {path}")


def register(root: typer.Typer) -> None:
    """Add ``idfuse account`` to the ``idfuse`` command."""
    root.add_typer(app)
