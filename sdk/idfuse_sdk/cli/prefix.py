"""``idfuse prefix register|show|transfer|accept|operator|service|suspend|resume|vote``.

``register`` picks the way the chain allows: a child prefix (``88.100``) through
``registerChild`` by the parent's owner or an operator; a top-level prefix (``88``) directly by
``bootstrapAllocatePrefix`` when the signer is the bootstrap admin of a development chain, else
by a Consortium proposal (the proposer's yes counted) that says how many more votes it needs.
"""

from __future__ import annotations

from typing import Any

import typer

from idfuse_sdk.cli.common import Reading, Signing, echo_json, fail, reads, signs, tx_line

__all__ = ["register"]

app = typer.Typer(name="prefix", help="Register and manage prefixes (88, 88.100, ...).", no_args_is_help=True)


@app.command("register")
@signs
def register_command(
    signing: Signing,
    prefix: str = typer.Argument(..., help="The prefix: top-level (88) or a child (88.100)."),
    owner: str | None = typer.Option(None, "--owner", help="The owner (default: the signing account)."),
    expiry: int = typer.Option(0, "--expiry", min=0, help="Unix time it expires; 0 for never."),
) -> None:
    """Register a prefix: a child by its parent's owner, a top-level one by proposal (or bootstrap)."""
    with signing.client() as client:
        if "." in prefix:
            parent, _, label = prefix.rpartition(".")
            result = client.register_child(parent, label, owner, expiry)
            _done(signing.as_json, "registered", prefix, tx=result.tx, how="registerChild")
            return
        if client.bootstrap_admin() == client.address:
            result = client.bootstrap_allocate_prefix(prefix, owner, expiry)
            _done(signing.as_json, "registered", prefix, tx=result.tx, how="bootstrap allocation")
            return
        proposal = client.propose_top_level_prefix(prefix, owner, expiry)
        if signing.as_json:
            echo_json(
                {
                    "prefix": prefix,
                    "how": "proposal",
                    "proposal_id": proposal.proposal_id,
                    "state": proposal.state,
                    "yes": proposal.yes,
                    "threshold": proposal.threshold,
                    "votes_needed": proposal.votes_needed,
                    "tx_hash": proposal.tx.tx_hash,
                    "block_number": proposal.tx.block_number,
                }
            )
        elif proposal.state == "executed":
            typer.echo(
                f"registered {prefix} by proposal {proposal.proposal_id} (executed); {tx_line(proposal.tx)}"
            )
        else:
            typer.echo(
                f"proposed {prefix}: proposal {proposal.proposal_id} needs {proposal.votes_needed} more "
                f"yes vote(s) ({proposal.yes} of {proposal.threshold}); members vote with: "
                f"idfuse prefix vote {proposal.proposal_id}"
            )
            typer.echo(tx_line(proposal.tx))


@app.command("vote")
@signs
def vote_command(
    signing: Signing,
    proposal_id: int = typer.Argument(..., min=1, help="The proposal's id."),
    against: bool = typer.Option(False, "--against", help="Vote no."),
) -> None:
    """Vote on a Consortium proposal (yes unless --against)."""
    with signing.client() as client:
        vote = client.vote(proposal_id, not against)
        if signing.as_json:
            echo_json(
                {
                    "proposal_id": proposal_id,
                    "state": vote.state,
                    "yes": vote.yes,
                    "no": vote.no,
                    "threshold": vote.threshold,
                    "votes_needed": vote.votes_needed,
                    "tx_hash": vote.tx.tx_hash,
                }
            )
        elif vote.state == "open":
            typer.echo(f"voted; proposal {proposal_id} needs {vote.votes_needed} more yes vote(s)")
        else:
            typer.echo(f"voted; proposal {proposal_id} is {vote.state}; {tx_line(vote.tx)}")


@app.command("show")
@reads
def show_command(reading: Reading, prefix: str = typer.Argument(..., help="The prefix.")) -> None:
    """Show a prefix as the chain stores it: owner, status, expiry, service record."""
    with reading.client() as client:
        info = client.prefix(prefix)
    if not info.registered:
        raise fail(f"prefix {prefix} is not registered")
    document = {
        "prefix": prefix,
        "node": "0x" + info.node.hex(),
        "owner": info.owner,
        "pending_owner": info.pending_owner,
        "status": info.status,
        "expiry": info.expiry,
        "parent": "0x" + info.parent.hex(),
        "resolvers": list(info.resolvers),
        "service_chain_id": info.service_chain_id,
        "service_registry": info.service_registry,
    }
    if reading.as_json:
        echo_json(document)
        return
    from rich.table import Table

    from idfuse_sdk.cli.common import console

    table = Table(title=f"prefix {prefix}", show_header=False)
    table.add_column("field")
    table.add_column("value", overflow="fold")
    for key, value in document.items():
        if key != "prefix":
            table.add_row(key, "-" if value in (None, [], "") else str(value))
    console.print(table)


@app.command("transfer")
@signs
def transfer_command(
    signing: Signing,
    prefix: str = typer.Argument(..., help="The prefix."),
    new_owner: str | None = typer.Argument(None, help="The account that may then accept it."),
    cancel: bool = typer.Option(False, "--cancel", help="Cancel a pending transfer instead."),
) -> None:
    """Offer a prefix to a new owner (who accepts it with idfuse prefix accept), or --cancel."""
    if (new_owner is None) != cancel:
        raise fail("give NEW_OWNER, or --cancel to withdraw a pending transfer")
    with signing.client() as client:
        if new_owner is None:  # --cancel, as checked above
            result = client.cancel_transfer(prefix)
            _done(signing.as_json, "cancelled the transfer of", prefix, tx=result.tx)
        else:
            result = client.transfer_prefix(prefix, new_owner)
            _done(signing.as_json, f"offered to {new_owner}:", prefix, tx=result.tx)


@app.command("accept")
@signs
def accept_command(
    signing: Signing,
    prefix: str = typer.Argument(..., help="The prefix transferred to the signing account."),
) -> None:
    """Accept a prefix transferred to the signing account (its operators are cleared)."""
    with signing.client() as client:
        result = client.accept_prefix(prefix)
        _done(signing.as_json, "accepted", prefix, tx=result.tx)


@app.command("operator")
@signs
def operator_command(
    signing: Signing,
    prefix: str = typer.Argument(..., help="The prefix."),
    operator: str = typer.Argument(..., help="The operator's address."),
    remove: bool = typer.Option(False, "--remove", help="Revoke the operator instead."),
) -> None:
    """Approve (or --remove) an operator, who may then write under the prefix."""
    with signing.client() as client:
        result = client.set_operator(prefix, operator, not remove)
        _done(
            signing.as_json,
            f"{'removed' if remove else 'approved'} operator {operator} of",
            prefix,
            tx=result.tx,
        )


@app.command("service")
@signs
def service_command(
    signing: Signing,
    prefix: str = typer.Argument(..., help="The prefix."),
    resolvers: list[str] = typer.Option([], "--resolver", help="A resolver URL (repeatable)."),  # noqa: B008
    chain_id: int = typer.Option(0, "--chain-id", min=0, help="Chain id of another chain serving it."),
    registry: str | None = typer.Option(None, "--registry", help="That chain's IdentifierRegistry."),
) -> None:
    """Set a prefix's service record: the resolvers that serve it (and another chain, if any)."""
    with signing.client() as client:
        result = client.set_service(prefix, resolvers, chain_id, registry)
        _done(signing.as_json, "set the service record of", prefix, tx=result.tx)


def _status_command(status: str, verb: str) -> Any:
    @signs
    def command(
        signing: Signing,
        prefix: str = typer.Argument(..., help="The prefix."),
    ) -> None:
        with signing.client() as client:
            if "." in prefix:
                result = client.set_status(prefix, status)
                _done(signing.as_json, verb, prefix, tx=result.tx)
                return
            proposal = client.propose_prefix_status(prefix, status)
            if signing.as_json:
                echo_json(
                    {
                        "prefix": prefix,
                        "how": "proposal",
                        "proposal_id": proposal.proposal_id,
                        "state": proposal.state,
                        "votes_needed": proposal.votes_needed,
                        "tx_hash": proposal.tx.tx_hash,
                    }
                )
            elif proposal.state == "executed":
                typer.echo(f"{verb} {prefix} by proposal {proposal.proposal_id}; {tx_line(proposal.tx)}")
            else:
                typer.echo(
                    f"proposed to set {prefix} {status}: proposal {proposal.proposal_id} needs "
                    f"{proposal.votes_needed} more yes vote(s)"
                )

    command.__doc__ = (
        f"Set a prefix {status}: a child by its parent's owner, a top-level one by Consortium proposal."
    )
    return command


def _done(as_json: bool, verb: str, prefix: str, *, tx: Any, how: str | None = None) -> None:
    if as_json:
        document: dict[str, Any] = {"prefix": prefix, "tx_hash": tx.tx_hash, "block_number": tx.block_number}
        if how is not None:
            document["how"] = how
        echo_json(document)
        return
    typer.echo(f"{verb} {prefix}{f' by {how}' if how else ''}; {tx_line(tx)}")


app.command("suspend")(_status_command("suspended", "suspended"))
app.command("resume")(_status_command("active", "resumed"))


def register(root: typer.Typer) -> None:
    """Add ``idfuse prefix`` to the ``idfuse`` command."""
    root.add_typer(app)
