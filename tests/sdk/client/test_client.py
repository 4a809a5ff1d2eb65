"""The SDK client against a real fusion node (`idfuse node start` as a subprocess): the
enterprise writes, governance, resolution with its chain fallback, every error decoded to its
named exception, and the async client."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import httpx
import pytest
from eth_account import Account as EthAccount
from web3 import Web3

from idfuse_sdk.client import Account, AsyncIdfuseClient, IdfuseClient
from idfuse_sdk.encoding import HandleValue, TemplateField, commitment, encode_values, template_id
from idfuse_sdk.exceptions import (
    ClientError,
    ConnectionFailedError,
    ContractRevertError,
    IdentifierAlreadyExists,
    IdentifierStaleValues,
    NotFoundError,
    PrefixAlreadyRegistered,
    PrefixNotPendingOwner,
    PrefixUnauthorized,
    PrivateKeyError,
    TransactionRejectedError,
)
from idfuse_sdk.identifiers import handle_key, prefix_node
from idfuse_sdk.types import TOMBSTONE
from tests.e2e.processes import running_node
from tests.httpserver import serving
from tests.waiting import eventually

RESOLVE_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with running_node(tmp_path_factory.mktemp("client") / "node") as process:
        yield process.data_dir, process.wait_serving()


@pytest.fixture(scope="module")
def validator_account(node):
    data_dir, _ = node
    return Account.from_keystore(
        data_dir / "validator.keystore.json", password_file=data_dir / "validator.password"
    )


@pytest.fixture(scope="module")
def admin(node, validator_account):
    """The validator: the Consortium's bootstrap admin."""
    with IdfuseClient.from_endpoints(node[0], account=validator_account) as client:
        yield client


@pytest.fixture(scope="module")
def dev(node):
    """The development account: a Member, funded."""
    with IdfuseClient.from_endpoints(node[0], account=Account.dev_account(node[0])) as client:
        yield client


def dead_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def fund(node, address: str) -> None:
    """Send the development account's ether to ``address`` (new members pay for gas)."""
    _, endpoints = node
    w3 = Web3(Web3.HTTPProvider(endpoints["rpc_url"]))
    payer = Account.dev_account(node[0])
    signed = payer.sign_transaction(
        {
            "type": 2,
            "chainId": endpoints["chain_id"],
            "nonce": w3.eth.get_transaction_count(payer.address, "pending"),
            "to": address,
            "value": 10**20,
            "gas": 21_000,
            "maxFeePerGas": 10**11,
            "maxPriorityFeePerGas": 10**9,
        }
    )
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction), timeout=30)


def member(node, admin, role: str):
    """A fresh funded account the bootstrap admin made a member with ``role``."""
    account = EthAccount.create()
    admin.bootstrap_add_member(account.address, f"{role} org", role)
    fund(node, account.address)
    return account


def resolved(client: IdfuseClient, handle: str, version_value: bytes):
    """The resolver's answer once the indexer shows ``version_value`` at index 1."""

    def answer():
        found = client.resolve(handle)
        return found if found.value(1).data == version_value else None

    return eventually(
        answer,
        f"{handle} resolving to {version_value!r}",
        timeout=RESOLVE_TIMEOUT,
        ignore=(NotFoundError, LookupError),
    )


def stored(resolution):
    return [(v.index, v.type, v.format, v.data, v.ttl) for v in resolution.values]


@pytest.fixture(scope="module")
def prefixes(admin, dev):
    top = admin.bootstrap_allocate_prefix("88", owner=dev.address)
    assert top.node == prefix_node("88")
    assert top.tx.final is True
    assert top.tx.event("PrefixRegistered").args["owner"] == dev.address
    second = dev.register_child("88", "100")
    third = dev.register_child("88.100", "1")
    assert (second.prefix, third.prefix) == ("88.100", "88.100.1")
    assert third.node == prefix_node("88.100.1")
    return third


def test_identifier_lifecycle_and_resolution_with_fallback(node, admin, dev, prefixes):
    info = dev.prefix("88.100.1")
    assert (info.owner, info.status, info.name) == (dev.address, "active", "88.100.1")
    assert info.parent == prefix_node("88.100")
    fields = [TemplateField("URL", required=True), TemplateField("EMAIL")]
    assert dev.template("88.100.1", "part", 1) is None
    template = dev.register_template("88.100.1", "part", 1, fields)
    assert template.template_id == template_id(prefix_node("88.100.1"), "part", 1)
    assert dev.template("88.100.1", "part", 1) == tuple(fields)
    assert dev.bootstrap_admin() == admin.address != dev.address

    handle = "88.100.1/PN-0001"
    values = [HandleValue.text(1, "URL", "https://example.com/pn-1"), HandleValue.text(2, "EMAIL", "a@b.c")]
    created = dev.create_identifier(handle, values, template=("part", 1))
    assert created.handle_key == handle_key("88.100.1", "PN-0001")
    assert created.version == 1
    assert created.commitment == commitment(template.template_id, encode_values(values))
    assert dev.commitment_of(handle) == created.commitment

    answer = resolved(dev, handle, b"https://example.com/pn-1")
    assert answer.source == "resolver"
    assert answer.value("URL").provenance.tx_hash == created.tx.tx_hash
    assert answer.value("HS_ADMIN").data["owner"] == dev.address

    _, endpoints = node
    offline = IdfuseClient(
        endpoints["rpc_url"], contracts=endpoints["contracts"], resolver_url=dead_url(), account=dev._account
    )
    fallback = offline.resolve(handle)
    assert fallback.source == "chain"
    assert stored(fallback) == stored(answer)
    assert fallback.provenance.tx_hash == created.tx.tx_hash
    assert fallback.template == template.template_id
    assert [v.index for v in offline.resolve(handle, types=["url"]).values] == [1]
    assert [v.index for v in dev.resolve(handle, indexes=[2]).values] == [2]

    updated = dev.update_identifier(handle, [HandleValue.text(1, "URL", "https://example.com/v2")])
    assert (updated.version, dev.version_of(handle)) == (2, 2)
    # No resolver: the current values come from the chain's events.
    again = offline.update_identifier(handle, removals=[2])
    assert again.version == 3
    assert [v.index for v in offline.resolve(handle).values] == [1, 100]
    assert resolved(dev, handle, b"https://example.com/v2").value(1).provenance.tx_hash == updated.tx.tx_hash

    deleted = dev.delete_identifier(handle)
    assert deleted.commitment == TOMBSTONE == dev.commitment_of(handle)
    with pytest.raises(NotFoundError):
        offline.resolve(handle)
    with pytest.raises(NotFoundError):
        offline.resolve("88.100.1/never")
    offline.close()


def test_transfer_operators_service_and_status(node, admin, dev, prefixes):
    other = member(node, admin, "auditor")
    with IdfuseClient.from_endpoints(node[0], account=other) as them:
        child = dev.register_child("88.100", "7")
        dev.transfer_prefix("88.100.7", other.address)
        assert dev.prefix("88.100.7").pending_owner == other.address
        dev.cancel_transfer("88.100.7")
        assert dev.prefix("88.100.7").pending_owner is None
        with pytest.raises(PrefixNotPendingOwner) as refused:
            them.accept_prefix("88.100.7")
        assert (refused.value.node, refused.value.caller) == (child.node, other.address)
        dev.transfer_prefix("88.100.7", other.address)
        accepted = them.accept_prefix("88.100.7")
        assert accepted.tx.event("PrefixOwnershipTransferred").args["newOwner"] == other.address
        assert dev.prefix("88.100.7").owner == other.address

        operated = dev.register_child("88.100", "8")
        with pytest.raises(PrefixUnauthorized):
            them.register_child("88.100.8", "x")
        dev.set_operator("88.100.8", other.address, True)
        assert dev.is_operator("88.100.8", other.address)
        them.register_child("88.100.8", "x")
        dev.set_operator("88.100.8", other.address, False)
        assert not dev.is_operator("88.100.8", other.address)

        registry = dev.contracts["IdentifierRegistry"]
        dev.set_service("88.100.8", ["https://resolver.example/"], 4242, registry)
        info = dev.prefix("88.100.8")
        assert (info.resolvers, info.service_chain_id, info.service_registry) == (
            ("https://resolver.example/",),
            4242,
            registry,
        )
        assert dev.suspend("88.100.8").tx.event("PrefixStatusChanged").args["status"] == 2
        assert dev.prefix("88.100.8").status == "suspended"
        dev.resume("88.100.8")
        assert dev.prefix("88.100.8").status == "active"
        assert operated.node == prefix_node("88.100.8")


def test_custom_errors_are_named_exceptions_with_arguments(node, admin, dev, prefixes):
    outsider = member(node, admin, "auditor")
    raised: list[BaseException] = []
    with IdfuseClient.from_endpoints(node[0], account=outsider) as them:
        with pytest.raises(PrefixUnauthorized) as caught:
            them.register_child("88.100.1", "intruder")
        raised.append(caught.value)
        assert caught.value.node == prefix_node("88.100.1")
        assert caught.value.caller == outsider.address
        assert caught.value.arguments == {"node": prefix_node("88.100.1"), "caller": outsider.address}
        assert str(caught.value).endswith(
            f"PrefixUnauthorized(node=0x{prefix_node('88.100.1').hex()}, caller={outsider.address})"
        )
        assert isinstance(caught.value, ContractRevertError)
        with pytest.raises(PrefixUnauthorized) as caught:
            them.create_identifier("88.100.1/intruder", [HandleValue.text(1, "URL", "x")])
        raised.append(caught.value)

    with pytest.raises(PrefixAlreadyRegistered) as duplicate:
        dev.register_child("88", "100")
    raised.append(duplicate.value)
    assert (duplicate.value.node, duplicate.value.name) == (prefix_node("88.100"), "88.100")

    dev.create_identifier("88.100.1/DUP", [HandleValue.text(1, "URL", "x")])
    with pytest.raises(IdentifierAlreadyExists) as exists:
        dev.create_identifier("88.100.1/DUP", [HandleValue.text(1, "URL", "y")])
    raised.append(exists.value)
    assert exists.value.handle_key == handle_key("88.100.1", "DUP")

    stranger = EthAccount.create()
    dev.register_child("88", "999", owner=stranger.address)  # it may write there, but not send
    with IdfuseClient.from_endpoints(node[0], account=stranger) as nobody:
        with pytest.raises(TransactionRejectedError) as refused:
            nobody.register_child("88.999", "x")
        raised.append(refused.value)
        assert "sender not allowed by consortium" in str(refused.value)
        assert stranger.key.hex() not in repr(nobody)

    for account in (outsider, stranger, dev._account):
        secret = account.key.hex()
        for error in raised:
            assert secret not in str(error)
            assert secret not in repr(error)
            assert secret.removeprefix("0x") not in str(error)
        assert secret not in repr(dev)
        assert secret not in repr(admin)
    assert dev.address in repr(dev)


def test_governance_reports_execution_or_missing_votes(node, admin, dev, prefixes):
    # Two voters (the validator and the development account): a proposal needs both.
    proposal = dev.propose_top_level_prefix("99")
    assert (proposal.state, proposal.yes, proposal.threshold, proposal.votes_needed) == ("open", 1, 2, 1)
    vote = admin.vote(proposal.proposal_id, True)
    assert vote.executed
    assert vote.votes_needed == 0
    assert vote.tx.event("ProposalExecuted").args["id"] == proposal.proposal_id
    assert dev.prefix("99").owner == dev.address

    # Four voters: the threshold is ceil(8/3) = 3, so one more vote still leaves one missing.
    second, third = member(node, admin, "validator"), member(node, admin, "validator")
    proposal = dev.propose_top_level_prefix("98", owner=second.address)
    assert (proposal.threshold, proposal.votes_needed) == (3, 2)
    vote = admin.vote(proposal.proposal_id, True)
    assert (vote.state, vote.yes, vote.votes_needed, vote.executed) == ("open", 2, 1, False)
    with IdfuseClient.from_endpoints(node[0], account=third) as voter:
        vote = voter.vote(proposal.proposal_id, True)
    assert vote.executed
    assert dev.prefix("98").owner == second.address
    with pytest.raises(ClientError):
        admin.vote(proposal.proposal_id, True)


def test_async_client(node, admin, dev, prefixes):
    async def scenario():
        async with AsyncIdfuseClient.from_endpoints(node[0], account=Account.dev_account(node[0])) as client:
            assert await client.connect() == node[1]["chain_id"]
            assert await client.template("88.100.1", "absent", 9) is None
            assert await client.bootstrap_admin() == admin.address
            child = await client.register_child("88.100", "2")
            assert child.node == prefix_node("88.100.2")
            created = await client.create_identifier(
                "88.100.2/A-1", [HandleValue.text(1, "URL", "https://a")]
            )
            assert await client.commitment_of("88.100.2/A-1") == created.commitment
            # Two creations of one handle race: both estimate fine, the second fails when mined
            # and is replayed at its block to name the error.
            values = [HandleValue.text(1, "URL", "https://b")]
            results = await asyncio.gather(
                client.create_identifier("88.100.2/RACE", values),
                client.create_identifier("88.100.2/RACE", values),
                return_exceptions=True,
            )
            errors = [item for item in results if isinstance(item, BaseException)]
            assert len(errors) == 1
            # Mined and failed: replayed at its block, and the exception names the transaction.
            assert isinstance(errors[0], IdentifierAlreadyExists)
            assert errors[0].tx_hash is not None
            assert "reverted in " + errors[0].tx_hash in str(errors[0])
            receipt = await client.web3.eth.get_transaction_receipt(errors[0].tx_hash)
            assert receipt["status"] == 0
            # Two updates from the same current values: the second's values are stale when mined.
            results = await asyncio.gather(
                client.update_identifier("88.100.2/A-1", [HandleValue.text(2, "EMAIL", "x@y.z")]),
                client.update_identifier("88.100.2/A-1", [HandleValue.text(3, "EMAIL", "p@q.r")]),
                return_exceptions=True,
            )
            stale = [item for item in results if isinstance(item, BaseException)]
            assert len(stale) == 1
            assert isinstance(stale[0], IdentifierStaleValues)
            assert stale[0].handle_key == handle_key("88.100.2", "A-1")
            assert stale[0].stored == await client.commitment_of("88.100.2/A-1")
            deadline = time.monotonic() + RESOLVE_TIMEOUT
            while True:
                try:
                    answer = await client.resolve("88.100.2/A-1")
                    break
                except NotFoundError:
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.1)
            assert answer.value(1).data == b"https://a"
            info = await client.prefix("88.100.2")
            assert info.owner == dev.address
            latest = await client.web3.eth.get_block("latest")  # the POA middleware reads QBFT blocks
            assert len(latest["proofOfAuthorityData"]) > 32
        async with AsyncIdfuseClient(
            node[1]["rpc_url"], contracts=node[1]["contracts"], resolver_url=dead_url()
        ) as offline:
            fallback = await offline.resolve("88.100.2/A-1")
            assert fallback.source == "chain"
            assert fallback.value(1).data == b"https://a"

    asyncio.run(scenario())


def test_connection_failures_and_accounts_from_the_environment(node, monkeypatch):
    _, endpoints = node
    secret = EthAccount.create()
    monkeypatch.setenv("IDFUSE_TEST_KEY", secret.key.hex())
    account = Account.from_env("IDFUSE_TEST_KEY")
    assert account.address == secret.address
    client = IdfuseClient(dead_url(), contracts=endpoints["contracts"], account=account)
    with pytest.raises(ConnectionFailedError) as failed:
        client.prefix("88")
    assert "cannot reach the JSON-RPC node" in str(failed.value)
    with pytest.raises(ConnectionFailedError):
        client.register_child("88", "1")
    for text in (str(failed.value), repr(failed.value), repr(client)):
        assert secret.key.hex().removeprefix("0x") not in text
    client.close()
    monkeypatch.setenv("IDFUSE_TEST_KEY", "not a key")
    with pytest.raises(PrivateKeyError) as bad:
        Account.from_env("IDFUSE_TEST_KEY")
    assert "IDFUSE_TEST_KEY" in str(bad.value)


def test_a_client_without_an_account_only_reads(node, prefixes):
    with IdfuseClient.from_endpoints(node[0]) as reader:
        assert reader.prefix("88").registered
        with pytest.raises(ClientError, match="no account"):
            reader.register_child("88", "5")
        assert reader.connect() == node[1]["chain_id"]
        assert len(reader.web3.eth.get_block("latest")["proofOfAuthorityData"]) > 32


@contextlib.contextmanager
def losing_proxy(upstream: str, lose: threading.Event) -> Iterator[str]:
    """The URL of a JSON-RPC server passing requests to ``upstream``, except that while
    ``lose`` is set it hangs up on the next ``eth_sendRawTransaction`` (and clears ``lose``)
    without passing it on: a transaction lost as a node that restarts loses its pool."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if lose.is_set() and b'"eth_sendRawTransaction"' in body:
                lose.clear()
                self.close_connection = True
                return
            answer = httpx.post(upstream, content=body, headers={"Content-Type": "application/json"})
            self.send_response(answer.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        def log_message(self, *_: object) -> None:
            pass

    with serving(Handler) as url:
        yield url


def test_a_write_lost_on_the_way_does_not_hold_up_the_next(node, prefixes):
    """The nonce of a write that failed for want of the node is not counted on: the next write
    asks the node again. It used to take the nonce after the lost one and wait behind the gap
    until its timeout, and every write after it too (found by tests/e2e/test_fusion_crash.py)."""
    data_dir, endpoints = node
    lose = threading.Event()
    with losing_proxy(endpoints["rpc_url"], lose) as url:
        account = Account.dev_account(data_dir)
        with IdfuseClient(url, contracts=endpoints["contracts"], account=account, timeout=10) as client:
            value = [HandleValue.text(1, "URL", "https://example.com/lost")]
            lose.set()
            with pytest.raises(ConnectionFailedError) as lost:
                client.create_identifier("88.100.1/LOST-1", value)
            assert not lose.is_set()
            # the error names the transaction whose fate is unknown; the node never saw it
            assert lost.value.tx_hash is not None
            assert lost.value.tx_hash in str(lost.value)
            found = httpx.post(
                endpoints["rpc_url"],
                json={
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "eth_getTransactionByHash",
                    "params": [lost.value.tx_hash],
                },
                timeout=10,
            ).json()
            assert found["result"] is None
            created = client.create_identifier("88.100.1/LOST-2", value)
            assert created.version == 1
            assert client.commitment_of("88.100.1/LOST-1") == bytes(32)  # never written
