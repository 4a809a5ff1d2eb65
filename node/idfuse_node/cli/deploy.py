"""``idfuse deploy``: deploy and bootstrap the registry contracts on any EVM chain over JSON-RPC.

The deployer's key comes from an encrypted keystore and its password file, or from an
environment variable; never from the command line, and it is never printed. The contracts'
addresses go to stdout (or JSON with ``--json``) and to an endpoints file (``rpc_url``,
``chain_id``, ``contracts``) that :func:`~idfuse_node.datadir.read_endpoints` reads. An
endpoints file that already names contracts is not overwritten unless ``--force`` says so, so
running the command twice does not deploy twice by accident. Every failure the user can fix is
one line on stderr and exit code 1.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import typer
from eth_account.signers.local import LocalAccount

from idfuse_node.cli.common import fail
from idfuse_node.datadir import ENDPOINTS_FILE, read_endpoints, update_endpoints
from idfuse_node.exceptions import EndpointsNotFoundError, IdfuseNodeError
from idfuse_sdk.deploy import DEFAULT_ORGANISATION, DEFAULT_VOTING_PERIOD, DeployResult, deploy_registries
from idfuse_sdk.exceptions import IdfuseError
from idfuse_sdk.keystore import load_key, load_key_from_env, read_password_file

__all__ = ["register"]

log = logging.getLogger("idfuse.deploy")

HELP: Final = (
    "Deploy the registry contracts (Consortium, PrefixRegistry, IdentifierRegistry) on an EVM chain "
    "over JSON-RPC and bootstrap them: the deployer becomes the Consortium's first member (a "
    "Validator) and its bootstrap admin, the PrefixRegistry is bound, and each --member is added "
    "as a Member.\n\n"
    "The deployer's key comes from --keystore with --password-file, or from the environment "
    "variable named by --key-env (a 0x-prefixed hex key); it is never taken from the command line "
    "and never printed.\n\n"
    "Writes rpc_url, chain_id and contracts to --out (./endpoints.json), the file clients and the "
    "indexer read; an --out that already names contracts is refused unless --force.\n\n"
    "Example: IDFUSE_PRIVATE_KEY=0x... idfuse deploy --rpc http://127.0.0.1:8545 "
    "--key-env IDFUSE_PRIVATE_KEY"
)

KEYSTORE_OPTION = typer.Option(
    None, "--keystore", metavar="FILE", help="The deployer's encrypted keystore (v3 JSON)."
)
PASSWORD_FILE_OPTION = typer.Option(
    None, "--password-file", metavar="FILE", help="A file holding the keystore's password."
)
MEMBERS_OPTION = typer.Option(
    [], "--member", metavar="ADDR", help="Make this account a Member (repeat for several)."
)
OUT_OPTION = typer.Option(Path(ENDPOINTS_FILE), "--out", metavar="FILE", help="The endpoints file to write.")


def deploy_command(
    rpc: str = typer.Option(..., "--rpc", metavar="URL", help="The chain's JSON-RPC URL (http or https)."),
    keystore: Path | None = KEYSTORE_OPTION,
    password_file: Path | None = PASSWORD_FILE_OPTION,
    key_env: str | None = typer.Option(
        None, "--key-env", metavar="VAR", help="An environment variable holding the deployer's private key."
    ),
    members: list[str] = MEMBERS_OPTION,
    organisation: str = typer.Option(
        DEFAULT_ORGANISATION,
        "--organisation",
        metavar="NAME",
        help="The deployer's (and members') organisation.",
    ),
    voting_period: int = typer.Option(
        DEFAULT_VOTING_PERIOD,
        "--voting-period",
        metavar="SECONDS",
        min=1,
        help="How long a governance proposal stays open (the Consortium accepts 3600 to 7776000).",
    ),
    out: Path = OUT_OPTION,
    force: bool = typer.Option(
        False, "--force", help="Deploy even if --out already names contracts (they are replaced)."
    ),
    timeout: float = typer.Option(
        120.0, "--timeout", metavar="SECONDS", min=1.0, help="How long to wait for each transaction."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    parts = urlsplit(rpc)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise fail(f"--rpc must be an http:// or https:// URL, not {rpc!r}")
    _check_out(out, force)
    try:
        account = _load_account(keystore, password_file, key_env)
        result = deploy_registries(
            rpc,
            account,
            members=members,
            organisation=organisation,
            voting_period=voting_period,
            timeout=timeout,
        )
    except typer.Exit:
        raise
    except (IdfuseError, IdfuseNodeError, OSError) as error:
        raise fail(str(error)) from None
    except Exception as error:  # a bug: still one line for the user, the trace in the log
        log.debug("unexpected failure", exc_info=True)
        raise fail(f"unexpected {type(error).__name__}: {error}") from None
    _report(result, rpc, out, as_json)
    try:
        update_endpoints(out, rpc_url=rpc, chain_id=result.chain_id, contracts=dict(result.contracts))
    except (IdfuseNodeError, OSError) as error:
        raise fail(f"deployed, but cannot write {out}: {error}") from None


def _check_out(out: Path, force: bool) -> None:
    """Refuse an endpoints file that is malformed, or that names contracts already (unless forced)."""
    try:
        existing = read_endpoints(out)
    except EndpointsNotFoundError:
        return
    except (IdfuseNodeError, OSError) as error:
        raise fail(str(error)) from None
    if existing.get("contracts") and not force:
        raise fail(
            f"{out} already names contracts (chain id {existing.get('chain_id', '?')}); "
            "pass --force to deploy a new set, or choose another --out"
        )


def _load_account(keystore: Path | None, password_file: Path | None, key_env: str | None) -> LocalAccount:
    if key_env is not None and (keystore is not None or password_file is not None):
        raise fail("give either --key-env or --keystore with --password-file, not both")
    if key_env is not None:
        return load_key_from_env(key_env)
    if keystore is None and password_file is None:
        raise fail("no deployer key: give --keystore FILE --password-file FILE, or --key-env VAR")
    if keystore is None or password_file is None:
        raise fail("--keystore and --password-file go together")
    return load_key(keystore, read_password_file(password_file))


def _report(result: DeployResult, rpc: str, out: Path, as_json: bool) -> None:
    if as_json:
        document = {
            "rpc_url": rpc,
            "chain_id": result.chain_id,
            "deployer": result.deployer,
            "contracts": result.contracts,
            "transactions": [
                {
                    "step": step.name,
                    "tx_hash": step.tx_hash,
                    "block_number": step.block_number,
                    "gas_used": step.gas_used,
                }
                for step in result.steps
            ],
            "endpoints": str(out),
        }
        typer.echo(json.dumps(document, indent=2))
        return
    last = result.steps[-1].block_number if result.steps else 0
    count = len(result.steps)
    typer.echo(
        f"deployed on chain {result.chain_id} by {result.deployer}: {count} transactions, to block {last}"
    )
    for name, address in result.contracts.items():
        typer.echo(f"{name:20} {address}")
    typer.echo(f"endpoints            {out}")


def register(root: typer.Typer) -> None:
    """Add ``idfuse deploy`` to the ``idfuse`` command."""
    root.command("deploy", help=HELP, no_args_is_help=True)(deploy_command)
