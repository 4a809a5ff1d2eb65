"""Consortium: bootstrap, membership, proposals and 2/3 voting, deadlines, and the prefix
actions governance carries out through the PrefixRegistry."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode

from idfuse_sdk.contracts.artifacts import load
from idfuse_sdk.identifiers import prefix_node
from tests.contracts.chain import (
    REVOKED,
    ROLE_AUDITOR,
    ROLE_MEMBER,
    ROLE_VALIDATOR,
    SUSPENDED,
    VOTING_PERIOD,
    ZERO32,
    ZERO_ADDRESS,
    Chain,
)

ROLE_NONE = 0
NONE, OPEN, EXECUTED, REJECTED, EXPIRED = range(5)
ADD_MEMBER, REMOVE_MEMBER, CHANGE_ROLE, ALLOCATE_PREFIX, SET_PREFIX_STATUS, RENEW_PREFIX = range(6)
# Proposal fields as proposal(id) returns them.
KIND, STATE, PROPOSER, DEADLINE, YES, NO, DATA = range(7)


def add_member(chain: Chain, account: str, role: int = ROLE_MEMBER, organisation: str = "Org") -> Any:
    return chain.transact(
        chain.consortium.functions.bootstrapAddMember(account, organisation, role), chain.admin
    )


def with_voters(chain: Chain, count: int) -> list[str]:
    """accounts[0] (the fixture's validator) plus members accounts[1..count-1]."""
    for account in chain.accounts[1:count]:
        add_member(chain, account)
    return chain.accounts[:count]


def opened(chain: Chain, receipt: Any) -> int:
    (event,) = chain.events(chain.consortium, "ProposalCreated", receipt)
    return int(event.args.id)


def proposal(chain: Chain, pid: int) -> tuple[Any, ...]:
    return tuple(chain.consortium.functions.proposal(pid).call())


def state(chain: Chain, pid: int) -> int:
    return int(proposal(chain, pid)[STATE])


def vote(chain: Chain, pid: int, voter: str, support: bool = True) -> Any:
    return chain.transact(chain.consortium.functions.vote(pid, support), voter)


def role_of(chain: Chain, account: str) -> int:
    return int(chain.consortium.functions.member(account).call()[0])


def deploy_consortium(chain: Chain, *args: Any) -> tuple[Any, Any]:
    artifact = load("Consortium")
    factory = chain.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx = factory.constructor(*args).transact({"from": chain.admin, "gas": 30_000_000})
    receipt = chain.w3.eth.wait_for_transaction_receipt(tx)
    return chain.w3.eth.contract(address=receipt.contractAddress, abi=artifact.abi), receipt


def constructor_gas(chain: Chain, *args: Any) -> int:
    artifact = load("Consortium")
    factory = chain.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    return int(factory.constructor(*args).estimate_gas({"from": chain.admin}))


# --- construction and views -----------------------------------------------------------------


def test_fixture_state(chain: Chain) -> None:
    c = chain.consortium.functions
    assert c.members().call() == [chain.admin]
    assert c.member(chain.admin).call() == (ROLE_VALIDATOR, "Bootstrap Org")
    assert c.votingMembers().call() == 1
    assert c.threshold().call() == 1
    assert c.bootstrapAdmin().call() == chain.admin
    assert c.registry().call() == chain.prefixes.address
    assert c.votingPeriod().call() == VOTING_PERIOD
    assert c.proposalCount().call() == 0
    assert c.isAllowedSender(chain.admin).call() is True
    assert c.isAllowedSender(chain.accounts[1]).call() is False
    assert c.isAllowedSender(ZERO_ADDRESS).call() is False
    assert c.member(chain.accounts[1]).call() == (ROLE_NONE, "")


def test_constructor_emits_member_added_and_voting_period(chain: Chain) -> None:
    admin = chain.accounts[5]
    consortium, receipt = deploy_consortium(chain, admin, "Founding Org", ROLE_MEMBER, 3600)
    (added,) = chain.events(consortium, "MemberAdded", receipt)
    assert dict(added.args) == {"account": admin, "organisation": "Founding Org", "role": ROLE_MEMBER}
    (period,) = chain.events(consortium, "VotingPeriodChanged", receipt)
    assert period.args.votingPeriod == 3600
    assert consortium.functions.bootstrapAdmin().call() == admin
    assert consortium.functions.members().call() == [admin]
    assert consortium.functions.registry().call() == ZERO_ADDRESS
    # the 90-day bound is inclusive too
    assert constructor_gas(chain, admin, "Org", ROLE_VALIDATOR, 90 * 86400) > 0


@pytest.mark.parametrize(
    ("args", "error", "error_args"),
    [
        ((None, "Org", ROLE_AUDITOR, VOTING_PERIOD), "ConsortiumInvalidRole", (ROLE_AUDITOR,)),
        ((None, "Org", ROLE_NONE, VOTING_PERIOD), "ConsortiumInvalidRole", (ROLE_NONE,)),
        ((None, "Org", ROLE_VALIDATOR, 3599), "ConsortiumInvalidVotingPeriod", (3599,)),
        ((None, "Org", ROLE_VALIDATOR, 90 * 86400 + 1), "ConsortiumInvalidVotingPeriod", (90 * 86400 + 1,)),
        ((None, "", ROLE_VALIDATOR, VOTING_PERIOD), "ConsortiumInvalidOrganisation", (0,)),
        ((ZERO_ADDRESS, "Org", ROLE_VALIDATOR, VOTING_PERIOD), "ConsortiumZeroAddress", ()),
    ],
)
def test_constructor_refuses(
    chain: Chain, args: tuple[Any, ...], error: str, error_args: tuple[Any, ...]
) -> None:
    admin = args[0] if args[0] is not None else chain.accounts[5]
    with chain.reverts(error, *error_args):
        constructor_gas(chain, admin, *args[1:])


# --- bootstrap ------------------------------------------------------------------------------


def test_bind_registry_once(chain: Chain) -> None:
    consortium, _ = deploy_consortium(chain, chain.admin, "Org", ROLE_VALIDATOR, VOTING_PERIOD)
    stranger = chain.accounts[3]
    with chain.reverts("ConsortiumNotBootstrapAdmin", stranger):
        chain.transact(consortium.functions.bindRegistry(chain.prefixes.address), stranger)
    with chain.reverts("ConsortiumZeroAddress"):
        chain.transact(consortium.functions.bindRegistry(ZERO_ADDRESS), chain.admin)
    receipt = chain.transact(consortium.functions.bindRegistry(chain.prefixes.address), chain.admin)
    (event,) = chain.events(consortium, "RegistryBound", receipt)
    assert event.args.registry == chain.prefixes.address
    assert consortium.functions.registry().call() == chain.prefixes.address
    with chain.reverts("ConsortiumRegistryAlreadyBound", chain.prefixes.address):
        chain.transact(consortium.functions.bindRegistry(chain.accounts[4]), chain.admin)


def test_prefix_actions_need_a_bound_registry(chain: Chain) -> None:
    consortium, _ = deploy_consortium(chain, chain.admin, "Org", ROLE_VALIDATOR, VOTING_PERIOD)
    owner = chain.accounts[1]
    with chain.reverts("ConsortiumRegistryNotBound"):
        chain.transact(consortium.functions.bootstrapAllocatePrefix("88", owner, 0), chain.admin)
    # a single voter executes on proposing, so execution's check surfaces at once
    with chain.reverts("ConsortiumRegistryNotBound"):
        chain.transact(consortium.functions.proposeAllocatePrefix("88", owner, 0), chain.admin)
    with chain.reverts("ConsortiumRegistryNotBound"):
        chain.transact(consortium.functions.proposeSetPrefixStatus(prefix_node("88"), SUSPENDED), chain.admin)
    with chain.reverts("ConsortiumRegistryNotBound"):
        chain.transact(consortium.functions.proposeRenewPrefix(prefix_node("88"), 0), chain.admin)


def test_bootstrap_add_member(chain: Chain) -> None:
    alice, bob, carol = chain.accounts[1:4]
    receipt = add_member(chain, alice, ROLE_VALIDATOR, "Alice Ltd")
    (event,) = chain.events(chain.consortium, "MemberAdded", receipt)
    assert dict(event.args) == {"account": alice, "organisation": "Alice Ltd", "role": ROLE_VALIDATOR}
    add_member(chain, bob, ROLE_AUDITOR, "B" * 128)
    add_member(chain, carol, ROLE_MEMBER)
    c = chain.consortium.functions
    assert c.members().call() == [chain.admin, alice, bob, carol]
    assert c.member(bob).call() == (ROLE_AUDITOR, "B" * 128)
    assert c.votingMembers().call() == 3
    assert c.threshold().call() == 2
    assert all(c.isAllowedSender(a).call() for a in (alice, bob, carol))


@pytest.mark.parametrize(
    ("account", "organisation", "role", "error", "error_args"),
    [
        (ZERO_ADDRESS, "Org", ROLE_MEMBER, "ConsortiumZeroAddress", ()),
        ("admin", "Org", ROLE_MEMBER, "ConsortiumAlreadyMember", ("admin",)),
        ("new", "Org", ROLE_NONE, "ConsortiumInvalidRole", (ROLE_NONE,)),
        ("new", "", ROLE_MEMBER, "ConsortiumInvalidOrganisation", (0,)),
        ("new", "x" * 129, ROLE_MEMBER, "ConsortiumInvalidOrganisation", (129,)),
    ],
)
def test_new_member_checks(
    chain: Chain, account: str, organisation: str, role: int, error: str, error_args: tuple[Any, ...]
) -> None:
    """The same checks guard bootstrapAddMember and proposeAddMember."""
    names = {"admin": chain.admin, "new": chain.accounts[6]}
    account = names.get(account, account)
    expected = tuple(names.get(a, a) for a in error_args)
    with chain.reverts(error, *expected):
        chain.transact(
            chain.consortium.functions.bootstrapAddMember(account, organisation, role), chain.admin
        )
    with chain.reverts(error, *expected):
        chain.transact(chain.consortium.functions.proposeAddMember(account, organisation, role), chain.admin)
    assert chain.consortium.functions.proposalCount().call() == 0


def test_bootstrap_powers_are_admin_only(chain: Chain) -> None:
    member = chain.accounts[1]
    add_member(chain, member, ROLE_VALIDATOR)
    c = chain.consortium.functions
    for fn in (
        c.bootstrapAddMember(chain.accounts[2], "Org", ROLE_MEMBER),
        c.bootstrapAllocatePrefix("88", member, 0),
        c.renounceBootstrap(),
        c.bindRegistry(chain.accounts[2]),
    ):
        with chain.reverts("ConsortiumNotBootstrapAdmin", member):
            chain.transact(fn, member)


def test_bootstrap_allocate_prefix(chain: Chain) -> None:
    owner = chain.accounts[1]
    receipt = chain.transact(chain.consortium.functions.bootstrapAllocatePrefix("88", owner, 0), chain.admin)
    (event,) = chain.events(chain.prefixes, "PrefixRegistered", receipt)
    assert (event.args.node, event.args.name, event.args.owner) == (prefix_node("88"), "88", owner)
    assert chain.consortium.functions.bootstrapAllocatePrefix("86", owner, 0).call(
        {"from": chain.admin}
    ) == prefix_node("86")


def test_renounce_ends_bootstrap_powers(chain: Chain) -> None:
    c = chain.consortium.functions
    receipt = chain.transact(c.renounceBootstrap(), chain.admin)
    (event,) = chain.events(chain.consortium, "BootstrapRenounced", receipt)
    assert event.args.admin == chain.admin
    assert c.bootstrapAdmin().call() == ZERO_ADDRESS
    for fn in (
        c.bootstrapAddMember(chain.accounts[2], "Org", ROLE_MEMBER),
        c.bootstrapAllocatePrefix("88", chain.admin, 0),
        c.renounceBootstrap(),
        c.bindRegistry(chain.accounts[2]),
    ):
        with chain.reverts("ConsortiumNotBootstrapAdmin", chain.admin):
            chain.transact(fn, chain.admin)
    # still a member, so still an allowed sender and a voter
    assert c.isAllowedSender(chain.admin).call() is True
    assert c.isAllowedSender(ZERO_ADDRESS).call() is False
    pid = opened(
        chain, chain.transact(c.proposeAddMember(chain.accounts[2], "Org", ROLE_MEMBER), chain.admin)
    )
    assert state(chain, pid) == EXECUTED


def test_bootstrap_admin_is_allowed_until_renouncing_even_when_not_a_member(chain: Chain) -> None:
    alice = chain.accounts[1]
    add_member(chain, alice, ROLE_VALIDATOR)
    pid = opened(chain, chain.transact(chain.consortium.functions.proposeRemoveMember(chain.admin), alice))
    vote(chain, pid, chain.admin)
    c = chain.consortium.functions
    assert c.member(chain.admin).call() == (ROLE_NONE, "")
    assert c.isAllowedSender(chain.admin).call() is True
    add_member(chain, chain.accounts[2])  # bootstrap powers outlive membership
    with chain.reverts("ConsortiumNotMember", chain.admin):
        chain.transact(c.proposeAddMember(chain.accounts[3], "Org", ROLE_MEMBER), chain.admin)
    chain.transact(c.renounceBootstrap(), chain.admin)
    assert c.isAllowedSender(chain.admin).call() is False


# --- proposing and voting -------------------------------------------------------------------


def test_single_voter_executes_on_proposing(chain: Chain) -> None:
    new = chain.accounts[1]
    receipt = chain.transact(
        chain.consortium.functions.proposeAddMember(new, "New Org", ROLE_VALIDATOR), chain.admin
    )
    (created,) = chain.events(chain.consortium, "ProposalCreated", receipt)
    timestamp = chain.w3.eth.get_block(receipt.blockNumber).timestamp
    data = encode(["address", "string", "uint8"], [new, "New Org", ROLE_VALIDATOR])
    assert dict(created.args) == {
        "id": 1,
        "kind": ADD_MEMBER,
        "proposer": chain.admin,
        "data": data,
        "deadline": timestamp + VOTING_PERIOD,
    }
    (cast,) = chain.events(chain.consortium, "VoteCast", receipt)
    assert dict(cast.args) == {"id": 1, "voter": chain.admin, "support": True, "yes": 1, "no": 0}
    (added,) = chain.events(chain.consortium, "MemberAdded", receipt)
    assert added.args.account == new
    (executed,) = chain.events(chain.consortium, "ProposalExecuted", receipt)
    assert executed.args.id == 1
    assert proposal(chain, 1) == (ADD_MEMBER, EXECUTED, chain.admin, timestamp + VOTING_PERIOD, 1, 0, data)
    assert chain.consortium.functions.hasVoted(1, chain.admin).call() is True
    assert chain.consortium.functions.proposalCount().call() == 1
    assert role_of(chain, new) == ROLE_VALIDATOR


def test_threshold_is_two_thirds_rounded_up(chain: Chain) -> None:
    c = chain.consortium.functions
    expected = {1: 1, 2: 2, 3: 2, 4: 3, 5: 4, 6: 4, 7: 5}
    seen = {1: c.threshold().call()}
    for n, account in enumerate(chain.accounts[1:7], start=2):
        add_member(chain, account, ROLE_VALIDATOR if n % 2 else ROLE_MEMBER)
        seen[n] = c.threshold().call()
        assert c.votingMembers().call() == n
    assert seen == expected
    add_member(chain, chain.accounts[7], ROLE_AUDITOR)  # auditors do not count
    assert (c.votingMembers().call(), c.threshold().call()) == (7, 5)


def test_four_voters_need_three_yes(chain: Chain) -> None:
    admin, a, b, _ = with_voters(chain, 4)
    new = chain.accounts[8]
    pid = opened(
        chain, chain.transact(chain.consortium.functions.proposeAddMember(new, "Org", ROLE_MEMBER), admin)
    )
    receipt = vote(chain, pid, a)
    (cast,) = chain.events(chain.consortium, "VoteCast", receipt)
    assert dict(cast.args) == {"id": pid, "voter": a, "support": True, "yes": 2, "no": 0}
    assert chain.events(chain.consortium, "ProposalExecuted", receipt) == []
    assert state(chain, pid) == OPEN
    assert role_of(chain, new) == ROLE_NONE
    receipt = vote(chain, pid, b)
    (executed,) = chain.events(chain.consortium, "ProposalExecuted", receipt)
    assert executed.args.id == pid
    assert state(chain, pid) == EXECUTED
    assert role_of(chain, new) == ROLE_MEMBER
    assert proposal(chain, pid)[YES : NO + 1] == (3, 0)


def test_no_votes_reject_once_the_threshold_is_out_of_reach(chain: Chain) -> None:
    admin, a, b = with_voters(chain, 3)  # threshold 2
    pid = opened(chain, chain.transact(chain.consortium.functions.proposeAllocatePrefix("88", a, 0), admin))
    receipt = vote(chain, pid, a, support=False)
    assert chain.events(chain.consortium, "ProposalRejected", receipt) == []  # b could still carry it
    assert state(chain, pid) == OPEN
    receipt = vote(chain, pid, b, support=False)
    (cast,) = chain.events(chain.consortium, "VoteCast", receipt)
    assert dict(cast.args) == {"id": pid, "voter": b, "support": False, "yes": 1, "no": 2}
    (rejected,) = chain.events(chain.consortium, "ProposalRejected", receipt)
    assert rejected.args.id == pid
    assert state(chain, pid) == REJECTED
    assert chain.prefixes.functions.prefix(prefix_node("88")).call()[4] == 0
    with chain.reverts("ConsortiumProposalClosed", pid, REJECTED):
        vote(chain, pid, admin)


def test_rejection_as_soon_as_yes_cannot_reach_threshold(chain: Chain) -> None:
    admin, a, b, c = with_voters(chain, 4)  # threshold 3: two no votes already decide it
    pid = opened(chain, chain.transact(chain.consortium.functions.proposeAllocatePrefix("88", a, 0), admin))
    vote(chain, pid, a, support=False)
    assert state(chain, pid) == OPEN
    receipt = vote(chain, pid, b, support=False)
    assert chain.events(chain.consortium, "ProposalRejected", receipt)[0].args.id == pid
    with chain.reverts("ConsortiumProposalClosed", pid, REJECTED):
        vote(chain, pid, c)


def test_threshold_is_counted_at_the_time_of_the_vote(chain: Chain) -> None:
    admin, a, b, d = with_voters(chain, 4)  # threshold 3
    owner = chain.accounts[8]
    allocation = opened(
        chain, chain.transact(chain.consortium.functions.proposeAllocatePrefix("88", owner, 0), admin)
    )
    vote(chain, allocation, a)  # 2 of 3
    removal = opened(chain, chain.transact(chain.consortium.functions.proposeRemoveMember(d), admin))
    vote(chain, removal, a)
    vote(chain, removal, b)
    assert chain.consortium.functions.threshold().call() == 2
    assert state(chain, allocation) == OPEN  # settled only by a vote
    receipt = vote(chain, allocation, b, support=False)
    assert chain.events(chain.consortium, "ProposalExecuted", receipt)[0].args.id == allocation
    assert chain.prefixes.functions.prefix(prefix_node("88")).call()[2] == owner


def test_voting_rules(chain: Chain) -> None:
    admin, a, _ = with_voters(chain, 3)
    auditor, stranger = chain.accounts[5], chain.accounts[6]
    add_member(chain, auditor, ROLE_AUDITOR)
    pid = opened(chain, chain.transact(chain.consortium.functions.proposeAllocatePrefix("88", a, 0), admin))
    with chain.reverts("ConsortiumAlreadyVoted", pid, admin):
        vote(chain, pid, admin)
    with chain.reverts("ConsortiumNotVoter", auditor):
        vote(chain, pid, auditor)
    with chain.reverts("ConsortiumNotMember", stranger):
        vote(chain, pid, stranger)
    for missing in (0, pid + 1):
        with chain.reverts("ConsortiumProposalNotFound", missing):
            vote(chain, missing, a)
    assert chain.consortium.functions.hasVoted(pid, a).call() is False
    vote(chain, pid, a)
    assert chain.consortium.functions.hasVoted(pid, a).call() is True
    with chain.reverts("ConsortiumProposalClosed", pid, EXECUTED):
        vote(chain, pid, chain.accounts[2])


def test_auditors_and_strangers_cannot_propose(chain: Chain) -> None:
    auditor, stranger = chain.accounts[5], chain.accounts[6]
    add_member(chain, auditor, ROLE_AUDITOR)
    c = chain.consortium.functions
    assert c.isAllowedSender(auditor).call() is True
    proposals = (
        c.proposeAddMember(chain.accounts[7], "Org", ROLE_MEMBER),
        c.proposeRemoveMember(chain.admin),
        c.proposeChangeRole(chain.admin, ROLE_MEMBER),
        c.proposeAllocatePrefix("88", auditor, 0),
        c.proposeSetPrefixStatus(prefix_node("88"), SUSPENDED),
        c.proposeRenewPrefix(prefix_node("88"), 0),
    )
    for fn in proposals:
        with chain.reverts("ConsortiumNotVoter", auditor):
            chain.transact(fn, auditor)
        with chain.reverts("ConsortiumNotMember", stranger):
            chain.transact(fn, stranger)


def test_removed_member_can_no_longer_vote(chain: Chain) -> None:
    admin, a, b = with_voters(chain, 3)
    pending = opened(
        chain, chain.transact(chain.consortium.functions.proposeAllocatePrefix("88", a, 0), admin)
    )
    removal = opened(chain, chain.transact(chain.consortium.functions.proposeRemoveMember(b), admin))
    vote(chain, removal, a)
    with chain.reverts("ConsortiumNotMember", b):
        vote(chain, pending, b)


# --- deadlines ------------------------------------------------------------------------------


def test_deadline_and_expire(chain: Chain) -> None:
    admin, a, _ = with_voters(chain, 3)
    pid = opened(chain, chain.transact(chain.consortium.functions.proposeAllocatePrefix("88", a, 0), admin))
    deadline = proposal(chain, pid)[DEADLINE]
    with chain.reverts("ConsortiumProposalStillOpen", pid, deadline):
        chain.transact(chain.consortium.functions.expire(pid), chain.accounts[9])
    chain.time_travel(VOTING_PERIOD + 1)
    with chain.reverts("ConsortiumProposalPastDeadline", pid, deadline):
        vote(chain, pid, a)
    receipt = chain.transact(chain.consortium.functions.expire(pid), chain.accounts[9])  # anyone
    (event,) = chain.events(chain.consortium, "ProposalExpired", receipt)
    assert event.args.id == pid
    assert state(chain, pid) == EXPIRED
    with chain.reverts("ConsortiumProposalClosed", pid, EXPIRED):
        chain.transact(chain.consortium.functions.expire(pid), chain.accounts[9])
    with chain.reverts("ConsortiumProposalClosed", pid, EXPIRED):
        vote(chain, pid, a)


def test_expire_refuses_unknown_and_decided_proposals(chain: Chain) -> None:
    with chain.reverts("ConsortiumProposalNotFound", 1):
        chain.transact(chain.consortium.functions.expire(1), chain.admin)
    pid = opened(
        chain,
        chain.transact(chain.consortium.functions.proposeAllocatePrefix("88", chain.admin, 0), chain.admin),
    )
    chain.time_travel(VOTING_PERIOD + 1)
    with chain.reverts("ConsortiumProposalClosed", pid, EXECUTED):
        chain.transact(chain.consortium.functions.expire(pid), chain.admin)


def test_unknown_proposal_reads_as_state_none(chain: Chain) -> None:
    assert proposal(chain, 7) == (0, NONE, ZERO_ADDRESS, 0, 0, 0, b"")


# --- membership proposals -------------------------------------------------------------------


def test_remove_member_keeps_join_order(chain: Chain) -> None:
    admin, a, b, c = with_voters(chain, 4)
    auditor = chain.accounts[5]
    add_member(chain, auditor, ROLE_AUDITOR)
    pid = opened(chain, chain.transact(chain.consortium.functions.proposeRemoveMember(b), admin))
    assert proposal(chain, pid)[KIND] == REMOVE_MEMBER
    assert proposal(chain, pid)[DATA] == encode(["address"], [b])
    vote(chain, pid, a)
    receipt = vote(chain, pid, c)
    (event,) = chain.events(chain.consortium, "MemberRemoved", receipt)
    assert event.args.account == b
    functions = chain.consortium.functions
    assert functions.members().call() == [admin, a, c, auditor]
    assert functions.member(b).call() == (ROLE_NONE, "")
    assert functions.isAllowedSender(b).call() is False
    assert (functions.votingMembers().call(), functions.threshold().call()) == (3, 2)
    # removing an auditor leaves the voter count alone; the ends of the list unlink too
    vote(chain, opened(chain, chain.transact(functions.proposeRemoveMember(auditor), admin)), a)
    vote(chain, opened(chain, chain.transact(functions.proposeRemoveMember(admin), a)), c)
    assert functions.members().call() == [a, c]
    assert functions.votingMembers().call() == 2
    # a returning member joins at the end
    vote(chain, opened(chain, chain.transact(functions.proposeAddMember(b, "Back", ROLE_MEMBER), a)), c)
    assert functions.members().call() == [a, c, b]


def test_remove_member_refusals(chain: Chain) -> None:
    stranger = chain.accounts[6]
    with chain.reverts("ConsortiumNotMember", stranger):
        chain.transact(chain.consortium.functions.proposeRemoveMember(stranger), chain.admin)
    with chain.reverts("ConsortiumLastVoter", chain.admin):
        chain.transact(chain.consortium.functions.proposeRemoveMember(chain.admin), chain.admin)
    auditor = chain.accounts[5]
    add_member(chain, auditor, ROLE_AUDITOR)
    chain.transact(
        chain.consortium.functions.proposeRemoveMember(auditor), chain.admin
    )  # one voter: executes
    assert chain.consortium.functions.members().call() == [chain.admin]


def test_last_voter_is_rechecked_at_execution(chain: Chain) -> None:
    admin, a = with_voters(chain, 2)  # threshold 2
    remove_a = opened(chain, chain.transact(chain.consortium.functions.proposeRemoveMember(a), admin))
    remove_admin = opened(chain, chain.transact(chain.consortium.functions.proposeRemoveMember(admin), a))
    vote(chain, remove_a, a)  # a votes itself out
    assert chain.consortium.functions.votingMembers().call() == 1
    with chain.reverts("ConsortiumLastVoter", admin):
        vote(chain, remove_admin, admin)
    assert state(chain, remove_admin) == OPEN


def test_change_role(chain: Chain) -> None:
    admin, a, _ = with_voters(chain, 3)
    pid = opened(chain, chain.transact(chain.consortium.functions.proposeChangeRole(a, ROLE_AUDITOR), admin))
    assert proposal(chain, pid)[KIND : STATE + 1] == (CHANGE_ROLE, OPEN)
    assert proposal(chain, pid)[DATA] == encode(["address", "uint8"], [a, ROLE_AUDITOR])
    receipt = vote(chain, pid, a)
    (event,) = chain.events(chain.consortium, "MemberRoleChanged", receipt)
    assert dict(event.args) == {"account": a, "previousRole": ROLE_MEMBER, "role": ROLE_AUDITOR}
    assert chain.consortium.functions.member(a).call() == (ROLE_AUDITOR, "Org")
    assert chain.consortium.functions.votingMembers().call() == 2
    with chain.reverts("ConsortiumNotVoter", a):
        vote(chain, pid, a)
    # promoted back to a voting role
    b = chain.accounts[2]
    pid = opened(
        chain, chain.transact(chain.consortium.functions.proposeChangeRole(a, ROLE_VALIDATOR), admin)
    )
    vote(chain, pid, b)
    assert role_of(chain, a) == ROLE_VALIDATOR
    assert chain.consortium.functions.votingMembers().call() == 3


def test_change_role_refusals(chain: Chain) -> None:
    stranger = chain.accounts[6]
    c = chain.consortium.functions
    with chain.reverts("ConsortiumNotMember", stranger):
        chain.transact(c.proposeChangeRole(stranger, ROLE_MEMBER), chain.admin)
    with chain.reverts("ConsortiumInvalidRole", ROLE_NONE):
        chain.transact(c.proposeChangeRole(chain.admin, ROLE_NONE), chain.admin)
    with chain.reverts("ConsortiumInvalidRole", ROLE_VALIDATOR):
        chain.transact(c.proposeChangeRole(chain.admin, ROLE_VALIDATOR), chain.admin)
    with chain.reverts("ConsortiumLastVoter", chain.admin):
        chain.transact(c.proposeChangeRole(chain.admin, ROLE_AUDITOR), chain.admin)
    # validator to member keeps a vote, so the last voter may make it
    receipt = chain.transact(c.proposeChangeRole(chain.admin, ROLE_MEMBER), chain.admin)
    (event,) = chain.events(chain.consortium, "MemberRoleChanged", receipt)
    assert (event.args.previousRole, event.args.role) == (ROLE_VALIDATOR, ROLE_MEMBER)
    assert c.votingMembers().call() == 1


def test_add_member_is_rechecked_at_execution(chain: Chain) -> None:
    admin, a, _ = with_voters(chain, 3)
    new = chain.accounts[7]  # an auditor, so the threshold stays at 2
    propose = chain.consortium.functions.proposeAddMember
    first = opened(chain, chain.transact(propose(new, "One", ROLE_AUDITOR), admin))
    second = opened(chain, chain.transact(propose(new, "Two", ROLE_AUDITOR), admin))
    vote(chain, first, a)
    with chain.reverts("ConsortiumAlreadyMember", new):
        vote(chain, second, a)
    assert chain.consortium.functions.member(new).call() == (ROLE_AUDITOR, "One")
    assert state(chain, second) == OPEN


# --- prefix proposals -----------------------------------------------------------------------


def test_allocate_prefix_by_vote(chain: Chain) -> None:
    admin, a, _ = with_voters(chain, 3)
    owner = chain.accounts[8]
    expiry = chain.now() + 365 * 86400
    pid = opened(
        chain, chain.transact(chain.consortium.functions.proposeAllocatePrefix("CN", owner, expiry), admin)
    )
    assert proposal(chain, pid)[DATA] == encode(["string", "address", "uint64"], ["CN", owner, expiry])
    receipt = vote(chain, pid, a)
    (event,) = chain.events(chain.prefixes, "PrefixRegistered", receipt)
    assert dict(event.args) == {
        "node": prefix_node("cn"),
        "parent": ZERO32,
        "owner": owner,
        "name": "CN",
        "expiry": expiry,
    }
    assert chain.events(chain.consortium, "ProposalExecuted", receipt)[0].args.id == pid


@pytest.mark.parametrize(
    ("label", "error", "args"),
    [
        ("", "PrefixLabelEmpty", ()),
        ("1" * 64, "PrefixLabelTooLong", (64, 63)),
        ("88.100", "PrefixLabelInvalidCharacter", (2, b".")),
        ("a_b", "PrefixLabelInvalidCharacter", (1, b"_")),
        ("中", "PrefixLabelInvalidCharacter", (0, b"\xe4")),
    ],
)
def test_allocate_prefix_validates_the_label_when_proposed(
    chain: Chain, label: str, error: str, args: tuple[Any, ...]
) -> None:
    with_voters(chain, 3)  # the proposal would otherwise stay open: the check is at proposal time
    with chain.reverts(error, *args):
        chain.transact(chain.consortium.functions.proposeAllocatePrefix(label, chain.admin, 0), chain.admin)
    assert chain.consortium.functions.proposalCount().call() == 0


def test_allocate_prefix_refuses_zero_owner_and_past_expiry(chain: Chain) -> None:
    with_voters(chain, 3)
    c = chain.consortium.functions
    with chain.reverts("PrefixZeroOwner"):
        chain.transact(c.proposeAllocatePrefix("88", ZERO_ADDRESS, 0), chain.admin)
    past = chain.now() - 1
    with chain.reverts("PrefixInvalidExpiry", prefix_node("88"), past):
        chain.transact(c.proposeAllocatePrefix("88", chain.admin, past), chain.admin)


def test_registry_errors_bubble_from_execution(chain: Chain) -> None:
    admin, a, _ = with_voters(chain, 3)
    owner = chain.accounts[8]
    chain.transact(chain.consortium.functions.bootstrapAllocatePrefix("Ab", owner, 0), admin)
    pid = opened(
        chain, chain.transact(chain.consortium.functions.proposeAllocatePrefix("aB", owner, 0), admin)
    )
    with chain.reverts("PrefixCaseConflict", prefix_node("ab"), "Ab", "aB"):
        vote(chain, pid, a)
    assert state(chain, pid) == OPEN


def test_set_prefix_status_by_vote(chain: Chain) -> None:
    admin, a, _ = with_voters(chain, 3)
    owner = chain.accounts[8]
    chain.transact(chain.consortium.functions.bootstrapAllocatePrefix("88", owner, 0), admin)
    node = prefix_node("88")
    pid = opened(
        chain, chain.transact(chain.consortium.functions.proposeSetPrefixStatus(node, SUSPENDED), admin)
    )
    assert proposal(chain, pid)[KIND] == SET_PREFIX_STATUS
    assert proposal(chain, pid)[DATA] == encode(["bytes32", "uint8"], [node, SUSPENDED])
    receipt = vote(chain, pid, a)
    (event,) = chain.events(chain.prefixes, "PrefixStatusChanged", receipt)
    assert dict(event.args) == {
        "node": node,
        "status": SUSPENDED,
        "by": chain.consortium.address,
        "name": "88",
    }
    # setting the same status again fails at execution with the registry's error
    pid = opened(
        chain, chain.transact(chain.consortium.functions.proposeSetPrefixStatus(node, SUSPENDED), admin)
    )
    with chain.reverts("PrefixInvalidStatus", node, SUSPENDED):
        vote(chain, pid, a)


@pytest.mark.parametrize("status", [0, 4, 255])
def test_set_prefix_status_refuses_invalid_status(chain: Chain, status: int) -> None:
    with chain.reverts("ConsortiumInvalidStatus", status):
        chain.transact(
            chain.consortium.functions.proposeSetPrefixStatus(prefix_node("88"), status), chain.admin
        )


def test_set_prefix_status_of_unknown_prefix_fails_at_execution(chain: Chain) -> None:
    with chain.reverts("PrefixNotFound", prefix_node("99")):
        chain.transact(
            chain.consortium.functions.proposeSetPrefixStatus(prefix_node("99"), REVOKED), chain.admin
        )


def test_renew_prefix_by_vote(chain: Chain) -> None:
    admin, a, _ = with_voters(chain, 3)
    owner = chain.accounts[8]
    chain.transact(chain.consortium.functions.bootstrapAllocatePrefix("88", owner, chain.now() + 100), admin)
    node = prefix_node("88")
    later = chain.now() + 10 * 365 * 86400
    pid = opened(chain, chain.transact(chain.consortium.functions.proposeRenewPrefix(node, later), admin))
    assert proposal(chain, pid)[KIND] == RENEW_PREFIX
    assert proposal(chain, pid)[DATA] == encode(["bytes32", "uint64"], [node, later])
    receipt = vote(chain, pid, a)
    (event,) = chain.events(chain.prefixes, "PrefixRenewed", receipt)
    assert dict(event.args) == {"node": node, "expiry": later, "name": "88"}
    assert chain.prefixes.functions.prefix(node).call()[5] == later


def test_renew_prefix_refuses_past_expiry(chain: Chain) -> None:
    past = chain.now() - 1
    with chain.reverts("PrefixInvalidExpiry", prefix_node("88"), past):
        chain.transact(chain.consortium.functions.proposeRenewPrefix(prefix_node("88"), past), chain.admin)


# --- the deployable artifact ---------------------------------------------------------------


def test_abi_is_exactly_the_interface() -> None:
    """Every external function is IConsortium's (and so tested above): none added."""
    abi = load("Consortium").abi
    assert {item["name"] for item in abi if item["type"] == "function"} == {
        "bindRegistry",
        "bootstrapAddMember",
        "bootstrapAllocatePrefix",
        "renounceBootstrap",
        "proposeAddMember",
        "proposeRemoveMember",
        "proposeChangeRole",
        "proposeAllocatePrefix",
        "proposeSetPrefixStatus",
        "proposeRenewPrefix",
        "vote",
        "expire",
        "isAllowedSender",
        "member",
        "members",
        "votingMembers",
        "threshold",
        "proposal",
        "hasVoted",
        "proposalCount",
        "bootstrapAdmin",
        "registry",
        "votingPeriod",
    }
