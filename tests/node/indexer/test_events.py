"""Registry logs from a real ledger, fetched over JSON-RPC and decoded into typed events."""

import time
from dataclasses import replace

import pytest
from eth_abi import decode, encode
from eth_account import Account
from eth_utils import keccak

from idfuse_node.exceptions import BatchCalldataUnavailableError, EventDecodeError
from idfuse_node.indexer import events as ev
from idfuse_node.indexer.source import ChainSource
from idfuse_sdk.encoding import (
    BatchRecord,
    HandleValue,
    TemplateField,
    commitment,
    encode_values,
    template_id,
)
from idfuse_sdk.identifiers import handle_key, prefix_node
from tests.node.indexer.chainfixture import ADMIN, OTHER, OWNER, registry_chain  # noqa: F401

ZERO_ADDRESS = "0x" + "00" * 20
NEWCOMER = Account.from_key(b"\x09" * 32)
V1 = HandleValue(index=1, type="URL", data=b"https://example.org/a")
V2 = HandleValue(index=2, type="EMAIL", data=b"a@example.org")


def _events(chain):
    with ChainSource(chain.url, retries=0) as source:
        logs = source.logs(0, source.head_number(), chain.contracts.values())
        return ev.EventDecoder(chain.contracts).decode_all(logs), source


def test_every_event_kind_decodes(registry_chain):  # noqa: F811
    chain = registry_chain
    top = chain.allocate("88")
    child = chain.register_child("88", "a")
    fields = (TemplateField("URL", required=True), TemplateField("EMAIL", max_length=64))
    chain.register_template(top, "person", 1, fields)
    create = chain.create(top, "x", [V1])
    chain.update(top, "x", [V1], [V2])
    chain.delete(top, "x")
    records = [BatchRecord("b1", (V1,)), BatchRecord("b2", (V1, V2))]
    batch_tx = chain.register_batch(top, records)
    chain.prefix_call(
        OWNER, "setOperator(bytes32,address,bool)", ["bytes32", "address", "bool"], [top, OTHER.address, True]
    )
    chain.prefix_call(OWNER, "setStatus(bytes32,uint8)", ["bytes32", "uint8"], [child, 2])
    expiry = int(time.time()) + 10**6
    chain.prefix_call(OWNER, "renew(bytes32,uint64)", ["bytes32", "uint64"], [child, expiry])
    chain.prefix_call(
        OWNER,
        "setService(bytes32,(string[],uint256,address))",
        ["bytes32", "(string[],uint256,address)"],
        [top, (["https://r.example.org"], 7, OTHER.address)],
    )
    chain.prefix_call(OWNER, "setMetadataHash(bytes32,bytes32)", ["bytes32", "bytes32"], [top, b"\x05" * 32])
    chain.prefix_call(
        OWNER, "transferOwnership(bytes32,address)", ["bytes32", "address"], [top, OTHER.address]
    )
    chain.prefix_call(
        OWNER, "transferOwnership(bytes32,address)", ["bytes32", "address"], [top, ZERO_ADDRESS]
    )
    chain.prefix_call(
        OWNER, "transferOwnership(bytes32,address)", ["bytes32", "address"], [top, OTHER.address]
    )
    chain.prefix_call(OTHER, "acceptOwnership(bytes32)", ["bytes32"], [top])
    chain.transact(
        ADMIN,
        "Consortium",
        "bootstrapAddMember(address,string,uint8)",
        ["address", "string", "uint8"],
        [NEWCOMER.address, "Newcomer", 3],
    )

    found, _ = _events(chain)
    by_kind = {}
    for event in found:
        by_kind.setdefault(type(event), []).append(event)
    assert set(by_kind) >= set(ev.EVENT_CLASSES) - {ev.MemberRemoved, ev.MemberRoleChanged}
    assert [e.account for e in by_kind[ev.MemberAdded]] == [
        ADMIN.address,
        OWNER.address,
        OTHER.address,
        NEWCOMER.address,
    ]
    assert by_kind[ev.MemberAdded][-1].role is ev.Role.AUDITOR
    assert by_kind[ev.MemberAdded][-1].organisation == "Newcomer"

    top_reg, child_reg = by_kind[ev.PrefixRegistered]
    assert (top_reg.node, top_reg.parent, top_reg.owner, top_reg.name, top_reg.expiry) == (
        top,
        bytes(32),
        OWNER.address,
        "88",
        0,
    )
    assert (child_reg.node, child_reg.parent, child_reg.name) == (child, top, "88.a")
    assert top_reg.position.address == chain.address_of("PrefixRegistry")

    (template,) = by_kind[ev.TemplateRegistered]
    assert template.template_id == template_id(top, "person", 1)
    assert (template.prefix_node, template.name, template.version, template.fields) == (
        top,
        "person",
        1,
        fields,
    )

    (created,) = by_kind[ev.IdentifierCreated]
    key = handle_key(top, "x")
    assert (created.handle_key, created.prefix_node, created.suffix, created.values, created.version) == (
        key,
        top,
        "x",
        (V1,),
        1,
    )
    assert created.values_encoding == encode_values([V1])
    assert created.commitment == keccak(bytes(32) + created.values_encoding)
    assert created.position.tx_hash == create
    assert created.position.address == chain.address_of("IdentifierRegistry")
    (updated,) = by_kind[ev.IdentifierUpdated]
    assert (updated.values, updated.version) == ((V1, V2), 2)
    (deleted,) = by_kind[ev.IdentifierDeleted]
    assert (deleted.handle_key, deleted.suffix, deleted.version) == (key, "x", 3)

    (batch,) = by_kind[ev.BatchRegistered]
    assert (batch.batch_id, batch.prefix_node, batch.registrant, batch.count) == (1, top, OWNER.address, 2)
    assert batch.position.tx_hash == batch_tx

    (operator,) = by_kind[ev.PrefixOperatorChanged]
    assert (operator.node, operator.operator, operator.approved, operator.name) == (
        top,
        OTHER.address,
        True,
        "88",
    )
    (status,) = by_kind[ev.PrefixStatusChanged]
    assert (status.node, status.status, status.by, status.name) == (
        child,
        ev.PrefixStatus.SUSPENDED,
        OWNER.address,
        "88.a",
    )
    (renewed,) = by_kind[ev.PrefixRenewed]
    assert (renewed.node, renewed.expiry) == (child, expiry)
    (service,) = by_kind[ev.PrefixServiceChanged]
    assert (service.resolvers, service.chain_id, service.registry) == (
        ("https://r.example.org",),
        7,
        OTHER.address,
    )
    (metadata,) = by_kind[ev.PrefixMetadataChanged]
    assert metadata.metadata_hash == b"\x05" * 32
    started = by_kind[ev.PrefixTransferStarted]
    assert [(s.owner, s.pending_owner) for s in started] == [(OWNER.address, OTHER.address)] * 2
    (cancelled,) = by_kind[ev.PrefixTransferCancelled]
    assert (cancelled.owner, cancelled.name) == (OWNER.address, "88")
    (moved,) = by_kind[ev.PrefixOwnershipTransferred]
    assert (moved.previous_owner, moved.new_owner) == (OWNER.address, OTHER.address)
    # chain order
    assert [(e.position.block_number, e.position.log_index) for e in found] == sorted(
        (e.position.block_number, e.position.log_index) for e in found
    )


def test_member_removed_and_role_changed_decode(registry_chain):  # noqa: F811
    chain = registry_chain
    chain.transact(
        ADMIN, "Consortium", "proposeChangeRole(address,uint8)", ["address", "uint8"], [OTHER.address, 3]
    )
    chain.transact(OWNER, "Consortium", "vote(uint256,bool)", ["uint256", "bool"], [1, True])
    chain.transact(ADMIN, "Consortium", "proposeRemoveMember(address)", ["address"], [OTHER.address])
    chain.transact(OWNER, "Consortium", "vote(uint256,bool)", ["uint256", "bool"], [2, True])
    found, _ = _events(chain)
    (changed,) = [e for e in found if isinstance(e, ev.MemberRoleChanged)]
    assert (changed.account, changed.previous_role, changed.role) == (
        OTHER.address,
        ev.Role.MEMBER,
        ev.Role.AUDITOR,
    )
    (removed,) = [e for e in found if isinstance(e, ev.MemberRemoved)]
    assert removed.account == OTHER.address


def test_batch_calldata_round_trip_and_refusals(registry_chain):  # noqa: F811
    chain = registry_chain
    top = chain.allocate("77")
    records = [BatchRecord(f"r{i}", (V1,)) for i in range(5)]
    chain.register_batch(top, records)
    found, _ = _events(chain)
    (batch,) = [e for e in found if isinstance(e, ev.BatchRegistered)]
    with ChainSource(chain.url, retries=0) as source:
        tx = source.transactions([batch.position.tx_hash])[batch.position.tx_hash]
    registry = chain.address_of("IdentifierRegistry")
    entries = ev.decode_batch_call(tx.input, registry, tx.to, batch)
    assert sorted(e.suffix for e in entries) == [f"r{i}" for i in range(5)]
    assert all(e.handle_key == handle_key(top, e.suffix) for e in entries)
    assert all(e.values == ((1, "URL", V1.data, int(V1.format), V1.ttl, V1.permissions),) for e in entries)
    assert all(e.commitment == commitment(e.template, encode_values([V1])) for e in entries)

    node, blob = decode(["bytes32", "bytes"], tx.input[4:])
    tampered = tx.input[:4] + encode(["bytes32", "bytes"], [node, blob[:-1] + bytes([blob[-1] ^ 1])])
    with pytest.raises(EventDecodeError, match="recordsHash"):
        ev.decode_batch_call(tampered, registry, tx.to, batch)
    with pytest.raises(EventDecodeError, match="registerBatch"):
        ev.decode_batch_call(b"\x00" * 4 + tx.input[4:], registry, tx.to, batch)
    with pytest.raises(EventDecodeError, match="prefixNode"):
        ev.decode_batch_call(tx.input, registry, tx.to, replace(batch, prefix_node=prefix_node("78")))
    with pytest.raises(BatchCalldataUnavailableError) as unavailable:
        ev.decode_batch_call(tx.input, registry, OTHER.address, batch)
    assert unavailable.value.batch_id == batch.batch_id
    with pytest.raises(BatchCalldataUnavailableError):
        ev.decode_batch_call(tx.input, registry, None, batch)


def test_unknown_logs_are_skipped_and_broken_known_logs_refused(registry_chain):  # noqa: F811
    chain = registry_chain
    chain.allocate("66")
    with ChainSource(chain.url, retries=0) as source:
        logs = source.logs(0, source.head_number(), chain.contracts.values())
    decoder = ev.EventDecoder(chain.contracts)
    registered = next(log for log in logs if log.address == chain.address_of("PrefixRegistry"))
    assert decoder.decode(replace(registered, address=OTHER.address)) is None
    assert decoder.decode(replace(registered, topics=(b"\x01" * 32, *registered.topics[1:]))) is None
    assert decoder.decode(replace(registered, topics=())) is None
    only_registry = ev.EventDecoder({"IdentifierRegistry": chain.contracts["IdentifierRegistry"]})
    assert only_registry.decode(registered) is None
    with pytest.raises(EventDecodeError, match="PrefixRegistered"):
        decoder.decode(replace(registered, data=registered.data[:-1]))
    with pytest.raises(EventDecodeError, match="topics"):
        decoder.decode(replace(registered, topics=registered.topics[:-1]))
