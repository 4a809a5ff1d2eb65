"""What every client command shares: finding the node, choosing the signing account, printing
results (rich for people, ``--json`` for scripts) and one-line failures.

Failures the user can act on are one line on stderr, ``error: ...``, and exit code 1; a
contract revert is shown by its decoded name and arguments
(``error: PrefixUnauthorized(node=0x…, caller=0x…)``) with a hint where the cause is obvious.
No message printed here contains a private key or a password: the SDK never puts one in an
exception, and this module only prints exception messages, addresses and paths.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, Final, ParamSpec, TypeVar

import typer
from rich.console import Console

from idfuse_sdk.exceptions import ContractRevertError, IdfuseError, TransactionRejectedError
from idfuse_sdk.nodefinder import NODE_ENV, default_accounts_dir, node_location

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from idfuse_sdk.client import IdfuseClient

__all__ = [
    "ACCOUNT_OPTION",
    "JSON_OPTION",
    "KEY_ENV_OPTION",
    "NODE_OPTION",
    "PASSWORD_FILE_OPTION",
    "Reading",
    "Signing",
    "console",
    "describe_error",
    "echo_json",
    "fail",
    "one_line_errors",
    "open_client",
    "reads",
    "resolve_keystore",
    "signer",
    "signs",
    "tx_line",
    "with_options",
]

P = ParamSpec("P")
R = TypeVar("R")

console = Console(soft_wrap=False)
"""Where tables and summaries go (stdout)."""

JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts.")
NODE_OPTION = typer.Option(
    None,
    "--node",
    help=f"The node's data directory or its endpoints.json (default: ${NODE_ENV}, else the node's "
    "default data directory).",
    show_default=False,
)
ACCOUNT_OPTION = typer.Option(
    None,
    "--account",
    help="Sign with this keystore: a file, or an address kept in the accounts directory.",
    show_default=False,
)
PASSWORD_FILE_OPTION = typer.Option(
    None, "--password-file", help="The keystore's password, from this file (else a hidden prompt)."
)
KEY_ENV_OPTION = typer.Option(
    None, "--key-env", help="Sign with the raw private key in this environment variable.", show_default=False
)

_HINTS: Final[dict[str, str]] = {
    "PrefixUnauthorized": "the signing account is neither the prefix's owner nor one of its operators",
    "PrefixNotFound": "register the prefix first (idfuse prefix register)",
    "PrefixAlreadyRegistered": "the prefix is taken; see idfuse prefix show",
    "PrefixNotPendingOwner": "only the account the prefix was transferred to may accept it",
    "PrefixInactive": "the prefix is suspended or revoked; idfuse prefix resume reactivates a child prefix",
    "PrefixExpired": "the prefix has expired; its parent's owner may renew it",
    "PrefixOnlyConsortium": "a top-level prefix changes through a Consortium proposal",
    "ConsortiumNotMember": "the signing account is not a consortium member",
    "ConsortiumNotVoter": "only validators and members vote",
    "ConsortiumNotBootstrapAdmin": "only the bootstrap admin of a development chain may do this",
    "ConsortiumAlreadyVoted": "this account has voted on the proposal already",
    "IdentifierAlreadyExists": "the handle exists; change it with idfuse id update",
    "IdentifierNotFound": "the handle is not registered (or was deleted)",
    "IdentifierStaleValues": "the handle changed meanwhile; run the command again",
    "TemplateNotFound": "register the template first (idfuse template set)",
    "TemplateFieldUnknown": "the template has no field of the type of the value at that index",
    "TemplateFieldMissing": "the template requires a value of a type this record lacks",
    "TemplateAlreadyExists": "that name and version exist; register a new version",
}

_POOL_HINTS: Final[dict[str, str]] = {
    "sender not allowed by consortium": "the Consortium must add this account as a member first",
    "insufficient funds": "the signing account has no funds for gas on this chain",
}


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on stderr; the exit (code 1) for the caller to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def describe_error(error: BaseException) -> str:
    """One line for ``error``: a revert by its decoded name and arguments and a hint, a pool
    refusal by its message, anything else by its message."""
    if isinstance(error, ContractRevertError):
        from idfuse_sdk.contracts.errors import decode_revert

        text = decode_revert(error.data) if error.data else str(error)
        hint = _HINTS.get(error.error_name)
        return f"{text} ({hint})" if hint else text
    message = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, TransactionRejectedError):
        for needle, hint in _POOL_HINTS.items():
            if needle in message:
                return f"{message} ({hint})"
    return message


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn every SDK failure (and an unreadable file) into ``error: ...`` and exit code 1."""
    try:
        yield
    except typer.Exit:
        raise
    except (IdfuseError, OSError) as error:
        raise fail(describe_error(error)) from None


def echo_json(document: Any) -> None:
    """Print ``document`` as indented JSON (bytes as 0x-hex)."""
    typer.echo(json.dumps(document, indent=2, default=_json_default))


def _json_default(value: object) -> object:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def resolve_keystore(account: str, accounts_dir: Path | None = None) -> Path:
    """The keystore ``--account`` names: an existing file, else the keystore of that address in
    the accounts directory.

    :raises typer.Exit: neither (after printing one line).
    """
    path = Path(account).expanduser()
    if path.is_file():
        return path
    from idfuse_sdk.cli.account import find_keystore

    directory = accounts_dir or default_accounts_dir()
    found = find_keystore(directory, account)
    if found is None:
        raise fail(f"no keystore {account}: not a file, and no account with that address in {directory}")
    return found


def signer(
    node: Path | None, account: str | None, password_file: Path | None, key_env: str | None
) -> LocalAccount:
    """The signing account: ``--account`` (with ``--password-file`` or a hidden prompt), else
    ``--key-env``, else the development account of the node."""
    from idfuse_sdk.client import Account

    if account is not None and key_env is not None:
        raise fail("give --account or --key-env, not both")
    if key_env is not None:
        return Account.from_env(key_env)
    if account is not None:
        keystore = resolve_keystore(account)
        if password_file is not None:
            return Account.from_keystore(keystore, password_file=password_file)
        password = typer.prompt(f"Password for {keystore.name}", hide_input=True)
        return Account.from_keystore(keystore, password=password)
    return Account.dev_account(node_location(node))


def open_client(node: Path | None, account: LocalAccount | None = None, **options: Any) -> IdfuseClient:
    """An :class:`~idfuse_sdk.client.IdfuseClient` for the node (``--node``, ``$IDFUSE_NODE``,
    else the default data directory), signing with ``account`` when given; ``options`` as the
    client's constructor's (e.g. ``timeout``)."""
    from idfuse_sdk.client import IdfuseClient

    return IdfuseClient.from_endpoints(node_location(node), account=account, **options)


@dataclass(frozen=True)
class Reading:
    """What a read command's ``--node`` and ``--json`` say (see :func:`reads`)."""

    node: Path | None
    as_json: bool

    @contextmanager
    def client(self) -> Iterator[IdfuseClient]:
        """The node's read-only client; SDK failures inside become ``error: ...`` and exit 1."""
        with one_line_errors(), open_client(self.node) as client:
            yield client


@dataclass(frozen=True)
class Signing:
    """What a write command's ``--node``, ``--account``, ``--password-file``, ``--key-env``
    and ``--json`` say (see :func:`signs`)."""

    node: Path | None
    account: str | None
    password_file: Path | None
    key_env: str | None
    as_json: bool

    @contextmanager
    def client(self, **options: Any) -> Iterator[IdfuseClient]:
        """The node's client signing with :func:`signer` (a password prompt, if any, comes
        now, not before); SDK failures inside become ``error: ...`` and exit 1. ``options`` as
        :func:`open_client`'s."""
        with (
            one_line_errors(),
            open_client(
                self.node, signer(self.node, self.account, self.password_file, self.key_env), **options
            ) as client,
        ):
            yield client


_READ_OPTIONS: Final = (("node", Path | None, NODE_OPTION), ("as_json", bool, JSON_OPTION))
_SIGN_OPTIONS: Final = (
    ("node", Path | None, NODE_OPTION),
    ("account", str | None, ACCOUNT_OPTION),
    ("password_file", Path | None, PASSWORD_FILE_OPTION),
    ("key_env", str | None, KEY_ENV_OPTION),
    ("as_json", bool, JSON_OPTION),
)


def reads(command: Callable[Concatenate[Reading, P], None]) -> Callable[..., None]:
    """``command(reading, ...)`` as a typer command that also takes ``--node`` and ``--json``
    (after its own parameters) and hands them to it as a :class:`Reading`."""
    return with_options(command, Reading, _READ_OPTIONS)


def signs(command: Callable[Concatenate[Signing, P], None]) -> Callable[..., None]:
    """``command(signing, ...)`` as a typer command that also takes ``--node``, ``--account``,
    ``--password-file``, ``--key-env`` and ``--json`` (after its own parameters) and hands them
    to it as a :class:`Signing`."""
    return with_options(command, Signing, _SIGN_OPTIONS)


def with_options(
    command: Callable[..., R], bundle: Callable[..., object], options: Sequence[tuple[str, Any, Any]]
) -> Callable[..., R]:
    """``command(bundle(...), ...)`` as typer sees it: without its first parameter and with
    ``options`` (name, type, typer option) appended to the signature typer reads; the wrapper
    calls ``bundle`` with those options' values, in order, and hands the result to ``command``.

    The remaining annotations stay as written (strings, resolved by typer in ``command``'s
    module), so the first parameter's type may be imported for type checking only.
    """
    own = list(inspect.signature(command).parameters.values())[1:]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation)
        for name, annotation, option in options
    ]
    names = [name for name, _, _ in options]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        return command(bundle(*(kwargs.pop(name) for name in names)), *args, **kwargs)

    signature = inspect.Signature([*own, *added], return_annotation=None)
    wrapper.__signature__ = signature  # type: ignore[attr-defined]
    wrapper.__annotations__ = {name: parameter.annotation for name, parameter in signature.parameters.items()}
    return wrapper


def tx_line(tx: Any) -> str:
    """``tx 0x… in block N``."""
    return f"tx {tx.tx_hash} in block {tx.block_number}"
