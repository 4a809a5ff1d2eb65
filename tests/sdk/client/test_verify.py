"""The auditor's verify / verify_prefix against a real fusion node (`idfuse node start` as a
subprocess): single, updated, deleted and batch records prove; a tampered index, a lying
resolver and a forged header are caught."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import httpx
import pytest
from eth_account import Account as EthAccount

from idfuse_node.indexer import answerpart
from idfuse_node.indexer.records import HandleRecord
from idfuse_node.indexer.schema import answer_key, handle_record_key
from idfuse_node.indexer.store import LevelDBIndexStore
from idfuse_sdk.client import Account, AsyncIdfuseClient, IdfuseClient
from idfuse_sdk.client.verification import TrustAnchor, check_header
from idfuse_sdk.encoding import BatchRecord, HandleValue, encode_batch
from idfuse_sdk.exceptions import ConnectionFailedError, TrustAnchorError, ValidationError
from idfuse_sdk.identifiers import handle_key, prefix_node
from idfuse_sdk.qbft import QbftExtraData, sign_commit_seal
from tests.e2e.processes import NodeProcess
from tests.lying_resolver import lying_resolver
from tests.sdk.client.test_client import dead_url
from tests.waiting import eventually

CATCH_UP_TIMEOUT = 30.0


def start_node(data_dir):
    process = NodeProcess(data_dir)
    process.wait_serving()
    return process


class Node:
    """The fusion node subprocess; the tampering test stops and restarts it."""

    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.process = start_node(data_dir)

    def client(self, **options):
        return IdfuseClient.from_endpoints(
            self.data_dir, account=Account.dev_account(self.data_dir), **options
        )

    def restart(self, between):
        self.process.stop()
        between()
        self.process = start_node(self.data_dir)


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    running = Node(tmp_path_factory.mktemp("verify") / "node")
    try:
        yield running
    finally:
        running.process.kill()


@pytest.fixture(scope="module")
def dev(node):
    admin_account = Account.from_keystore(
        node.data_dir / "validator.keystore.json", password_file=node.data_dir / "validator.password"
    )
    with IdfuseClient.from_endpoints(node.data_dir, account=admin_account) as admin:
        client = node.client()
        admin.bootstrap_allocate_prefix("77", owner=client.address)
        client.register_child("77", "5")
        yield client
        client.close()


def caught_up(client: IdfuseClient) -> None:
    """Wait until the resolver has indexed the chain's head."""
    head = client.web3.eth.block_number

    def reached() -> bool | None:
        checkpoint = httpx.get(f"{client.resolver_url}/v1/checkpoint").json()["checkpoint"]
        return True if checkpoint["block_number"] >= head else None

    eventually(
        reached, f"the resolver catching up with block {head}", timeout=CATCH_UP_TIMEOUT, interval=0.05
    )


def failed(report) -> dict[str, tuple[str, str]]:
    return {check.name: (check.expected, check.found) for check in report.differences}


def test_single_identifier_verifies_and_pins_the_genesis(dev):
    created = dev.create_identifier("77.5/one", [HandleValue.text(1, "URL", "https://example.com/1")])
    caught_up(dev)
    report = dev.verify("77.5/one")
    assert report.verified, report.differences
    assert report.state == "live"
    assert report.check("values").expected == "0x" + created.commitment.hex()
    assert report.check("commit seals").ok
    assert report.block_number >= created.tx.block_number
    assert report.block_hash == dev.web3.eth.get_block(report.block_number)["hash"].to_0x_hex()
    assert set(report.timings) == {"resolver", "block", "header", "get_proof", "proofs"}
    anchor = dev.trust_anchor
    genesis = dev.web3.eth.get_block(0)
    assert anchor.genesis_hash == bytes(genesis["hash"])
    assert anchor.validators == QbftExtraData.decode(bytes(genesis["proofOfAuthorityData"])).validators


def test_updated_identifier_verifies_with_its_new_values(dev):
    handle = "77.5/two"
    dev.create_identifier(handle, [HandleValue.text(1, "URL", "https://example.com/old")])
    updated = dev.update_identifier(handle, [HandleValue.text(1, "URL", "https://example.com/new")])
    caught_up(dev)
    report = dev.verify(handle)
    assert report.verified, report.differences
    assert report.check("values").found == "0x" + updated.commitment.hex()


def test_deleted_identifier_reports_deleted(dev):
    dev.create_identifier("77.5/gone", [HandleValue.text(1, "URL", "https://example.com/gone")])
    dev.delete_identifier("77.5/gone")
    caught_up(dev)
    report = dev.verify("77.5/gone")
    assert (report.verified, report.state) == (True, "deleted")
    assert report.check("deleted").expected == "tombstone (deleted)"


def test_batch_record_verifies_through_its_merkle_proof(dev):
    node_id = prefix_node("77.5")
    records = [
        BatchRecord(f"B-{i}", (HandleValue.text(1, "URL", f"https://example.com/b/{i}"),)) for i in range(7)
    ]
    dev._run(dev._transact("IdentifierRegistry", "registerBatch", node_id, encode_batch(node_id, records)))
    caught_up(dev)
    for suffix in ("B-0", "B-4", "B-6"):
        report = dev.verify(f"77.5/{suffix}")
        assert report.verified, report.differences
        assert report.state == "batch"
        assert report.check("storage word").expected == "0 (no individual record)"
        assert report.check("batch prefix").expected == "0x" + node_id.hex()


def test_async_client_verifies_the_same(node, dev):
    dev.create_identifier("77.5/async", [HandleValue.text(1, "URL", "https://example.com/a")])
    caught_up(dev)

    async def run():
        async with AsyncIdfuseClient.from_endpoints(node.data_dir) as client:
            return await client.verify("77.5/async"), await client.verify_prefix("77.5")

    handle_report, prefix_report = asyncio.run(run())
    assert (handle_report.verified, handle_report.state) == (True, "live")
    assert (prefix_report.verified, prefix_report.state) == (True, "active")


def test_prefix_verifies(dev):
    report = dev.verify_prefix("77.5")
    assert report.verified, report.differences
    assert report.state == "active"
    assert report.check("owner").expected == dev.address.lower()
    assert report.check("parent").expected == "0x" + prefix_node("77").hex()


def test_a_resolver_lying_about_the_owner_is_caught(node, dev):
    stranger = EthAccount.create().address
    endpoints = json.loads((node.data_dir / "endpoints.json").read_text())
    with (
        lying_resolver(dev.resolver_url, stranger) as liar,
        IdfuseClient(endpoints["rpc_url"], contracts=endpoints["contracts"], resolver_url=liar) as client,
    ):
        report = client.verify_prefix("77.5")
    assert not report.verified
    assert failed(report) == {"owner": (dev.address.lower(), stranger)}


def test_an_unreachable_resolver_is_a_clear_error(node):
    endpoints = json.loads((node.data_dir / "endpoints.json").read_text())
    with (
        IdfuseClient(
            endpoints["rpc_url"], contracts=endpoints["contracts"], resolver_url=dead_url()
        ) as client,
        pytest.raises(ConnectionFailedError, match="cannot verify: the resolver is unreachable"),
    ):
        client.verify("77.5/one")


@pytest.mark.parametrize("block", [-1, True, "pending", "0x10", 1.5, None])
def test_a_bad_block_is_refused_before_anything_is_asked(node, block):
    # A dead resolver proves it: validation comes first, or the error would be the connection.
    endpoints = json.loads((node.data_dir / "endpoints.json").read_text())
    with IdfuseClient(
        endpoints["rpc_url"], contracts=endpoints["contracts"], resolver_url=dead_url()
    ) as client:
        for verify, subject in ((client.verify, "77.5/one"), (client.verify_prefix, "77.5")):
            with pytest.raises(ValidationError, match="block must be a number >= 0 or one of latest"):
                verify(subject, block)


def test_verifying_at_a_numbered_block_or_a_tag(dev):
    caught_up(dev)
    head = dev.web3.eth.block_number
    assert dev.verify_prefix("77.5", head).block_number == head
    assert dev.verify_prefix("77.5", "finalized").verified


def test_a_wrong_pinned_genesis_is_refused(node):
    client = node.client(trust_anchor=TrustAnchor(genesis_hash=b"\x01" * 32))
    with client, pytest.raises(TrustAnchorError, match="not the pinned"):
        client.verify("77.5/one")


def test_forged_or_missing_commit_seals_are_refused(dev):
    anchor = dev.pinned_trust_anchor()
    block = dev._run(dev._rpc("eth_getBlockByNumber", ["latest", False]))
    assert all(check.ok for check in check_header(block, anchor))
    extra = QbftExtraData.decode(bytes.fromhex(block["extraData"][2:]))

    forged_seal = sign_commit_seal(EthAccount.create().key, block)
    for seals, error in [((forged_seal,), "not a validator"), ((), "commit seals")]:
        forged = {**block, "extraData": "0x" + extra.with_commit_seals(seals).encode().hex()}
        checks = {check.name: check for check in check_header(forged, anchor)}
        assert not checks["commit seals"].ok
        assert error in checks["commit seals"].detail

    other = TrustAnchor(validators=(bytes.fromhex(EthAccount.create().address[2:]),))
    checks = {check.name: check for check in check_header(block, other)}
    assert (checks["validator set"].ok, checks["commit seals"].ok) == (False, False)


def test_a_tampered_index_is_caught(node, dev):
    """Last: it restarts the node."""
    handle = "77.5/tamper"
    dev.create_identifier(handle, [HandleValue.text(1, "URL", "https://example.com/true")])
    caught_up(dev)
    assert dev.verify(handle).verified

    def rewrite():
        with LevelDBIndexStore(node.data_dir / "index", create=False) as store:
            hkey = handle_key("77.5", "tamper")
            record = HandleRecord.from_bytes(store.get(handle_record_key(hkey)))
            lie = dataclasses.replace(record.values[0], data="0x" + b"https://evil.example".hex())
            told = dataclasses.replace(record, values=(lie,))  # the record and its kept answer
            store.write(
                {handle_record_key(hkey): told.to_bytes(), answer_key(hkey): answerpart.build(told)},
                [],
            )

    node.restart(rewrite)
    with node.client() as client:
        assert client.resolve(handle).value(1).text == "https://evil.example"
        report = client.verify(handle)
    assert not report.verified
    assert set(failed(report)) == {"stated commitment", "values"}
    assert report.check("values").detail == "the values differ from what the chain committed"
