"""A client holding two chains against two real fusion nodes (`idfuse node start` as
subprocesses, chain ids 1337 and 4242): a prefix whose service record on the home chain names
the other chain has its subtree written, read, resolved and verified there; a prefix without
one stays home; a record naming a chain the client does not hold, another registry, or a node
serving another chain id raises its typed error; the async client routes too."""

from __future__ import annotations

import asyncio
import time

import pytest
from eth_account import Account as EthAccount

from idfuse_sdk.bulk import abulk_register, bulk_register
from idfuse_sdk.client import Account, AsyncIdfuseClient, IdfuseClient
from idfuse_sdk.client.routing import Chain
from idfuse_sdk.encoding import HandleValue
from idfuse_sdk.exceptions import (
    ChainMismatchError,
    ClientError,
    RoutingError,
    UnknownChainError,
)
from idfuse_sdk.types import ZERO32
from tests.e2e.processes import NodeProcess
from tests.sdk.client.test_client import dead_url, fund

HOME_ID = 1337
SUB_ID = 4242
RESOLVE_TIMEOUT = 30.0


def start(data_dir, chain_id: int) -> NodeProcess:
    return NodeProcess(data_dir, "--chain-id", str(chain_id), name=f"node-{chain_id}")


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    """(home data dir, home endpoints), (sub data dir, sub endpoints): both started at once."""
    root = tmp_path_factory.mktemp("multichain")
    home = start(root / "home", HOME_ID)
    sub = start(root / "sub", SUB_ID)
    try:
        yield (root / "home", home.wait_serving()), (root / "sub", sub.wait_serving())
    finally:
        home.kill()
        sub.kill()


def admin_client(data_dir) -> IdfuseClient:
    account = Account.from_keystore(
        data_dir / "validator.keystore.json", password_file=data_dir / "validator.password"
    )
    return IdfuseClient.from_endpoints(data_dir, account=account)


@pytest.fixture(scope="module")
def setup(nodes):
    """Home: ``61`` (the home dev account's), ``61.home``, ``61.sub`` whose service record names
    the sub chain. Sub: the home dev account a funded member, ``61`` and ``61.sub`` its own."""
    (home_dir, _), (sub_dir, sub) = nodes
    me = Account.dev_account(home_dir)
    with admin_client(home_dir) as home_admin, admin_client(sub_dir) as sub_admin:
        home_admin.bootstrap_allocate_prefix("61", owner=me.address)
        sub_admin.bootstrap_add_member(me.address, "Home org", "member")
        fund((sub_dir, sub), me.address)
        sub_admin.bootstrap_allocate_prefix("61", owner=me.address)
    with IdfuseClient.from_endpoints([home_dir, sub_dir], account=me) as client:
        assert client.held_chains == (SUB_ID,)
        # No service record anywhere yet: both registrations land on the home chain.
        client.register_child("61", "home")
        client.register_child("61", "sub")
        routed = client.set_service(
            "61.sub", [sub["resolver_url"]], chain_id=SUB_ID, registry=sub["contracts"]["IdentifierRegistry"]
        )
        assert routed.tx.tx_hash
        # The sub chain needs its own record of 61.sub: write it there without routing.
        client.on(SUB_ID).register_child("61", "sub")
    return me


def plain(endpoints, **options) -> IdfuseClient:
    return IdfuseClient(endpoints["rpc_url"], contracts=endpoints["contracts"], **options)


def resolved(client, handle: str, index: int = 1):
    """The resolver's answer once it shows a value at ``index``."""
    deadline = time.monotonic() + RESOLVE_TIMEOUT
    while True:
        try:
            answer = client.resolve(handle)
            answer.value(index)
            return answer
        except LookupError:  # NotFoundError too: not indexed yet
            assert time.monotonic() < deadline, f"{handle} never resolved with a value at {index}"
            time.sleep(0.1)


def test_a_served_subtree_is_written_read_resolved_and_verified_on_its_chain(nodes, setup):
    (home_dir, home), (sub_dir, sub) = nodes
    with (
        IdfuseClient.from_endpoints([home_dir, sub_dir], account=setup) as client,
        plain(home) as home_chain,
        plain(sub) as sub_chain,
    ):
        assert client.serving_chain("61.sub") == SUB_ID
        assert client.serving_chain("61.sub.deep/x") == SUB_ID
        assert client.serving_chain("61.home/x") == HOME_ID
        assert client.serving_chain("61") == HOME_ID

        # A child prefix of the served prefix is registered on the sub chain only.
        child = client.register_child("61.sub", "deep")
        assert child.prefix == "61.sub.deep"
        assert sub_chain.prefix("61.sub.deep").owner == setup.address
        assert home_chain.prefix("61.sub.deep").status == "none"

        handle = "61.sub/item-1"
        created = client.create_identifier(handle, [HandleValue.text(1, "URL", "https://sub/1")])
        assert sub_chain.commitment_of(handle) == created.commitment != ZERO32
        assert home_chain.commitment_of(handle) == ZERO32
        assert client.commitment_of(handle) == created.commitment
        assert client.version_of(handle) == 1
        deep = client.create_identifier("61.sub.deep/x", [HandleValue.text(1, "URL", "https://sub/deep")])
        assert sub_chain.commitment_of("61.sub.deep/x") == deep.commitment

        # Reads of the prefix go to the sub chain's record (its owner, no service record there).
        info = client.prefix("61.sub")
        assert (info.owner, info.service_chain_id) == (setup.address, 0)
        assert home_chain.prefix("61.sub").service_chain_id == SUB_ID

        # An update reads the current values on the sub chain (its resolver or its events).
        updated = client.update_identifier(handle, [HandleValue.text(2, "EMAIL", "a@sub")])
        assert updated.version == 2
        assert sub_chain.version_of(handle) == 2

        # Resolution through the sub chain's resolver, with the sub chain's provenance.
        answer = resolved(client, handle, index=2)
        assert answer.source == "resolver"
        assert answer.value(1).provenance.chain_id == SUB_ID

        # Verification proves the sub chain's resolver against the sub chain's sealed blocks.
        report = client.verify(handle)
        assert report.verified, report.differences
        assert report.state == "live"
        assert client.held(SUB_ID).trust_anchor is not None
        assert client.trust_anchor is None  # the home chain's was never needed
        assert client.verify_prefix("61.sub.deep").verified

        # A prefix without a service record stays home.
        home_created = client.create_identifier(
            "61.home/item-1", [HandleValue.text(1, "URL", "https://home")]
        )
        assert home_chain.commitment_of("61.home/item-1") == home_created.commitment
        assert sub_chain.commitment_of("61.home/item-1") == ZERO32
        assert resolved(client, "61.home/item-1").value(1).provenance.chain_id == HOME_ID

        client.delete_identifier("61.sub.deep/x")
        assert sub_chain.commitment_of("61.sub.deep/x") != deep.commitment


def test_bulk_registration_runs_on_the_serving_chain(nodes, setup, tmp_path):
    (home_dir, _), (sub_dir, _) = nodes
    source = tmp_path / "sub.csv"
    source.write_text("suffix,URL\n" + "".join(f"bulk-{n},https://bulk/{n}\n" for n in range(5)))
    with IdfuseClient.from_endpoints([home_dir, sub_dir], account=setup) as client:
        report = bulk_register(client.on(client.serving_chain("61.sub")), "61.sub", source)
        assert report.landed == 5
        receipt = client.held(SUB_ID).web3.eth.get_transaction_receipt(report.chunks[0].tx_hash)
        assert receipt["status"] == 1
        assert resolved(client, "61.sub/bulk-4").value(1).provenance.chain_id == SUB_ID


def test_bulk_registration_through_the_routing_client_itself(nodes, setup, tmp_path):
    (home_dir, _), (sub_dir, _) = nodes
    source = tmp_path / "routed.csv"
    source.write_text("suffix,URL\n" + "".join(f"routed-{n},https://routed/{n}\n" for n in range(4)))

    async def run_async():
        async with AsyncIdfuseClient.from_endpoints([home_dir, sub_dir], account=setup) as client:
            return await abulk_register(client, "61.sub", source, chunk_size=2)

    with IdfuseClient.from_endpoints([home_dir, sub_dir], account=setup) as client:
        first = bulk_register(client, "61.sub", source, chunk_size=2)
        assert first.landed == 4
        receipt = client.held(SUB_ID).web3.eth.get_transaction_receipt(first.chunks[1].tx_hash)
        assert receipt["status"] == 1
        journal = tmp_path / "routed.csv.journal"
        kept = [line for line in journal.read_text().splitlines() if '"mined"' not in line]
        journal.write_text("\n".join(kept) + "\n")  # as if the run died before the receipts
        again = asyncio.run(run_async())  # looks the sent chunks up on the serving chain
        assert (again.landed, again.landed_earlier, again.already_registered) == (0, 4, [])
        assert resolved(client, "61.sub/routed-3").value(1).provenance.chain_id == SUB_ID


def test_resolve_falls_back_to_the_serving_chain(nodes, setup):
    (home_dir, home), (sub_dir, sub) = nodes
    handle = "61.sub/fallback"
    with IdfuseClient.from_endpoints([home_dir, sub_dir], account=setup) as writer:
        created = writer.create_identifier(handle, [HandleValue.text(1, "URL", "https://fb")])
        writer.create_identifier("61.home/fallback", [HandleValue.text(1, "URL", "https://home-fb")])
        resolved(writer, handle)
        resolved(writer, "61.home/fallback")
    # The serving chain's resolver is unreachable: the serving chain answers.
    chains = {SUB_ID: Chain(sub["rpc_url"], sub["contracts"], resolver_url=dead_url())}
    with plain(home, resolver_url=dead_url(), chains=chains) as offline:
        answer = offline.resolve(handle)
        assert answer.source == "chain"
        assert answer.provenance.chain_id == SUB_ID
        assert answer.provenance.tx_hash == created.tx.tx_hash
        assert answer.value(1).data == b"https://fb"
    # The home chain cannot be reached to route: the home resolver answers, following the
    # service record's referral to the sub chain's resolver for the served prefix.
    chains = {SUB_ID: Chain(sub["rpc_url"], sub["contracts"], resolver_url=sub["resolver_url"])}
    with IdfuseClient(
        dead_url(), contracts=home["contracts"], resolver_url=home["resolver_url"], chains=chains
    ) as homeless:
        assert homeless.resolve("61.home/fallback").value(1).data == b"https://home-fb"
        referred = homeless.resolve(handle)
        assert referred.source == "resolver"
        assert referred.value(1).provenance.chain_id == SUB_ID


def test_records_naming_an_unusable_chain_raise_typed_errors(nodes, setup):
    (home_dir, home), (sub_dir, sub) = nodes
    sub_registry = sub["contracts"]["IdentifierRegistry"]
    elsewhere = EthAccount.create().address
    with IdfuseClient.from_endpoints([home_dir, sub_dir], account=setup) as client:
        client.register_child("61", "lost")
        client.set_service("61.lost", [], chain_id=999, registry=elsewhere)
        with pytest.raises(UnknownChainError) as unknown:
            client.create_identifier("61.lost/x", [HandleValue.text(1, "URL", "https://x")])
        assert (unknown.value.chain_id, unknown.value.prefix, unknown.value.registry) == (
            999,
            "61.lost",
            elsewhere,
        )
        assert "chain 999" in str(unknown.value)
        assert "chains={999: Chain(" in str(unknown.value)
        with pytest.raises(UnknownChainError):
            client.resolve("61.lost/x")
        with pytest.raises(UnknownChainError):
            client.serving_chain("61.lost.below")

        client.register_child("61", "wrong")
        client.set_service("61.wrong", [], chain_id=SUB_ID, registry=elsewhere)
        with pytest.raises(RoutingError) as wrong:
            client.commitment_of("61.wrong/x")
        assert not isinstance(wrong.value, UnknownChainError)
        assert sub_registry in str(wrong.value)

        client.register_child("61", "astray")  # the home chain with another registry
        client.set_service("61.astray", [], chain_id=HOME_ID, registry=elsewhere)
        with pytest.raises(RoutingError) as astray:
            client.commitment_of("61.astray/x")
        assert not isinstance(astray.value, UnknownChainError)
        assert (astray.value.chain_id, astray.value.registry) == (HOME_ID, elsewhere)
        assert home["contracts"]["IdentifierRegistry"] in str(astray.value)

        client.register_child("61", "odd")
        client.set_service("61.odd", [], chain_id=777, registry=sub_registry)
    # A node held under chain id 777 that serves 4242.
    with plain(home, chains={777: Chain(sub["rpc_url"], sub["contracts"])}, account=setup) as misheld:
        with pytest.raises(ChainMismatchError, match="serves chain 4242"):
            misheld.version_of("61.odd/x")
        assert misheld.serving_chain("61.home") == HOME_ID

    # A one-chain client routes nothing: it reads the home chain as before.
    with plain(home) as one:
        assert one.commitment_of("61.lost/x") == ZERO32


def test_routes_are_cached_until_forgotten(nodes, setup):
    (home_dir, _), (sub_dir, sub) = nodes
    registry = sub["contracts"]["IdentifierRegistry"]
    with IdfuseClient.from_endpoints([home_dir, sub_dir], account=setup, route_ttl=3600) as client:
        client.register_child("61", "moving")
        assert client.serving_chain("61.moving/x") == HOME_ID
        # Changed through another client (on() routes nothing and shares no cache): the
        # routing client keeps its cached record until told to forget it.
        client.on().set_service("61.moving", [], chain_id=SUB_ID, registry=registry)
        assert client.serving_chain("61.moving/x") == HOME_ID
        client.forget_routes("61.moving/x")
        assert client.serving_chain("61.moving/x") == SUB_ID
        client.on().set_service("61.moving", [], chain_id=0, registry=None)
        client.forget_routes()
        assert client.serving_chain("61.moving/x") == HOME_ID
        # set_service through the routing client forgets the prefix it changed.
        client.set_service("61.moving", [], chain_id=SUB_ID, registry=registry)
        assert client.serving_chain("61.moving/x") == SUB_ID
    with IdfuseClient.from_endpoints([home_dir, sub_dir], route_ttl=0) as uncached:
        assert uncached.serving_chain("61.sub/x") == SUB_ID


def test_endpoints_of_two_chains_with_one_id_are_refused(nodes):
    (home_dir, _), (sub_dir, _) = nodes
    with pytest.raises(ClientError, match="two chains with chain id 4242"):
        IdfuseClient.from_endpoints([home_dir, sub_dir, sub_dir])


def test_async_client_routes_reads_and_writes(nodes, setup):
    (home_dir, home), (sub_dir, sub) = nodes

    async def scenario():
        async with AsyncIdfuseClient.from_endpoints([home_dir, sub_dir], account=setup) as client:
            assert await client.serving_chain("61.sub/a") == SUB_ID
            created = await client.create_identifier(
                "61.sub/async-1", [HandleValue.text(1, "URL", "https://a")]
            )
            assert await client.commitment_of("61.sub/async-1") == created.commitment
            info = await client.prefix("61.sub")
            assert info.service_chain_id == 0  # the sub chain's own record
            home_side = await client.create_identifier(
                "61.home/async-1", [HandleValue.text(1, "URL", "https://h")]
            )
            assert await client.on().commitment_of("61.home/async-1") == home_side.commitment
            await client.register_child("61", "elsewhere")  # a record of its own, not another test's
            await client.set_service("61.elsewhere", [], chain_id=998, registry=EthAccount.create().address)
            with pytest.raises(UnknownChainError, match="names chain 998"):
                await client.version_of("61.elsewhere/x")
            return created

    created = asyncio.run(scenario())
    with plain(sub) as sub_chain, plain(home) as home_chain:
        assert sub_chain.commitment_of("61.sub/async-1") == created.commitment
        assert home_chain.commitment_of("61.sub/async-1") == ZERO32


def test_on_reaches_each_chain_without_routing(nodes, setup):
    (home_dir, _), (sub_dir, _) = nodes
    with IdfuseClient.from_endpoints([home_dir, sub_dir], account=setup) as client:
        assert client.prefix("61.sub").service_chain_id == 0  # routed: the sub chain's record
        assert client.on().prefix("61.sub").service_chain_id == SUB_ID  # the home chain's
        assert client.on(SUB_ID).prefix("61.sub").service_chain_id == 0
        assert client.connect() == HOME_ID
        assert client.on(HOME_ID) is client.on()
        assert client.on().held_chains == ()
        with pytest.raises(UnknownChainError, match="holds no chain 5"):
            client.on(5)
