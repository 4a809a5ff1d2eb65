"""What the client's methods return: frozen dataclasses, no web3 types."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Literal

from idfuse_sdk.contracts.abi import DecodedLog

__all__ = [
    "BatchResult",
    "IdentifierResult",
    "PrefixInfo",
    "PrefixResult",
    "ProposalResult",
    "Provenance",
    "Resolution",
    "ResolvedValue",
    "TemplateResult",
    "TxResult",
    "VoteResult",
]

PREFIX_STATUSES = ("none", "active", "suspended", "revoked")
PROPOSAL_STATES = ("none", "open", "executed", "rejected", "expired")


@dataclass(frozen=True)
class TxResult:
    """A mined, successful transaction: its hash, block and the registry events it emitted.
    ``final`` is true on a QBFT chain, where inclusion is finality."""

    tx_hash: str
    block_number: int
    block_hash: str
    gas_used: int
    events: tuple[DecodedLog, ...]
    final: bool

    def event(self, name: str) -> DecodedLog:
        """The first event called ``name``.

        :raises LookupError: the transaction emitted none.
        """
        for item in self.events:
            if item.name == name:
                return item
        raise LookupError(f"transaction {self.tx_hash} emitted no {name}")


@dataclass(frozen=True)
class PrefixResult:
    """A prefix write: the prefix, its node id, and the transaction."""

    prefix: str
    node: bytes
    tx: TxResult


@dataclass(frozen=True)
class ProposalResult:
    """An opened proposal: its id and where it stands right after (the proposer's yes counted)."""

    proposal_id: int
    state: str
    yes: int
    no: int
    threshold: int
    tx: TxResult

    @property
    def votes_needed(self) -> int:
        """Yes votes still missing (0 once executed)."""
        return 0 if self.state != "open" else max(self.threshold - self.yes, 0)


@dataclass(frozen=True)
class VoteResult:
    """A vote: whether it executed the proposal, or how many more yes votes it needs."""

    proposal_id: int
    state: str
    """``open``, ``executed``, ``rejected`` or ``expired``."""
    yes: int
    no: int
    threshold: int
    tx: TxResult

    @property
    def executed(self) -> bool:
        """Whether the proposal passed and its action was carried out."""
        return self.state == "executed"

    @property
    def votes_needed(self) -> int:
        """Yes votes still missing while the proposal is open; 0 otherwise."""
        return 0 if self.state != "open" else max(self.threshold - self.yes, 0)


@dataclass(frozen=True)
class TemplateResult:
    """A registered template: its id and the transaction."""

    template_id: bytes
    tx: TxResult


@dataclass(frozen=True)
class BatchResult:
    """A registered batch (one ``registerBatch`` transaction): the id and Merkle root from its
    ``BatchRegistered`` event, how many records it holds, and the transaction."""

    batch_id: int
    root: bytes
    count: int
    tx: TxResult

    @property
    def tx_hash(self) -> str:
        """The transaction's hash."""
        return self.tx.tx_hash

    @property
    def block_number(self) -> int:
        """The block that holds the transaction."""
        return self.tx.block_number


@dataclass(frozen=True)
class IdentifierResult:
    """An identifier write: the handle, its key, its new version and commitment (the tombstone
    after a delete), and the transaction."""

    handle: str
    handle_key: bytes
    version: int
    commitment: bytes
    tx: TxResult


@dataclass(frozen=True)
class PrefixInfo:
    """A prefix as the PrefixRegistry stores it (``status`` "none" when not registered)."""

    prefix: str
    node: bytes
    name: str
    parent: bytes
    owner: str
    pending_owner: str | None
    status: str
    expiry: int
    changed: int
    metadata_hash: bytes
    resolvers: tuple[str, ...] = ()
    service_chain_id: int = 0
    service_registry: str | None = None

    @property
    def registered(self) -> bool:
        """Whether the prefix exists on chain."""
        return self.status != "none"


@dataclass(frozen=True)
class Provenance:
    """Where a value was written: chain, registry, block, transaction and log."""

    chain_id: int | None
    registry: str | None
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    batch_id: int | None = None
    record_index: int | None = None


@dataclass(frozen=True)
class ResolvedValue:
    """One value of a resolved handle. ``data`` is the raw bytes for ``string``, ``base64`` and
    ``hex`` values and the parsed object for the derived ``admin``/``site`` ones; ``text`` is
    the data as the Handle API shows it."""

    index: int
    type: str
    format: str
    data: bytes | dict[str, Any]
    ttl: int
    timestamp: str | int | None
    provenance: Provenance | None = None
    permissions: int | None = None

    @property
    def text(self) -> str:
        """The data as text: UTF-8 for ``string``, base64 for ``base64``, hex for ``hex``."""
        if isinstance(self.data, dict):
            return str(self.data)
        if self.format == "base64":
            return base64.b64encode(self.data).decode("ascii")
        if self.format == "hex":
            return self.data.hex()
        return self.data.decode("utf-8", "replace")


@dataclass(frozen=True)
class Resolution:
    """A resolved handle: its values (filtered as asked) and where they came from:
    ``source="resolver"`` (the resolver's answer, with its checkpoint) or ``"chain"`` (the
    latest IdentifierCreated/Updated event, checked against ``commitmentOf``)."""

    handle: str
    values: tuple[ResolvedValue, ...]
    source: Literal["resolver", "chain"]
    provenance: Provenance | None = None
    checkpoint: dict[str, Any] | None = None
    template: bytes | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def value(self, type_or_index: str | int) -> ResolvedValue:
        """The first value of that type (ASCII case-insensitive) or at that index.

        :raises LookupError: none.
        """
        for item in self.values:
            if (isinstance(type_or_index, int) and item.index == type_or_index) or (
                isinstance(type_or_index, str) and item.type.upper() == type_or_index.upper()
            ):
                return item
        raise LookupError(f"{self.handle} has no value {type_or_index!r}")
