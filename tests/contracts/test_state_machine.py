"""Random sequences of governance, prefix and identifier operations by several accounts,
run against the contracts and against a small pure-Python model of the registry; after
every step the two must agree on the outcome (success, or the exact custom error) and on
the resulting state."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar

import hypothesis.strategies as st
import pytest
from eth_tester.exceptions import TransactionFailed
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from web3.exceptions import ContractCustomError

from idfuse_sdk.encoding import HandleValue, commitment, encode_values
from idfuse_sdk.exceptions import ValidationError
from idfuse_sdk.identifiers import handle_key, prefix_node, validate_label
from idfuse_sdk.types import TOMBSTONE, ZERO32
from tests.contracts.chain import ROLE_AUDITOR, ROLE_MEMBER, Chain, make_chain
from tests.longrun import long_run

ACTIVE, SUSPENDED, REVOKED = 1, 2, 3
VOTERS = (0, 1, 2)  # accounts[0] validator (bootstrap admin), 1 and 2 members
AUDITOR = 3
ENTERPRISES = (4, 5, 6)
EVERYONE = (*VOTERS, AUDITOR, *ENTERPRISES)
THRESHOLD = 2  # ceil(2 * 3 / 3)

LABELS = ["88", "86", "100", "A1", "a1", "x-y", "bad_label", "", "L" * 64, "86", "7"]
VALID_SUFFIXES = ["PN-0001", "pn-0001", "零件-1", "bolt/M8"]
SUFFIXES = [*VALID_SUFFIXES, "bad\x85"]
VALUE_SETS = [
    (),
    (HandleValue.text(1, "URL", "https://example.com/p/1"),),
    (HandleValue.text(1, "URL", "https://example.com/p/2"), HandleValue.text(2, "NAME", "阀门")),
    (HandleValue.text(3, "EMAIL", "ops@example.com"),),
]


@dataclass
class PrefixModel:
    name: str
    parent: bytes
    owner: int
    status: int = ACTIVE
    pending: int | None = None
    operators: set[int] = field(default_factory=set)


@dataclass
class ProposalModel:
    label: str
    owner: int
    voted: set[int]
    yes: int = 1
    no: int = 0
    state: int = 1  # Open


class RegistryMachine(RuleBasedStateMachine):
    chain: Chain
    snapshot: str
    outcomes: ClassVar[Counter[str]] = Counter()  # (rule, outcome) over all runs, to prove coverage

    def __init__(self) -> None:
        super().__init__()
        self.chain.tester.revert_to_snapshot(self.snapshot)
        self.prefixes: dict[bytes, PrefixModel] = {}
        self.proposals: dict[int, ProposalModel] = {}
        self.handles: dict[bytes, tuple[bytes, int]] = {}  # key -> (storage word, version)
        self.values: dict[bytes, tuple[HandleValue, ...]] = {}

    # --- plumbing ---------------------------------------------------------------------------

    def account(self, i: int) -> str:
        return self.chain.accounts[i]

    def send(self, fn: object, sender: int) -> str | None:
        """Send and return None on success or the custom error's name."""
        try:
            self.chain.transact(fn, self.account(sender))
        except (ContractCustomError, TransactionFailed) as exc:
            decoded = self.chain.error_of(exc)
            if decoded is None:
                raise AssertionError(f"a revert without a custom error: {exc!r}") from exc
            return decoded[0]
        return None

    def expect(self, fn: object, sender: int, error: str | None) -> bool:
        got = self.send(fn, sender)
        assert got == error, f"model expected {error or 'success'}, contract said {got or 'success'}"
        self.outcomes[f"{fn.fn_name}:{got or 'ok'}"] += 1  # type: ignore[attr-defined]
        return got is None

    def live_error(self, node: bytes) -> str | None:
        current = node
        while current != ZERO32:
            model = self.prefixes.get(current)
            if model is None:
                return "PrefixNotFound"
            if model.status != ACTIVE:
                return "PrefixInactive"
            current = model.parent
        return None

    def writable_error(self, node: bytes, sender: int) -> str | None:
        error = self.live_error(node)
        if error is not None:
            return error
        model = self.prefixes[node]
        if sender != model.owner and sender not in model.operators:
            return "PrefixUnauthorized"
        return None

    def register_error(self, parent: bytes, label: str) -> str | None:
        try:
            validate_label(label)
        except ValidationError:
            return "label"
        name = label if parent == ZERO32 else f"{self.prefixes[parent].name}.{label}"
        if len(name.encode()) > 128:
            return "PrefixTooLong"
        existing = self.prefixes.get(prefix_node(name))
        if existing is not None:
            return "PrefixAlreadyRegistered" if existing.name == name else "PrefixCaseConflict"
        return None

    @staticmethod
    def label_error(label: str) -> str:
        if not label:
            return "PrefixLabelEmpty"
        if len(label) > 63:
            return "PrefixLabelTooLong"
        return "PrefixLabelInvalidCharacter"

    def add_prefix(self, parent: bytes, label: str, owner: int) -> None:
        name = label if parent == ZERO32 else f"{self.prefixes[parent].name}.{label}"
        self.prefixes[prefix_node(name)] = PrefixModel(name=name, parent=parent, owner=owner)

    def usually_owner(self, data: st.DataObject, node: bytes, sender: int) -> int:
        """The prefix's owner three times in four, else ``sender`` (often an outsider)."""
        if node in self.prefixes and data.draw(st.integers(0, 3)) > 0:
            return self.prefixes[node].owner
        return sender

    def pick_node(self, data: st.DataObject) -> bytes:
        known = sorted(self.prefixes)
        return data.draw(st.sampled_from(known)) if known else prefix_node("nowhere")

    # --- governance ---------------------------------------------------------------------------

    @initialize()
    def members(self) -> None:
        c = self.chain.consortium.functions
        for i, role in ((1, ROLE_MEMBER), (2, ROLE_MEMBER), (AUDITOR, ROLE_AUDITOR)):
            self.chain.transact(c.bootstrapAddMember(self.account(i), f"Org {i}", role), self.account(0))
        # a small hierarchy to work on: 88 (enterprise 4) > 88.100 (5); 86 (enterprise 6)
        for label, owner in (("88", 4), ("86", 6)):
            self.chain.transact(c.bootstrapAllocatePrefix(label, self.account(owner), 0), self.account(0))
            self.add_prefix(ZERO32, label, owner)
        parent = prefix_node("88")
        self.chain.transact(
            self.chain.prefixes.functions.registerChild(parent, "100", self.account(5), 0), self.account(4)
        )
        self.add_prefix(parent, "100", 5)
        self.chain.transact(c.renounceBootstrap(), self.account(0))

    @rule(
        label=st.sampled_from(LABELS), owner=st.sampled_from(ENTERPRISES), proposer=st.sampled_from(EVERYONE)
    )
    def propose_allocation(self, label: str, owner: int, proposer: int) -> None:
        fn = self.chain.consortium.functions.proposeAllocatePrefix(label, self.account(owner), 0)
        if proposer not in VOTERS:
            error = "ConsortiumNotMember" if proposer not in (AUDITOR,) else "ConsortiumNotVoter"
            self.expect(fn, proposer, error)
            return
        try:
            validate_label(label)
        except ValidationError:
            self.expect(fn, proposer, self.label_error(label))
            return
        if self.expect(fn, proposer, None):
            pid = len(self.proposals) + 1
            self.proposals[pid] = ProposalModel(label=label, owner=owner, voted={proposer})

    @rule(data=st.data(), voter=st.sampled_from(VOTERS) | st.sampled_from(EVERYONE), support=st.booleans())
    def vote(self, data: st.DataObject, voter: int, support: bool) -> None:
        if not self.proposals:
            return
        pid = data.draw(st.sampled_from(sorted(self.proposals)))
        proposal = self.proposals[pid]
        remaining = [v for v in VOTERS if v not in proposal.voted]
        if remaining and data.draw(st.booleans()):
            voter = data.draw(st.sampled_from(remaining))  # a legitimate vote, half the time
        fn = self.chain.consortium.functions.vote(pid, support)
        if voter not in VOTERS:
            self.expect(fn, voter, "ConsortiumNotVoter" if voter == AUDITOR else "ConsortiumNotMember")
        elif proposal.state != 1:
            self.expect(fn, voter, "ConsortiumProposalClosed")
        elif voter in proposal.voted:
            self.expect(fn, voter, "ConsortiumAlreadyVoted")
        elif support and proposal.yes + 1 >= THRESHOLD:
            error = self.register_error(ZERO32, proposal.label)
            if self.expect(fn, voter, error):
                proposal.voted.add(voter)
                proposal.yes += 1
                proposal.state = 2  # Executed
                self.add_prefix(ZERO32, proposal.label, proposal.owner)
        elif self.expect(fn, voter, None):
            proposal.voted.add(voter)
            proposal.yes += support
            proposal.no += not support
            remaining = len(VOTERS) - len(proposal.voted)
            if proposal.yes + remaining < THRESHOLD:
                proposal.state = 3  # Rejected

    # --- prefixes -----------------------------------------------------------------------------

    @rule(
        data=st.data(),
        label=st.sampled_from(LABELS),
        owner=st.sampled_from(ENTERPRISES),
        sender=st.sampled_from(EVERYONE),
    )
    def register_child(self, data: st.DataObject, label: str, owner: int, sender: int) -> None:
        parent = self.pick_node(data)
        sender = self.usually_owner(data, parent, sender)
        fn = self.chain.prefixes.functions.registerChild(parent, label, self.account(owner), 0)
        error = self.writable_error(parent, sender)
        if error is None:
            error = self.register_error(parent, label)
            if error == "label":
                error = self.label_error(label)
        if self.expect(fn, sender, error):
            self.add_prefix(parent, label, owner)

    @rule(
        data=st.data(),
        operator=st.sampled_from(ENTERPRISES),
        approved=st.booleans(),
        sender=st.sampled_from(ENTERPRISES),
    )
    def set_operator(self, data: st.DataObject, operator: int, approved: bool, sender: int) -> None:
        node = self.pick_node(data)
        fn = self.chain.prefixes.functions.setOperator(node, self.account(operator), approved)
        error = self.live_error(node)
        if error is None and self.prefixes[node].owner != sender:
            error = "PrefixUnauthorized"
        if self.expect(fn, sender, error):
            ops = self.prefixes[node].operators
            (ops.add if approved else ops.discard)(operator)

    @rule(
        data=st.data(),
        status=st.sampled_from([ACTIVE, SUSPENDED, REVOKED]),
        sender=st.sampled_from(ENTERPRISES),
    )
    def set_status(self, data: st.DataObject, status: int, sender: int) -> None:
        node = self.pick_node(data)
        fn = self.chain.prefixes.functions.setStatus(node, status)
        model = self.prefixes.get(node)
        if model is not None and model.parent != ZERO32:
            sender = self.usually_owner(data, model.parent, sender)
        if model is None:
            error: str | None = "PrefixNotFound"
        elif model.parent == ZERO32:
            error = "PrefixOnlyConsortium"
        else:
            error = self.live_error(model.parent)
            if error is None and self.prefixes[model.parent].owner != sender:
                error = "PrefixUnauthorized"
            if error is None and model.status == status:
                error = "PrefixInvalidStatus"
        if self.expect(fn, sender, error):
            assert model is not None
            model.status = status

    @rule(data=st.data(), new_owner=st.sampled_from(ENTERPRISES), sender=st.sampled_from(ENTERPRISES))
    def transfer(self, data: st.DataObject, new_owner: int, sender: int) -> None:
        node = self.pick_node(data)
        fn = self.chain.prefixes.functions.transferOwnership(node, self.account(new_owner))
        error = self.live_error(node)
        if error is None and self.prefixes[node].owner != sender:
            error = "PrefixUnauthorized"
        if self.expect(fn, sender, error):
            self.prefixes[node].pending = new_owner

    @rule(data=st.data(), sender=st.sampled_from(ENTERPRISES), as_pending=st.booleans())
    def accept(self, data: st.DataObject, sender: int, as_pending: bool) -> None:
        pending = sorted(n for n, m in self.prefixes.items() if m.pending is not None)
        if as_pending and pending:
            node = data.draw(st.sampled_from(pending))
            sender = self.prefixes[node].pending  # type: ignore[assignment]
        else:
            node = self.pick_node(data)
        fn = self.chain.prefixes.functions.acceptOwnership(node)
        error = self.live_error(node)
        if error is None and self.prefixes[node].pending != sender:
            error = "PrefixNotPendingOwner"
        if self.expect(fn, sender, error):
            model = self.prefixes[node]
            model.owner, model.pending = sender, None
            model.operators.clear()

    # --- identifiers --------------------------------------------------------------------------

    @rule(
        data=st.data(),
        suffix=st.sampled_from(SUFFIXES),
        values=st.sampled_from(VALUE_SETS),
        sender=st.sampled_from(ENTERPRISES),
    )
    def create(self, data: st.DataObject, suffix: str, values: tuple[HandleValue, ...], sender: int) -> None:
        node = self.pick_node(data)
        sender = self.usually_owner(data, node, sender)
        encoded = encode_values(values)
        fn = self.chain.identifiers.functions.createIdentifier(node, suffix, ZERO32, encoded)
        error = self.writable_error(node, sender)
        try:
            key = handle_key(node, suffix)
        except ValidationError:
            key, error = b"", error or "SuffixInvalidCharacter"
        word, version = self.handles.get(key, (ZERO32, 0))
        if error is None and word not in (ZERO32, TOMBSTONE):
            error = "IdentifierAlreadyExists"
        if self.expect(fn, sender, error):
            self.handles[key] = (commitment(ZERO32, encoded), version + 1)
            self.values[key] = values

    @rule(
        data=st.data(),
        upsert=st.sampled_from(VALUE_SETS),
        remove_first=st.booleans(),
        sender=st.sampled_from(ENTERPRISES),
    )
    def update(
        self, data: st.DataObject, upsert: tuple[HandleValue, ...], remove_first: bool, sender: int
    ) -> None:
        live = sorted(k for k, (word, _) in self.handles.items() if word != TOMBSTONE)
        if not live:
            return
        key = data.draw(st.sampled_from(live))
        node, suffix = self.locate(key)
        sender = self.usually_owner(data, node, sender)
        current = self.values[key]
        removals = [current[0].index] if remove_first and current else []
        upsert = tuple(v for v in upsert if v.index not in removals)
        fn = self.chain.identifiers.functions.updateIdentifier(
            node, suffix, ZERO32, encode_values(current), encode_values(upsert), removals
        )
        if self.expect(fn, sender, self.writable_error(node, sender)):
            merged = {v.index: v for v in current if v.index not in removals}
            merged.update({v.index: v for v in upsert})
            new_values = tuple(merged[i] for i in sorted(merged))
            self.handles[key] = (commitment(ZERO32, encode_values(new_values)), self.handles[key][1] + 1)
            self.values[key] = new_values

    @rule(data=st.data(), sender=st.sampled_from(ENTERPRISES))
    def delete(self, data: st.DataObject, sender: int) -> None:
        if not self.handles:
            return
        key = data.draw(st.sampled_from(sorted(self.handles)))
        node, suffix = self.locate(key)
        sender = self.usually_owner(data, node, sender)
        fn = self.chain.identifiers.functions.deleteIdentifier(node, suffix)
        error = self.writable_error(node, sender)
        if error is None and self.handles[key][0] == TOMBSTONE:
            error = "IdentifierNotFound"
        if self.expect(fn, sender, error):
            self.handles[key] = (TOMBSTONE, self.handles[key][1] + 1)

    def locate(self, key: bytes) -> tuple[bytes, str]:
        for node in self.prefixes:
            for suffix in VALID_SUFFIXES:
                if handle_key(node, suffix) == key:
                    return node, suffix
        raise AssertionError("handle of unknown prefix")

    # --- agreement ----------------------------------------------------------------------------

    @invariant()
    def state_agrees(self) -> None:
        prefixes = self.chain.prefixes.functions
        for node, model in self.prefixes.items():
            record = prefixes.prefix(node).call()
            name, parent, owner, pending, status = record[0], record[1], record[2], record[3], record[4]
            assert (name, parent, owner, status) == (
                model.name,
                model.parent,
                self.account(model.owner),
                model.status,
            )
            expected_pending = self.account(model.pending) if model.pending is not None else "0x" + "0" * 40
            assert pending.lower() == expected_pending.lower()
        identifiers = self.chain.identifiers.functions
        for key, (word, version) in self.handles.items():
            assert identifiers.commitmentOf(key).call() == word
            assert identifiers.versionOf(key).call() == version
        consortium = self.chain.consortium.functions
        for pid, proposal in self.proposals.items():
            stored = consortium.proposal(pid).call()
            assert (stored[1], stored[4], stored[5]) == (proposal.state, proposal.yes, proposal.no)


@pytest.fixture(scope="module")
def machine_chain() -> tuple[Chain, str]:
    chain = make_chain()
    return chain, chain.tester.take_snapshot()


def test_contracts_agree_with_model(machine_chain: tuple[Chain, str]) -> None:
    RegistryMachine.chain, RegistryMachine.snapshot = machine_chain
    RegistryMachine.TestCase.settings = settings(
        max_examples=long_run(10, 40),
        derandomize=True,
        stateful_step_count=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    RegistryMachine.outcomes.clear()
    RegistryMachine.TestCase("runTest").runTest()
    seen = RegistryMachine.outcomes
    for wanted in (
        "vote:ok",
        "registerChild:ok",
        "createIdentifier:ok",
        "updateIdentifier:ok",
        "deleteIdentifier:ok",
        "acceptOwnership:ok",
        "setStatus:ok",
    ):
        assert seen[wanted] > 0, f"the machine never reached {wanted}: {dict(seen)}"
    for refusal in ("PrefixUnauthorized", "PrefixInactive", "ConsortiumNotVoter"):
        refused = [k for k in seen if k.endswith(":" + refusal)]
        assert refused, f"no step was refused with {refusal}: {dict(seen)}"
