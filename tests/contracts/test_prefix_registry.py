"""PrefixRegistry: registration, liveness, ownership, operators, status, expiry, service
records, and the label rules of docs/data-model.md as the contract enforces them."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils import keccak

from idfuse_sdk.contracts.artifacts import load
from idfuse_sdk.identifiers import prefix_node
from tests.contracts.chain import ACTIVE, NONE, REVOKED, SUSPENDED, ZERO32, ZERO_ADDRESS, Chain

# PrefixRecord fields as prefix(node) returns them.
NAME, PARENT, OWNER, PENDING, STATUS, EXPIRY, CHANGED, METADATA = range(8)


def record(chain: Chain, node: bytes) -> tuple[Any, ...]:
    return tuple(chain.prefixes.functions.prefix(node).call())


def allocate(chain: Chain, label: str, owner: str, expiry: int = 0) -> bytes:
    receipt = chain.transact(
        chain.consortium.functions.bootstrapAllocatePrefix(label, owner, expiry), chain.admin
    )
    (event,) = chain.events(chain.prefixes, "PrefixRegistered", receipt)
    return bytes(event.args.node)


def child(chain: Chain, parent: bytes, label: str, owner: str, sender: str, expiry: int = 0) -> bytes:
    receipt = chain.transact(chain.prefixes.functions.registerChild(parent, label, owner, expiry), sender)
    (event,) = chain.events(chain.prefixes, "PrefixRegistered", receipt)
    return bytes(event.args.node)


def govern_status(chain: Chain, node: bytes, status: int) -> Any:
    """With the fixture's single voter, a proposal executes as it is opened."""
    return chain.transact(chain.consortium.functions.proposeSetPrefixStatus(node, status), chain.admin)


def govern_renew(chain: Chain, node: bytes, expiry: int) -> Any:
    return chain.transact(chain.consortium.functions.proposeRenewPrefix(node, expiry), chain.admin)


@pytest.fixture
def top(chain: Chain, owner: str) -> bytes:
    """Top-level prefix "88" owned by accounts[1]."""
    return allocate(chain, "88", owner)


# --- deployment and views -------------------------------------------------------------------


def test_consortium_view_names_the_governing_contract(chain: Chain) -> None:
    assert chain.prefixes.functions.consortium().call() == chain.consortium.address


def test_unknown_prefix_reads_as_status_none(chain: Chain) -> None:
    assert record(chain, prefix_node("nowhere")) == (
        "",
        ZERO32,
        ZERO_ADDRESS,
        ZERO_ADDRESS,
        NONE,
        0,
        0,
        ZERO32,
    )
    assert chain.prefixes.functions.service(prefix_node("nowhere")).call() == ([], 0, ZERO_ADDRESS)


# --- nodeOf and the label rules -------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["88", "88.100", "88.100.1", "Acme-1.x.Y-2", "a" * 63, "-.-", "0.1.2.3.4.5.6.7"]
)
def test_node_of_matches_the_data_model(chain: Chain, name: str) -> None:
    assert chain.prefixes.functions.nodeOf(name).call() == prefix_node(name)


def test_node_of_ignores_case(chain: Chain) -> None:
    nodes = {chain.prefixes.functions.nodeOf(n).call() for n in ("AbC.dEf", "abc.def", "ABC.DEF")}
    assert nodes == {prefix_node("abc.def")}


def test_node_of_accepts_exactly_128_bytes(chain: Chain) -> None:
    name = ".".join(["a" * 63, "b" * 62, "c"])
    assert len(name) == 128
    assert chain.prefixes.functions.nodeOf(name).call() == prefix_node(name)


@pytest.mark.parametrize(
    ("name", "error", "args"),
    [
        ("", "PrefixLabelEmpty", ()),
        ("88.", "PrefixLabelEmpty", ()),
        (".88", "PrefixLabelEmpty", ()),
        ("88..1", "PrefixLabelEmpty", ()),
        ("a" * 64, "PrefixLabelTooLong", (64, 63)),
        ("88." + "b" * 64, "PrefixLabelTooLong", (64, 63)),
        ("88.a_b", "PrefixLabelInvalidCharacter", (4, b"_")),
        ("88/1", "PrefixLabelInvalidCharacter", (2, b"/")),
        ("88 1", "PrefixLabelInvalidCharacter", (2, b" ")),
        ("ä", "PrefixLabelInvalidCharacter", (0, b"\xc3")),
        ("a" * 129, "PrefixTooLong", (129, 128)),
        (".".join(["a" * 63, "b" * 62, "cc"]), "PrefixTooLong", (129, 128)),
    ],
)
def test_node_of_refuses_malformed_prefixes(
    chain: Chain, name: str, error: str, args: tuple[Any, ...]
) -> None:
    with chain.reverts(error, *args):
        chain.prefixes.functions.nodeOf(name).call()


# --- registerTopLevel -----------------------------------------------------------------------


def test_register_top_level_through_the_consortium(chain: Chain, owner: str) -> None:
    expiry = chain.now() + 3600
    receipt = chain.transact(
        chain.consortium.functions.bootstrapAllocatePrefix("CN", owner, expiry), chain.admin
    )
    (event,) = chain.events(chain.prefixes, "PrefixRegistered", receipt)
    node = prefix_node("cn")
    assert dict(event.args) == {
        "node": node,
        "parent": ZERO32,
        "owner": owner,
        "name": "CN",
        "expiry": expiry,
    }
    assert record(chain, node) == (
        "CN",
        ZERO32,
        owner,
        ZERO_ADDRESS,
        ACTIVE,
        expiry,
        receipt.blockNumber,
        ZERO32,
    )
    chain.prefixes.functions.requireLive(node).call()


def test_register_top_level_is_consortium_only(chain: Chain, owner: str) -> None:
    with chain.reverts("PrefixOnlyConsortium", chain.admin):
        chain.transact(chain.prefixes.functions.registerTopLevel("88", owner, 0), chain.admin)


@pytest.mark.parametrize(
    ("label", "error", "args"),
    [
        ("", "PrefixLabelEmpty", ()),
        ("x" * 64, "PrefixLabelTooLong", (64, 63)),
        ("88.1", "PrefixLabelInvalidCharacter", (2, b".")),
        ("a_b", "PrefixLabelInvalidCharacter", (1, b"_")),
    ],
)
def test_register_top_level_refuses_malformed_labels(
    chain: Chain, owner: str, label: str, error: str, args: tuple[Any, ...]
) -> None:
    with chain.reverts(error, *args):
        chain.transact(chain.consortium.functions.bootstrapAllocatePrefix(label, owner, 0), chain.admin)


def test_register_top_level_accepts_a_63_byte_label(chain: Chain, owner: str) -> None:
    label = "Z" * 63
    assert allocate(chain, label, owner) == prefix_node(label)
    assert record(chain, prefix_node(label))[NAME] == label


def test_register_top_level_refuses_exact_and_case_only_duplicates(chain: Chain, owner: str) -> None:
    node = allocate(chain, "Ab", owner)
    with chain.reverts("PrefixAlreadyRegistered", node, "Ab"):
        chain.transact(chain.consortium.functions.bootstrapAllocatePrefix("Ab", owner, 0), chain.admin)
    with chain.reverts("PrefixCaseConflict", node, "Ab", "aB"):
        chain.transact(chain.consortium.functions.bootstrapAllocatePrefix("aB", owner, 0), chain.admin)


def test_register_refuses_zero_owner_and_past_expiry(chain: Chain, owner: str) -> None:
    with chain.reverts("PrefixZeroOwner"):
        chain.transact(chain.consortium.functions.bootstrapAllocatePrefix("88", ZERO_ADDRESS, 0), chain.admin)
    past = chain.now() - 1
    with chain.reverts("PrefixInvalidExpiry", prefix_node("88"), past):
        chain.transact(chain.consortium.functions.bootstrapAllocatePrefix("88", owner, past), chain.admin)


# --- registerChild --------------------------------------------------------------------------


def test_register_child_by_parent_owner(chain: Chain, top: bytes, owner: str) -> None:
    holder = chain.accounts[2]
    expiry = chain.now() + 10_000
    receipt = chain.transact(chain.prefixes.functions.registerChild(top, "100", holder, expiry), owner)
    (event,) = chain.events(chain.prefixes, "PrefixRegistered", receipt)
    node = prefix_node("88.100")
    assert dict(event.args) == {
        "node": node,
        "parent": top,
        "owner": holder,
        "name": "88.100",
        "expiry": expiry,
    }
    assert record(chain, node) == (
        "88.100",
        top,
        holder,
        ZERO_ADDRESS,
        ACTIVE,
        expiry,
        receipt.blockNumber,
        ZERO32,
    )
    grandchild = child(chain, node, "Line-1", owner, holder)
    assert grandchild == prefix_node("88.100.line-1")
    assert record(chain, grandchild)[NAME] == "88.100.Line-1"


def test_register_child_by_operator(chain: Chain, top: bytes, owner: str) -> None:
    operator = chain.accounts[4]
    chain.transact(chain.prefixes.functions.setOperator(top, operator, True), owner)
    node = child(chain, top, "7", chain.accounts[2], operator)
    assert record(chain, node)[OWNER] == chain.accounts[2]


def test_register_child_refuses_strangers_and_unknown_parents(
    chain: Chain, top: bytes, stranger: str
) -> None:
    with chain.reverts("PrefixUnauthorized", top, stranger):
        chain.transact(chain.prefixes.functions.registerChild(top, "1", stranger, 0), stranger)
    missing = prefix_node("99")
    with chain.reverts("PrefixNotFound", missing):
        chain.transact(chain.prefixes.functions.registerChild(missing, "1", stranger, 0), stranger)


@pytest.mark.parametrize(
    ("label", "error", "args"),
    [
        ("", "PrefixLabelEmpty", ()),
        ("y" * 64, "PrefixLabelTooLong", (64, 63)),
        ("a.b", "PrefixLabelInvalidCharacter", (1, b".")),
        ("bolt~1", "PrefixLabelInvalidCharacter", (4, b"~")),
    ],
)
def test_register_child_refuses_malformed_labels(
    chain: Chain, top: bytes, owner: str, label: str, error: str, args: tuple[Any, ...]
) -> None:
    with chain.reverts(error, *args):
        chain.transact(chain.prefixes.functions.registerChild(top, label, owner, 0), owner)


def test_register_child_refuses_an_over_long_prefix(chain: Chain, owner: str) -> None:
    first = allocate(chain, "a" * 63, owner)
    second = child(chain, first, "b" * 62, owner, owner)  # 126 bytes
    third = child(chain, second, "c", owner, owner)  # 128 bytes: the longest allowed
    assert len(record(chain, third)[NAME]) == 128
    with chain.reverts("PrefixTooLong", 129, 128):
        chain.transact(chain.prefixes.functions.registerChild(second, "cc", owner, 0), owner)


def test_register_child_refuses_exact_and_case_only_duplicates(chain: Chain, top: bytes, owner: str) -> None:
    node = child(chain, top, "Plant-A", owner, owner)
    with chain.reverts("PrefixAlreadyRegistered", node, "88.Plant-A"):
        chain.transact(chain.prefixes.functions.registerChild(top, "Plant-A", owner, 0), owner)
    with chain.reverts("PrefixCaseConflict", node, "88.Plant-A", "88.plant-a"):
        chain.transact(chain.prefixes.functions.registerChild(top, "plant-a", owner, 0), owner)


def test_register_child_refuses_zero_owner_and_past_expiry(chain: Chain, top: bytes, owner: str) -> None:
    with chain.reverts("PrefixZeroOwner"):
        chain.transact(chain.prefixes.functions.registerChild(top, "1", ZERO_ADDRESS, 0), owner)
    past = chain.now() - 1
    with chain.reverts("PrefixInvalidExpiry", prefix_node("88.1"), past):
        chain.transact(chain.prefixes.functions.registerChild(top, "1", owner, past), owner)


# --- liveness -------------------------------------------------------------------------------


def test_suspended_ancestor_freezes_the_subtree(chain: Chain, top: bytes, owner: str) -> None:
    mid = child(chain, top, "100", owner, owner)
    leaf = child(chain, mid, "1", owner, owner)
    govern_status(chain, top, SUSPENDED)
    for node in (top, mid, leaf):
        with chain.reverts("PrefixInactive", node, top, SUSPENDED):
            chain.transact(chain.prefixes.functions.registerChild(node, "x", owner, 0), owner)
        with chain.reverts("PrefixInactive", node, top, SUSPENDED):
            chain.prefixes.functions.requireLive(node).call()
        with chain.reverts("PrefixInactive", node, top, SUSPENDED):
            chain.prefixes.functions.requireWritable(node, owner).call()
    govern_status(chain, top, ACTIVE)
    chain.prefixes.functions.requireLive(leaf).call()
    chain.prefixes.functions.requireWritable(leaf, owner).call()


def test_revoked_prefix_blocks_its_owner_and_children(chain: Chain, top: bytes, owner: str) -> None:
    mid = child(chain, top, "100", chain.accounts[2], owner)
    chain.transact(chain.prefixes.functions.setStatus(mid, REVOKED), owner)
    with chain.reverts("PrefixInactive", mid, mid, REVOKED):
        chain.transact(chain.prefixes.functions.registerChild(mid, "1", owner, 0), chain.accounts[2])
    with chain.reverts("PrefixInactive", mid, mid, REVOKED):
        chain.transact(chain.prefixes.functions.setMetadataHash(mid, keccak(b"x")), chain.accounts[2])
    # the parent itself is untouched
    child(chain, top, "101", owner, owner)


def test_nearest_blocking_ancestor_is_reported(chain: Chain, top: bytes, owner: str) -> None:
    mid = child(chain, top, "100", owner, owner)
    leaf = child(chain, mid, "1", owner, owner)
    chain.transact(chain.prefixes.functions.setStatus(mid, REVOKED), owner)
    govern_status(chain, top, SUSPENDED)
    with chain.reverts("PrefixInactive", leaf, mid, REVOKED):
        chain.prefixes.functions.requireLive(leaf).call()


def test_expired_prefix_is_not_live(chain: Chain, owner: str) -> None:
    expiry = chain.now() + 100
    top = allocate(chain, "88", owner, expiry)
    leaf = child(chain, top, "1", owner, owner)
    chain.time_travel(200)
    for node in (top, leaf):
        with chain.reverts("PrefixExpired", node, top, expiry):
            chain.transact(chain.prefixes.functions.registerChild(node, "x", owner, 0), owner)
        with chain.reverts("PrefixExpired", node, top, expiry):
            chain.prefixes.functions.requireLive(node).call()
    # governance renews it, and the subtree is live again
    later = chain.now() + 10_000
    receipt = govern_renew(chain, top, later)
    (event,) = chain.events(chain.prefixes, "PrefixRenewed", receipt)
    assert dict(event.args) == {"node": top, "expiry": later, "name": "88"}
    chain.prefixes.functions.requireLive(leaf).call()


def test_expired_child_is_reported_before_its_parent(chain: Chain, top: bytes, owner: str) -> None:
    expiry = chain.now() + 50
    leaf = child(chain, top, "1", owner, owner, expiry)
    chain.time_travel(100)
    with chain.reverts("PrefixExpired", leaf, leaf, expiry):
        chain.prefixes.functions.requireLive(leaf).call()
    chain.prefixes.functions.requireLive(top).call()


def test_require_writable(chain: Chain, top: bytes, owner: str, stranger: str) -> None:
    operator = chain.accounts[4]
    chain.prefixes.functions.requireWritable(top, owner).call()
    with chain.reverts("PrefixUnauthorized", top, operator):
        chain.prefixes.functions.requireWritable(top, operator).call()
    chain.transact(chain.prefixes.functions.setOperator(top, operator, True), owner)
    chain.prefixes.functions.requireWritable(top, operator).call()
    with chain.reverts("PrefixUnauthorized", top, stranger):
        chain.prefixes.functions.requireWritable(top, stranger).call()
    with chain.reverts("PrefixNotFound", prefix_node("99")):
        chain.prefixes.functions.requireWritable(prefix_node("99"), owner).call()
    with chain.reverts("PrefixNotFound", prefix_node("99")):
        chain.prefixes.functions.requireLive(prefix_node("99")).call()


# --- ownership ------------------------------------------------------------------------------


def test_two_step_transfer(chain: Chain, top: bytes, owner: str) -> None:
    successor = chain.accounts[5]
    receipt = chain.transact(chain.prefixes.functions.transferOwnership(top, successor), owner)
    (event,) = chain.events(chain.prefixes, "PrefixTransferStarted", receipt)
    assert dict(event.args) == {"node": top, "owner": owner, "pendingOwner": successor, "name": "88"}
    assert record(chain, top)[OWNER : CHANGED + 1] == (owner, successor, ACTIVE, 0, receipt.blockNumber)

    receipt = chain.transact(chain.prefixes.functions.acceptOwnership(top), successor)
    (event,) = chain.events(chain.prefixes, "PrefixOwnershipTransferred", receipt)
    assert dict(event.args) == {"node": top, "previousOwner": owner, "newOwner": successor, "name": "88"}
    assert record(chain, top)[OWNER : CHANGED + 1] == (
        successor,
        ZERO_ADDRESS,
        ACTIVE,
        0,
        receipt.blockNumber,
    )
    with chain.reverts("PrefixUnauthorized", top, owner):
        chain.transact(chain.prefixes.functions.registerChild(top, "1", owner, 0), owner)
    child(chain, top, "1", successor, successor)


def test_transfer_is_owner_only_and_acceptance_pending_owner_only(
    chain: Chain, top: bytes, owner: str, stranger: str
) -> None:
    successor = chain.accounts[5]
    with chain.reverts("PrefixUnauthorized", top, stranger):
        chain.transact(chain.prefixes.functions.transferOwnership(top, stranger), stranger)
    with chain.reverts("PrefixNotPendingOwner", top, successor):
        chain.transact(chain.prefixes.functions.acceptOwnership(top), successor)
    chain.transact(chain.prefixes.functions.transferOwnership(top, successor), owner)
    for wrong in (stranger, owner):
        with chain.reverts("PrefixNotPendingOwner", top, wrong):
            chain.transact(chain.prefixes.functions.acceptOwnership(top), wrong)


def test_transfer_to_zero_cancels(chain: Chain, top: bytes, owner: str) -> None:
    successor = chain.accounts[5]
    chain.transact(chain.prefixes.functions.transferOwnership(top, successor), owner)
    receipt = chain.transact(chain.prefixes.functions.transferOwnership(top, ZERO_ADDRESS), owner)
    (event,) = chain.events(chain.prefixes, "PrefixTransferCancelled", receipt)
    assert dict(event.args) == {"node": top, "owner": owner, "name": "88"}
    assert chain.events(chain.prefixes, "PrefixTransferStarted", receipt) == []
    assert record(chain, top)[PENDING] == ZERO_ADDRESS
    assert record(chain, top)[CHANGED] == receipt.blockNumber
    with chain.reverts("PrefixNotPendingOwner", top, successor):
        chain.transact(chain.prefixes.functions.acceptOwnership(top), successor)


def test_transfer_and_acceptance_need_a_live_prefix(chain: Chain, top: bytes, owner: str) -> None:
    successor = chain.accounts[5]
    chain.transact(chain.prefixes.functions.transferOwnership(top, successor), owner)
    govern_status(chain, top, SUSPENDED)
    with chain.reverts("PrefixInactive", top, top, SUSPENDED):
        chain.transact(chain.prefixes.functions.acceptOwnership(top), successor)
    with chain.reverts("PrefixInactive", top, top, SUSPENDED):
        chain.transact(chain.prefixes.functions.transferOwnership(top, ZERO_ADDRESS), owner)
    with chain.reverts("PrefixNotFound", prefix_node("99")):
        chain.transact(chain.prefixes.functions.acceptOwnership(prefix_node("99")), successor)


# --- operators ------------------------------------------------------------------------------


def test_set_operator(chain: Chain, top: bytes, owner: str) -> None:
    operator = chain.accounts[4]
    receipt = chain.transact(chain.prefixes.functions.setOperator(top, operator, True), owner)
    (event,) = chain.events(chain.prefixes, "PrefixOperatorChanged", receipt)
    assert dict(event.args) == {"node": top, "operator": operator, "approved": True, "name": "88"}
    assert chain.prefixes.functions.isOperator(top, operator).call() is True
    assert record(chain, top)[CHANGED] == receipt.blockNumber

    # an operator registers children but does not administer the prefix
    with chain.reverts("PrefixUnauthorized", top, operator):
        chain.transact(chain.prefixes.functions.setOperator(top, chain.accounts[6], True), operator)
    with chain.reverts("PrefixUnauthorized", top, operator):
        chain.transact(chain.prefixes.functions.transferOwnership(top, operator), operator)

    receipt = chain.transact(chain.prefixes.functions.setOperator(top, operator, False), owner)
    (event,) = chain.events(chain.prefixes, "PrefixOperatorChanged", receipt)
    assert event.args.approved is False
    assert chain.prefixes.functions.isOperator(top, operator).call() is False
    with chain.reverts("PrefixUnauthorized", top, operator):
        chain.transact(chain.prefixes.functions.registerChild(top, "1", operator, 0), operator)


def test_set_operator_is_owner_only_on_a_live_prefix(
    chain: Chain, top: bytes, owner: str, stranger: str
) -> None:
    with chain.reverts("PrefixUnauthorized", top, stranger):
        chain.transact(chain.prefixes.functions.setOperator(top, stranger, True), stranger)
    govern_status(chain, top, REVOKED)
    with chain.reverts("PrefixInactive", top, top, REVOKED):
        chain.transact(chain.prefixes.functions.setOperator(top, stranger, True), owner)


def test_operators_are_per_node(chain: Chain, top: bytes, owner: str) -> None:
    operator = chain.accounts[4]
    sub = child(chain, top, "1", owner, owner)
    chain.transact(chain.prefixes.functions.setOperator(top, operator, True), owner)
    assert chain.prefixes.functions.isOperator(sub, operator).call() is False
    with chain.reverts("PrefixUnauthorized", sub, operator):
        chain.transact(chain.prefixes.functions.registerChild(sub, "2", operator, 0), operator)


def test_completed_transfer_clears_operators(chain: Chain, top: bytes, owner: str) -> None:
    operator, successor = chain.accounts[4], chain.accounts[5]
    chain.transact(chain.prefixes.functions.setOperator(top, operator, True), owner)
    chain.transact(chain.prefixes.functions.transferOwnership(top, successor), owner)
    assert chain.prefixes.functions.isOperator(top, operator).call() is True  # pending only
    chain.transact(chain.prefixes.functions.acceptOwnership(top), successor)
    assert chain.prefixes.functions.isOperator(top, operator).call() is False
    with chain.reverts("PrefixUnauthorized", top, operator):
        chain.transact(chain.prefixes.functions.registerChild(top, "1", operator, 0), operator)
    chain.transact(chain.prefixes.functions.setOperator(top, operator, True), successor)
    assert chain.prefixes.functions.isOperator(top, operator).call() is True


# --- status ---------------------------------------------------------------------------------


def test_parent_owner_sets_child_status(chain: Chain, top: bytes, owner: str) -> None:
    holder = chain.accounts[2]
    sub = child(chain, top, "100", holder, owner)
    for status in (SUSPENDED, REVOKED, ACTIVE):
        receipt = chain.transact(chain.prefixes.functions.setStatus(sub, status), owner)
        (event,) = chain.events(chain.prefixes, "PrefixStatusChanged", receipt)
        assert dict(event.args) == {"node": sub, "status": status, "by": owner, "name": "88.100"}
        assert record(chain, sub)[STATUS] == status
        assert record(chain, sub)[CHANGED] == receipt.blockNumber


def test_set_status_refuses_none_and_unchanged(chain: Chain, top: bytes, owner: str) -> None:
    sub = child(chain, top, "1", owner, owner)
    with chain.reverts("PrefixInvalidStatus", sub, ACTIVE):
        chain.transact(chain.prefixes.functions.setStatus(sub, ACTIVE), owner)
    with chain.reverts("PrefixInvalidStatus", sub, NONE):
        chain.transact(chain.prefixes.functions.setStatus(sub, NONE), owner)


def test_set_status_authority(chain: Chain, top: bytes, owner: str, stranger: str) -> None:
    holder, operator = chain.accounts[2], chain.accounts[4]
    sub = child(chain, top, "1", holder, owner)
    chain.transact(chain.prefixes.functions.setOperator(top, operator, True), owner)
    # top-level: the Consortium only, not even its owner
    with chain.reverts("PrefixOnlyConsortium", owner):
        chain.transact(chain.prefixes.functions.setStatus(top, SUSPENDED), owner)
    # child: not its own owner, not the parent's operator, not a stranger
    for caller in (holder, operator, stranger):
        with chain.reverts("PrefixUnauthorized", sub, caller):
            chain.transact(chain.prefixes.functions.setStatus(sub, SUSPENDED), caller)
    with chain.reverts("PrefixNotFound", prefix_node("99")):
        chain.transact(chain.prefixes.functions.setStatus(prefix_node("99"), SUSPENDED), owner)


def test_parent_owner_needs_a_live_parent(chain: Chain, top: bytes, owner: str) -> None:
    sub = child(chain, top, "1", owner, owner)
    govern_status(chain, top, SUSPENDED)
    with chain.reverts("PrefixInactive", top, top, SUSPENDED):
        chain.transact(chain.prefixes.functions.setStatus(sub, SUSPENDED), owner)
    with chain.reverts("PrefixInactive", top, top, SUSPENDED):
        chain.transact(chain.prefixes.functions.renew(sub, 0), owner)


def test_consortium_sets_status_anywhere_even_in_a_dead_subtree(chain: Chain, top: bytes, owner: str) -> None:
    sub = child(chain, top, "1", owner, owner)
    govern_status(chain, top, REVOKED)
    receipt = govern_status(chain, sub, SUSPENDED)
    (event,) = chain.events(chain.prefixes, "PrefixStatusChanged", receipt)
    assert dict(event.args) == {
        "node": sub,
        "status": SUSPENDED,
        "by": chain.consortium.address,
        "name": "88.1",
    }
    assert record(chain, sub)[STATUS] == SUSPENDED


# --- renew ----------------------------------------------------------------------------------


def test_parent_owner_renews_child(chain: Chain, top: bytes, owner: str) -> None:
    sub = child(chain, top, "1", chain.accounts[2], owner, chain.now() + 100)
    later = chain.now() + 1_000_000
    receipt = chain.transact(chain.prefixes.functions.renew(sub, later), owner)
    (event,) = chain.events(chain.prefixes, "PrefixRenewed", receipt)
    assert dict(event.args) == {"node": sub, "expiry": later, "name": "88.1"}
    assert record(chain, sub)[EXPIRY : CHANGED + 1] == (later, receipt.blockNumber)
    chain.transact(chain.prefixes.functions.renew(sub, 0), owner)
    assert record(chain, sub)[EXPIRY] == 0


def test_renew_refuses_past_expiry_and_unauthorised_callers(
    chain: Chain, top: bytes, owner: str, stranger: str
) -> None:
    sub = child(chain, top, "1", chain.accounts[2], owner)
    past = chain.now() - 1
    with chain.reverts("PrefixInvalidExpiry", sub, past):
        chain.transact(chain.prefixes.functions.renew(sub, past), owner)
    with chain.reverts("PrefixUnauthorized", sub, chain.accounts[2]):
        chain.transact(chain.prefixes.functions.renew(sub, 0), chain.accounts[2])
    with chain.reverts("PrefixUnauthorized", sub, stranger):
        chain.transact(chain.prefixes.functions.renew(sub, 0), stranger)
    with chain.reverts("PrefixOnlyConsortium", owner):
        chain.transact(chain.prefixes.functions.renew(top, 0), owner)
    with chain.reverts("PrefixNotFound", prefix_node("99")):
        chain.transact(chain.prefixes.functions.renew(prefix_node("99"), 0), owner)


def test_parent_owner_revives_an_expired_child(chain: Chain, top: bytes, owner: str) -> None:
    sub = child(chain, top, "1", owner, owner, chain.now() + 10)
    chain.time_travel(20)
    with chain.reverts("PrefixExpired", sub, sub, record(chain, sub)[EXPIRY]):
        chain.prefixes.functions.requireLive(sub).call()
    chain.transact(chain.prefixes.functions.renew(sub, 0), owner)
    chain.prefixes.functions.requireLive(sub).call()


# --- service record and metadata ------------------------------------------------------------


def test_set_service(chain: Chain, top: bytes, owner: str) -> None:
    resolvers = ["https://r1.example.org/api", "https://r2.example.org"]
    remote = chain.accounts[7]
    receipt = chain.transact(chain.prefixes.functions.setService(top, (resolvers, 4242, remote)), owner)
    (event,) = chain.events(chain.prefixes, "PrefixServiceChanged", receipt)
    assert dict(event.args) == {
        "node": top,
        "resolvers": resolvers,
        "chainId": 4242,
        "registry": remote,
        "name": "88",
    }
    assert chain.prefixes.functions.service(top).call() == (resolvers, 4242, remote)
    assert record(chain, top)[CHANGED] == receipt.blockNumber
    # a shorter record replaces the longer one entirely
    chain.transact(
        chain.prefixes.functions.setService(top, (["https://only.example"], 0, ZERO_ADDRESS)), owner
    )
    assert chain.prefixes.functions.service(top).call() == (["https://only.example"], 0, ZERO_ADDRESS)
    chain.transact(chain.prefixes.functions.setService(top, ([], 0, ZERO_ADDRESS)), owner)
    assert chain.prefixes.functions.service(top).call() == ([], 0, ZERO_ADDRESS)


def test_set_service_accepts_the_limits(chain: Chain, top: bytes, owner: str) -> None:
    resolvers = ["u" * 256] + [f"https://r{i}" for i in range(7)]
    chain.transact(chain.prefixes.functions.setService(top, (resolvers, 0, ZERO_ADDRESS)), owner)
    assert chain.prefixes.functions.service(top).call()[0] == resolvers


@pytest.mark.parametrize(
    ("resolvers", "chain_id", "remote", "count"),
    [
        ([f"https://r{i}" for i in range(9)], 0, False, 9),
        ([""], 0, False, 1),
        (["https://ok", "u" * 257], 0, False, 2),
        (["https://ok"], 5, False, 1),
        (["https://ok"], 0, True, 1),
        ([], 7, False, 0),
    ],
)
def test_set_service_refuses_malformed_records(
    chain: Chain, top: bytes, owner: str, resolvers: list[str], chain_id: int, remote: bool, count: int
) -> None:
    registry = chain.accounts[7] if remote else ZERO_ADDRESS
    with chain.reverts("PrefixInvalidService", count):
        chain.transact(chain.prefixes.functions.setService(top, (resolvers, chain_id, registry)), owner)


def test_set_service_is_owner_only_on_a_live_prefix(chain: Chain, top: bytes, owner: str) -> None:
    operator = chain.accounts[4]
    chain.transact(chain.prefixes.functions.setOperator(top, operator, True), owner)
    with chain.reverts("PrefixUnauthorized", top, operator):
        chain.transact(chain.prefixes.functions.setService(top, ([], 0, ZERO_ADDRESS)), operator)
    govern_status(chain, top, SUSPENDED)
    with chain.reverts("PrefixInactive", top, top, SUSPENDED):
        chain.transact(chain.prefixes.functions.setService(top, ([], 0, ZERO_ADDRESS)), owner)


def test_set_metadata_hash(chain: Chain, top: bytes, owner: str, stranger: str) -> None:
    digest = keccak(b"registration dossier v1")
    receipt = chain.transact(chain.prefixes.functions.setMetadataHash(top, digest), owner)
    (event,) = chain.events(chain.prefixes, "PrefixMetadataChanged", receipt)
    assert dict(event.args) == {"node": top, "metadataHash": digest, "name": "88"}
    assert record(chain, top)[METADATA:] == (digest,)
    assert record(chain, top)[CHANGED] == receipt.blockNumber
    with chain.reverts("PrefixUnauthorized", top, stranger):
        chain.transact(chain.prefixes.functions.setMetadataHash(top, digest), stranger)
    expired_top = allocate(chain, "77", owner, chain.now() + 10)
    chain.time_travel(20)
    with chain.reverts("PrefixExpired", expired_top, expired_top, record(chain, expired_top)[EXPIRY]):
        chain.transact(chain.prefixes.functions.setMetadataHash(expired_top, digest), owner)


# --- the deployable artifact ---------------------------------------------------------------


def test_abi_is_exactly_the_interface() -> None:
    """Every external function is IPrefixRegistry's (and so tested above): none added."""
    abi = load("PrefixRegistry").abi
    functions = {item["name"] for item in abi if item["type"] == "function"}
    assert functions == {
        "acceptOwnership",
        "consortium",
        "isOperator",
        "nodeOf",
        "prefix",
        "registerChild",
        "registerTopLevel",
        "renew",
        "requireLive",
        "requireWritable",
        "service",
        "setMetadataHash",
        "setOperator",
        "setService",
        "setStatus",
        "transferOwnership",
    }
