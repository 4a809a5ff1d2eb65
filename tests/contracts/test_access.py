"""Nothing gets in under a prefix: every state-changing function of PrefixRegistry and
IdentifierRegistry, sent by someone with no right over a prefix and its descendants, under a
suspended ancestor, or carrying reserved values (index 100/101, HS_ADMIN, HS_SITE*), is mined,
reverts with the named custom error and leaves the storage of all three contracts as it was;
and no proposal passes with fewer than ceil(2n/3) yes votes of n voters."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from eth_tester.exceptions import TransactionFailed

from idfuse_sdk.contracts.artifacts import load
from idfuse_sdk.encoding import HandleValue, encode_values
from idfuse_sdk.identifiers import handle_key, prefix_node
from tests.contracts.chain import ROLE_AUDITOR, ROLE_MEMBER, SUSPENDED, ZERO32, Chain
from tests.contracts.test_identifier_registry import PRODUCT, raw_value, raw_values, record

NODES = {"88": prefix_node("88"), "88.100": prefix_node("88.100"), "88.100.1": prefix_node("88.100.1")}
SUFFIX = "PN-1"
VALUES = encode_values([HandleValue.text(1, "URL", "https://example.com/p/1")])
UPSERT = encode_values([HandleValue.text(2, "NAME", "valve")])

# Every state-changing function, as a call on a target node by any sender.
Write = Callable[[Chain, bytes, str], Any]
WRITES: dict[tuple[str, str], Write] = {
    ("PrefixRegistry", "acceptOwnership"): lambda c, n, s: c.prefixes.functions.acceptOwnership(n),
    ("PrefixRegistry", "registerChild"): lambda c, n, s: c.prefixes.functions.registerChild(n, "x", s, 0),
    ("PrefixRegistry", "registerTopLevel"): lambda c, n, s: c.prefixes.functions.registerTopLevel("99", s, 0),
    ("PrefixRegistry", "renew"): lambda c, n, s: c.prefixes.functions.renew(n, 2**63),
    ("PrefixRegistry", "setMetadataHash"): lambda c, n, s: c.prefixes.functions.setMetadataHash(
        n, b"\x01" * 32
    ),
    ("PrefixRegistry", "setOperator"): lambda c, n, s: c.prefixes.functions.setOperator(n, s, True),
    ("PrefixRegistry", "setService"): lambda c, n, s: c.prefixes.functions.setService(
        n, c.prefixes.functions.service(n).call()
    ),
    ("PrefixRegistry", "setStatus"): lambda c, n, s: c.prefixes.functions.setStatus(n, SUSPENDED),
    ("PrefixRegistry", "transferOwnership"): lambda c, n, s: c.prefixes.functions.transferOwnership(n, s),
    ("IdentifierRegistry", "createIdentifier"): lambda c, n, s: c.identifiers.functions.createIdentifier(
        n, "PN-2", ZERO32, VALUES
    ),
    ("IdentifierRegistry", "deleteIdentifier"): lambda c, n, s: c.identifiers.functions.deleteIdentifier(
        n, SUFFIX
    ),
    ("IdentifierRegistry", "registerBatch"): lambda c, n, s: c.identifiers.functions.registerBatch(
        n, record("PN-3")
    ),
    ("IdentifierRegistry", "registerTemplate"): lambda c, n, s: c.identifiers.functions.registerTemplate(
        n, "t", 1, [PRODUCT[0].to_abi()]
    ),
    ("IdentifierRegistry", "updateIdentifier"): lambda c, n, s: c.identifiers.functions.updateIdentifier(
        n, SUFFIX, ZERO32, VALUES, UPSERT, []
    ),
}


def storage(chain: Chain) -> list[bytes]:
    """The storage roots of the three contracts."""
    state = chain.tester.backend.chain.get_vm().state
    state.make_state_root()
    return [
        bytes(state._account_db._get_storage_root(bytes.fromhex(c.address[2:])))
        for c in (chain.consortium, chain.prefixes, chain.identifiers)
    ]


def refused(chain: Chain, fn: Any, sender: str) -> tuple[str, tuple[Any, ...]]:
    """Mine ``fn`` from ``sender`` (fixed gas, no estimate); it must revert, change no storage,
    and its custom error (name, args) is returned."""
    before = storage(chain)
    try:
        chain.tester.call(
            {"from": sender, "to": fn.address, "data": fn._encode_transaction_data()}, "pending"
        )
    except TransactionFailed as exc:
        error = chain.error_of(exc)
    else:
        raise AssertionError(f"{fn.fn_name} from {sender} would succeed")
    assert error is not None, f"{fn.fn_name} reverted without a custom error"
    receipt = chain.w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender, "gas": 3_000_000}))
    assert receipt["status"] == 0
    assert storage(chain) == before
    return error


@pytest.fixture
def tree(chain: Chain, owner: str, operator: str) -> dict[str, str]:
    """88 > 88.100 > 88.100.1 owned by ``owner`` with ``operator`` on each and a handle under
    each; a sibling 86 owned (and operated) by others; an auditor. Returns the intruders."""
    intruders = {
        "stranger": chain.accounts[3],
        "sibling owner": chain.accounts[4],
        "sibling operator": chain.accounts[5],
        "auditor": chain.accounts[6],
    }
    admin = chain.admin
    chain.transact(
        chain.consortium.functions.bootstrapAddMember(intruders["auditor"], "Audit", ROLE_AUDITOR), admin
    )
    chain.transact(chain.consortium.functions.bootstrapAllocatePrefix("88", owner, 0), admin)
    chain.transact(chain.prefixes.functions.registerChild(NODES["88"], "100", owner, 0), owner)
    chain.transact(chain.prefixes.functions.registerChild(NODES["88.100"], "1", owner, 0), owner)
    for node in NODES.values():
        chain.transact(chain.prefixes.functions.setOperator(node, operator, True), owner)
        chain.transact(chain.identifiers.functions.createIdentifier(node, SUFFIX, ZERO32, VALUES), owner)
    sibling = prefix_node("86")
    chain.transact(
        chain.consortium.functions.bootstrapAllocatePrefix("86", intruders["sibling owner"], 0), admin
    )
    chain.transact(
        chain.prefixes.functions.setOperator(sibling, intruders["sibling operator"], True),
        intruders["sibling owner"],
    )
    return intruders


def test_the_table_holds_every_state_changing_function() -> None:
    abi_writes = {
        (name, item["name"])
        for name in ("PrefixRegistry", "IdentifierRegistry")
        for item in load(name).abi
        if item["type"] == "function" and item["stateMutability"] not in ("view", "pure")
    }
    assert abi_writes == set(WRITES)


def test_the_storage_check_sees_a_successful_write(chain: Chain, owner: str, tree: dict[str, str]) -> None:
    before = storage(chain)
    chain.transact(chain.prefixes.functions.setMetadataHash(NODES["88.100.1"], b"\x02" * 32), owner)
    after = storage(chain)
    assert (before[0], before[2]) == (after[0], after[2])
    assert before[1] != after[1]


@pytest.mark.parametrize("target", ["88", "88.100.1"])
@pytest.mark.parametrize("write", sorted(WRITES), ids="/".join)
def test_no_intruder_changes_anything_under_a_prefix(
    chain: Chain, tree: dict[str, str], write: tuple[str, str], target: str
) -> None:
    node = NODES[target]
    for who, intruder in tree.items():
        name, args = refused(chain, WRITES[write](chain, node, intruder), intruder)
        if write[1] == "registerTopLevel" or (write[1] in ("renew", "setStatus") and target == "88"):
            assert (name, args[0].lower()) == ("PrefixOnlyConsortium", intruder.lower()), who
        else:
            expected = "PrefixNotPendingOwner" if write[1] == "acceptOwnership" else "PrefixUnauthorized"
            assert (name, args[0], args[1].lower()) == (expected, node, intruder.lower()), who


@pytest.mark.parametrize("target", sorted(NODES))
def test_a_suspended_subtree_is_frozen_for_its_owner_and_operator(
    chain: Chain, owner: str, operator: str, tree: dict[str, str], target: str
) -> None:
    chain.transact(chain.consortium.functions.proposeSetPrefixStatus(NODES["88"], SUSPENDED), chain.admin)
    node = NODES[target]
    for write, make in WRITES.items():
        if write[1] in ("registerTopLevel", "acceptOwnership"):
            continue  # the consortium's; nobody is the pending owner
        for sender in (owner, operator):
            name, args = refused(chain, make(chain, node, sender), sender)
            if (write[1], target) in (("setStatus", "88"), ("renew", "88")):
                assert name == "PrefixOnlyConsortium", (write, name)  # a top level's status and term
            else:
                assert name == "PrefixInactive", (write, sender, name, args)
                assert (args[1], args[2]) == (NODES["88"], SUSPENDED), (write, args)


RESERVED = {
    "index 100": raw_value(100, "URL", b"x"),
    "index 101": raw_value(101, "URL", b"x"),
    "HS_ADMIN": raw_value(3, "HS_ADMIN", b"x"),
    "hs_admin": raw_value(3, "hs_admin", b"x"),
    "HS_SERV": raw_value(3, "HS_SERV", b"x"),
    "HS_SITE": raw_value(3, "HS_SITE", b"x"),
    "HS_SITE.PREFIX": raw_value(3, "HS_SITE.PREFIX", b"x"),
    "admin format": raw_value(3, "URL", b"x", fmt=3),
    "site format": raw_value(3, "URL", b"x", fmt=4),
}


@pytest.mark.parametrize("how", ["create", "update", "batch"])
@pytest.mark.parametrize("reserved", sorted(RESERVED))
def test_nobody_sets_reserved_values_directly(
    chain: Chain, owner: str, operator: str, tree: dict[str, str], reserved: str, how: str
) -> None:
    values = raw_values(RESERVED[reserved])
    node = NODES["88.100"]
    ids = chain.identifiers.functions
    fn = {
        "create": lambda: ids.createIdentifier(node, "PN-9", ZERO32, values),
        "update": lambda: ids.updateIdentifier(node, SUFFIX, ZERO32, VALUES, values, []),
        "batch": lambda: ids.registerBatch(node, record("PN-9", values)),
    }[how]()
    for sender in (owner, operator):
        name, _ = refused(chain, fn, sender)
        assert name in (
            "ValueIndexInvalid",
            "ValueTypeReserved",
            "ValueFormatInvalid",
            "BatchRecordInvalid",
        ), name
    assert ids.commitmentOf(handle_key(node, "PN-9")).call() == ZERO32


@pytest.mark.parametrize(("voters", "yes"), [(n, math.ceil(2 * n / 3) - 1) for n in range(2, 8)] + [(7, 1)])
def test_governance_never_passes_below_two_thirds(chain: Chain, voters: int, yes: int) -> None:
    members = chain.accounts[:voters]
    for account in members[1:]:
        chain.transact(
            chain.consortium.functions.bootstrapAddMember(account, "Org", ROLE_MEMBER), chain.admin
        )
    c = chain.consortium.functions
    assert c.threshold().call() == math.ceil(2 * voters / 3)
    beneficiary = chain.accounts[9]
    receipt = chain.transact(c.proposeAllocatePrefix("77", beneficiary, 0), members[0])
    (created,) = chain.events(chain.consortium, "ProposalCreated", receipt)
    pid = int(created.args.id)
    for voter in members[1:yes]:
        chain.transact(c.vote(pid, True), voter)
    assert c.proposal(pid).call()[1] == 1  # still open
    chain.time_travel(7 * 24 * 3600 + 1)
    name, _ = refused(chain, c.vote(pid, True), members[-1])  # a late yes cannot carry it
    assert name == "ConsortiumProposalPastDeadline"
    chain.transact(c.expire(pid), members[0])
    assert c.proposal(pid).call()[1] != 2  # not executed
    assert chain.prefixes.functions.prefix(prefix_node("77")).call()[4] == 0
