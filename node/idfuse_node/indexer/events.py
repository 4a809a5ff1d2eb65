"""Registry logs and ``registerBatch`` calldata decoded into typed events.

:class:`EventDecoder` knows the three registry contracts by address and builds its
topic0 → decoder tables from their ABIs (the shipped artifacts), so no event signature is
written by hand. :meth:`EventDecoder.decode` turns a :class:`~idfuse_node.indexer.source.RawLog`
into one of the frozen event dataclasses below, or None for a log the index does not need (from
another address, or an event such as ``ProposalCreated``). Each event carries its
:class:`LogPosition`: the emitting contract and where the log sits on chain.

A log with a known topic0 that does not decode (wrong topic count, bad ABI data, values that
break the data model, a commitment that does not match) raises :class:`EventDecodeError`. The
contracts are ours, so that means the index follows the wrong contracts or a bug: the follower
must stop with that message rather than skip the event and index a partial truth.

``BatchRegistered`` carries only the batch's root and hash; :func:`decode_batch_call` reads the
records from the transaction that called ``registerBatch(bytes32,bytes)`` on the registry.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar, Final

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils.abi import collapse_if_tuple, event_abi_to_log_topic, function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address

from idfuse_node.exceptions import BatchCalldataUnavailableError, EventDecodeError
from idfuse_node.indexer.source import RawLog, checksum
from idfuse_sdk.contracts.artifacts import load
from idfuse_sdk.encoding import (
    BatchRow,
    HandleValue,
    TemplateField,
    commitment,
    decode_batch_rows,
    decode_values,
)
from idfuse_sdk.exceptions import IdfuseError
from idfuse_sdk.hashing import keccak
from idfuse_sdk.identifiers import handle_key

REGISTER_BATCH: Final = "registerBatch(bytes32,bytes)"
REGISTER_BATCH_SELECTOR: Final = function_signature_to_4byte_selector(REGISTER_BATCH)


class PrefixStatus(IntEnum):
    """``IPrefixRegistry.Status``."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3


class Role(IntEnum):
    """``IConsortium.Role``."""

    NONE = 0
    VALIDATOR = 1
    MEMBER = 2
    AUDITOR = 3


@dataclass(frozen=True, slots=True)
class LogPosition:
    """Where a log is: the contract that emitted it, its block, transaction and index."""

    address: str
    block_number: int
    block_hash: bytes
    tx_hash: bytes
    tx_index: int
    log_index: int

    @classmethod
    def of(cls, raw: RawLog) -> LogPosition:
        return cls(raw.address, raw.block_number, raw.block_hash, raw.tx_hash, raw.tx_index, raw.log_index)


@dataclass(frozen=True, slots=True)
class RegistryEvent:
    """Base of every decoded event; ``event`` is its Solidity name, ``contract`` its emitter's."""

    event: ClassVar[str]
    contract: ClassVar[str]
    position: LogPosition


# --- IdentifierRegistry --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdentifierWritten(RegistryEvent):
    """What IdentifierCreated and IdentifierUpdated both carry: the whole new value set."""

    contract: ClassVar[str] = "IdentifierRegistry"
    handle_key: bytes
    prefix_node: bytes
    suffix: str
    template: bytes
    values: tuple[HandleValue, ...]
    values_encoding: bytes
    version: int
    commitment: bytes


@dataclass(frozen=True, slots=True)
class IdentifierCreated(IdentifierWritten):
    event: ClassVar[str] = "IdentifierCreated"


@dataclass(frozen=True, slots=True)
class IdentifierUpdated(IdentifierWritten):
    event: ClassVar[str] = "IdentifierUpdated"


@dataclass(frozen=True, slots=True)
class IdentifierDeleted(RegistryEvent):
    event: ClassVar[str] = "IdentifierDeleted"
    contract: ClassVar[str] = "IdentifierRegistry"
    handle_key: bytes
    prefix_node: bytes
    suffix: str
    version: int


@dataclass(frozen=True, slots=True)
class BatchRegistered(RegistryEvent):
    event: ClassVar[str] = "BatchRegistered"
    contract: ClassVar[str] = "IdentifierRegistry"
    batch_id: int
    prefix_node: bytes
    registrant: str
    root: bytes
    count: int
    records_hash: bytes


@dataclass(frozen=True, slots=True)
class TemplateRegistered(RegistryEvent):
    event: ClassVar[str] = "TemplateRegistered"
    contract: ClassVar[str] = "IdentifierRegistry"
    template_id: bytes
    prefix_node: bytes
    name: str
    version: int
    fields: tuple[TemplateField, ...]


# --- PrefixRegistry ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PrefixRegistered(RegistryEvent):
    event: ClassVar[str] = "PrefixRegistered"
    contract: ClassVar[str] = "PrefixRegistry"
    node: bytes
    parent: bytes
    owner: str
    name: str
    expiry: int


@dataclass(frozen=True, slots=True)
class PrefixTransferStarted(RegistryEvent):
    event: ClassVar[str] = "PrefixTransferStarted"
    contract: ClassVar[str] = "PrefixRegistry"
    node: bytes
    owner: str
    pending_owner: str
    name: str


@dataclass(frozen=True, slots=True)
class PrefixTransferCancelled(RegistryEvent):
    event: ClassVar[str] = "PrefixTransferCancelled"
    contract: ClassVar[str] = "PrefixRegistry"
    node: bytes
    owner: str
    name: str


@dataclass(frozen=True, slots=True)
class PrefixOwnershipTransferred(RegistryEvent):
    event: ClassVar[str] = "PrefixOwnershipTransferred"
    contract: ClassVar[str] = "PrefixRegistry"
    node: bytes
    previous_owner: str
    new_owner: str
    name: str


@dataclass(frozen=True, slots=True)
class PrefixOperatorChanged(RegistryEvent):
    event: ClassVar[str] = "PrefixOperatorChanged"
    contract: ClassVar[str] = "PrefixRegistry"
    node: bytes
    operator: str
    approved: bool
    name: str


@dataclass(frozen=True, slots=True)
class PrefixStatusChanged(RegistryEvent):
    event: ClassVar[str] = "PrefixStatusChanged"
    contract: ClassVar[str] = "PrefixRegistry"
    node: bytes
    status: PrefixStatus
    by: str
    name: str


@dataclass(frozen=True, slots=True)
class PrefixRenewed(RegistryEvent):
    event: ClassVar[str] = "PrefixRenewed"
    contract: ClassVar[str] = "PrefixRegistry"
    node: bytes
    expiry: int
    name: str


@dataclass(frozen=True, slots=True)
class PrefixServiceChanged(RegistryEvent):
    event: ClassVar[str] = "PrefixServiceChanged"
    contract: ClassVar[str] = "PrefixRegistry"
    node: bytes
    resolvers: tuple[str, ...]
    chain_id: int
    registry: str
    name: str


@dataclass(frozen=True, slots=True)
class PrefixMetadataChanged(RegistryEvent):
    event: ClassVar[str] = "PrefixMetadataChanged"
    contract: ClassVar[str] = "PrefixRegistry"
    node: bytes
    metadata_hash: bytes
    name: str


# --- Consortium ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberAdded(RegistryEvent):
    event: ClassVar[str] = "MemberAdded"
    contract: ClassVar[str] = "Consortium"
    account: str
    organisation: str
    role: Role


@dataclass(frozen=True, slots=True)
class MemberRemoved(RegistryEvent):
    event: ClassVar[str] = "MemberRemoved"
    contract: ClassVar[str] = "Consortium"
    account: str


@dataclass(frozen=True, slots=True)
class MemberRoleChanged(RegistryEvent):
    event: ClassVar[str] = "MemberRoleChanged"
    contract: ClassVar[str] = "Consortium"
    account: str
    previous_role: Role
    role: Role


# --- building events from decoded arguments -------------------------------------------------------

Args = Mapping[str, Any]


def _values(args: Args) -> tuple[tuple[HandleValue, ...], bytes]:
    encoding = bytes(args["values"])
    return tuple(decode_values(encoding)), encoding


def _written(cls: type[IdentifierWritten]) -> Callable[[LogPosition, Args], Any]:
    def build(position: LogPosition, args: Args) -> Any:
        values, encoding = _values(args)
        event = cls(
            position,
            handle_key=args["handleKey"],
            prefix_node=args["prefixNode"],
            suffix=args["suffix"],
            template=args["template"],
            values=values,
            values_encoding=encoding,
            version=args["version"],
            commitment=args["commitment"],
        )
        if commitment(event.template, encoding) != event.commitment:
            raise ValueError("its commitment is not keccak(template ‖ values)")
        _check_key(event.handle_key, event.prefix_node, event.suffix)
        return event

    return build


def _check_key(key: bytes, node: bytes, suffix: str) -> None:
    if handle_key(node, suffix) != key:
        raise ValueError("its handle key is not keccak(prefixNode ‖ keccak(suffix))")


def _deleted(position: LogPosition, args: Args) -> IdentifierDeleted:
    event = IdentifierDeleted(
        position, args["handleKey"], args["prefixNode"], args["suffix"], args["version"]
    )
    _check_key(event.handle_key, event.prefix_node, event.suffix)
    return event


_BUILDERS: Final[dict[str, Callable[[LogPosition, Args], RegistryEvent]]] = {
    "IdentifierCreated": _written(IdentifierCreated),
    "IdentifierUpdated": _written(IdentifierUpdated),
    "IdentifierDeleted": _deleted,
    "BatchRegistered": lambda pos, a: BatchRegistered(
        pos, a["batchId"], a["prefixNode"], a["registrant"], a["root"], a["count"], a["recordsHash"]
    ),
    "TemplateRegistered": lambda pos, a: TemplateRegistered(
        pos,
        a["templateId"],
        a["prefixNode"],
        a["name"],
        a["version"],
        tuple(TemplateField.from_abi(f) for f in a["fields"]),
    ),
    "PrefixRegistered": lambda pos, a: PrefixRegistered(
        pos, a["node"], a["parent"], a["owner"], a["name"], a["expiry"]
    ),
    "PrefixTransferStarted": lambda pos, a: PrefixTransferStarted(
        pos, a["node"], a["owner"], a["pendingOwner"], a["name"]
    ),
    "PrefixTransferCancelled": lambda pos, a: PrefixTransferCancelled(pos, a["node"], a["owner"], a["name"]),
    "PrefixOwnershipTransferred": lambda pos, a: PrefixOwnershipTransferred(
        pos, a["node"], a["previousOwner"], a["newOwner"], a["name"]
    ),
    "PrefixOperatorChanged": lambda pos, a: PrefixOperatorChanged(
        pos, a["node"], a["operator"], a["approved"], a["name"]
    ),
    "PrefixStatusChanged": lambda pos, a: PrefixStatusChanged(
        pos, a["node"], PrefixStatus(a["status"]), a["by"], a["name"]
    ),
    "PrefixRenewed": lambda pos, a: PrefixRenewed(pos, a["node"], a["expiry"], a["name"]),
    "PrefixServiceChanged": lambda pos, a: PrefixServiceChanged(
        pos, a["node"], tuple(a["resolvers"]), a["chainId"], a["registry"], a["name"]
    ),
    "PrefixMetadataChanged": lambda pos, a: PrefixMetadataChanged(
        pos, a["node"], a["metadataHash"], a["name"]
    ),
    "MemberAdded": lambda pos, a: MemberAdded(pos, a["account"], a["organisation"], Role(a["role"])),
    "MemberRemoved": lambda pos, a: MemberRemoved(pos, a["account"]),
    "MemberRoleChanged": lambda pos, a: MemberRoleChanged(
        pos, a["account"], Role(a["previousRole"]), Role(a["role"])
    ),
}

EVENT_CLASSES: Final[tuple[type[RegistryEvent], ...]] = (
    IdentifierCreated,
    IdentifierUpdated,
    IdentifierDeleted,
    BatchRegistered,
    TemplateRegistered,
    PrefixRegistered,
    PrefixTransferStarted,
    PrefixTransferCancelled,
    PrefixOwnershipTransferred,
    PrefixOperatorChanged,
    PrefixStatusChanged,
    PrefixRenewed,
    PrefixServiceChanged,
    PrefixMetadataChanged,
    MemberAdded,
    MemberRemoved,
    MemberRoleChanged,
)
CONTRACTS: Final = ("Consortium", "PrefixRegistry", "IdentifierRegistry")


_FAST_STATIC: Final = {
    "bytes32": 0,
    "address": 160,
    "bool": 1,
    "uint8": 8,
    "uint32": 32,
    "uint64": 64,
    "uint256": 256,
}
_FAST_DYNAMIC: Final = frozenset({"string", "bytes"})


def _fast_word(abi_type: str, word: bytes) -> tuple[Any] | None:
    """One static value from its 32-byte word, as eth_abi decodes it; None when the word is not
    in canonical form (eth_abi then decides)."""
    if len(word) != 32:
        return None
    bits = _FAST_STATIC[abi_type]
    if bits == 0:
        return (word,)
    value = int.from_bytes(word, "big")
    if value >> bits:
        return None
    if abi_type == "address":
        return ("0x" + word[12:].hex(),)
    if abi_type == "bool":
        return (value == 1,)
    return (value,)


_BYTES32, _UINT, _ADDRESS, _BOOL, _STRING, _BYTES = range(6)
_KINDS: Final = {"bytes32": _BYTES32, "address": _ADDRESS, "bool": _BOOL, "string": _STRING, "bytes": _BYTES}


@functools.lru_cache(maxsize=64)
def _plan(types: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """(kind, bits) of each of ``types`` for :func:`_fast_decode` (bits: of a static number).

    :raises KeyError: a type :func:`_fast_decode` does not handle (a zero word of it would
        otherwise decode as the integer 0).
    """
    return tuple(
        (_KINDS.get(abi_type, _UINT), 0 if abi_type in _FAST_DYNAMIC else _FAST_STATIC[abi_type])
        for abi_type in types
    )


def _fast_decode(types: tuple[str, ...], data: bytes) -> list[Any] | None:
    """ABI-decode ``data`` as ``types`` when it is in the canonical layout (head, then each
    dynamic tail in order, zero padding, nothing after): a few microseconds instead of
    eth_abi's tens. None for anything else, which eth_abi then decides (or refuses)."""
    size = len(data)
    position = 32 * len(types)
    if size < position:
        return None
    values: list[Any] = []
    append = values.append
    from_bytes = int.from_bytes
    for i, (kind, bits) in enumerate(_plan(types)):
        head = 32 * i
        if kind == _BYTES32:
            append(data[head : head + 32])
            continue
        value = from_bytes(data[head : head + 32], "big")
        if kind < _STRING:  # a static number, address or bool
            if value >> bits:
                return None
            append(
                value
                if kind == _UINT
                else value == 1
                if kind == _BOOL
                else "0x" + data[head + 12 : head + 32].hex()
            )
            continue
        if value != position or position + 32 > size:
            return None
        length = from_bytes(data[position : position + 32], "big")
        start = position + 32
        end = start + length
        padded = start + (length + 31) // 32 * 32
        if padded > size or data[end:padded].count(0) != padded - end:
            return None
        if kind == _STRING:
            try:
                append(data[start:end].decode("utf-8"))
            except UnicodeDecodeError:
                return None
        else:
            append(data[start:end])
        position = padded
    return values if position == size else None


@dataclass(frozen=True, slots=True)
class _EventSpec:
    """One event's ABI, reduced to what decoding needs."""

    name: str
    indexed: tuple[tuple[str, str], ...]  # (name, type) of the topics after topic0
    plain_names: tuple[str, ...]
    plain_types: tuple[str, ...]
    addresses: tuple[str, ...]  # names of the address arguments
    build: Callable[[LogPosition, Args], RegistryEvent]

    fast: bool = False  # every type is one _fast_decode handles

    def decode(self, raw: RawLog) -> RegistryEvent:
        if len(raw.topics) != 1 + len(self.indexed):
            raise ValueError(f"it has {len(raw.topics)} topics, the event {1 + len(self.indexed)}")
        args: dict[str, Any] = {}
        plain = _fast_decode(self.plain_types, raw.data) if self.fast else None
        for (name, abi_type), topic in zip(self.indexed, raw.topics[1:], strict=True):
            word = _fast_word(abi_type, topic) if self.fast else None
            args[name] = decode([abi_type], topic, strict=True)[0] if word is None else word[0]
        decoded: Sequence[Any] = (
            decode(list(self.plain_types), raw.data, strict=True) if plain is None else plain
        )
        args.update(zip(self.plain_names, decoded, strict=True))
        for name in self.addresses:  # eth_abi answers lower-case hex; records want EIP-55
            args[name] = checksum(args[name])
        return self.build(LogPosition.of(raw), args)


def _specs(contract: str) -> dict[bytes, _EventSpec]:
    """topic0 → spec for the events of ``contract`` the index needs, from its ABI."""
    wanted = {cls.event for cls in EVENT_CLASSES if cls.contract == contract}
    specs: dict[bytes, _EventSpec] = {}
    for item in load(contract).abi:
        if item.get("type") != "event" or item["name"] not in wanted:
            continue
        inputs = item["inputs"]
        topic = bytes(event_abi_to_log_topic(item))  # type: ignore[arg-type]
        specs[topic] = _EventSpec(
            name=item["name"],
            indexed=tuple((i["name"], collapse_if_tuple(i)) for i in inputs if i["indexed"]),
            plain_names=tuple(i["name"] for i in inputs if not i["indexed"]),
            plain_types=tuple(collapse_if_tuple(i) for i in inputs if not i["indexed"]),
            addresses=tuple(i["name"] for i in inputs if i["type"] == "address"),
            build=_BUILDERS[item["name"]],
            fast=all(
                collapse_if_tuple(i) in _FAST_STATIC or (not i["indexed"] and i["type"] in _FAST_DYNAMIC)
                for i in inputs
            ),
        )
        wanted.discard(item["name"])
    if wanted:
        raise AssertionError(f"the {contract} ABI lacks events {sorted(wanted)}")  # a stale artifact
    return specs


class EventDecoder:
    """Decodes the logs of one deployment of the registry contracts.

    :param contracts: ``{"Consortium", "PrefixRegistry", "IdentifierRegistry": address}``
        (hex strings or 20 raw bytes); contracts left out are not decoded.
    """

    def __init__(self, contracts: Mapping[str, str | bytes]) -> None:
        unknown = set(contracts) - set(CONTRACTS)
        if unknown:
            raise ValueError(f"unknown contracts {sorted(unknown)}; expected some of {CONTRACTS}")
        self.addresses: dict[str, str] = {name: to_checksum_address(a) for name, a in contracts.items()}
        self._tables: dict[str, dict[bytes, _EventSpec]] = {
            address: _specs(name) for name, address in self.addresses.items()
        }

    def topic(self, contract: str, event: str) -> bytes:
        """topic0 of ``event`` of ``contract``, as this decoder reads it.

        :raises KeyError: The decoder does not decode that event of that contract.
        """
        table = self._tables[self.addresses[contract]]
        for topic, spec in table.items():
            if spec.name == event:
                return topic
        raise KeyError(f"{contract} has no indexed event {event}")

    def decode(self, raw: RawLog) -> RegistryEvent | None:
        """The event ``raw`` holds, or None when the index does not need it.

        :raises EventDecodeError: ``raw`` has the topic of a needed event of its contract but
            does not decode as that event.
        """
        table = self._tables.get(checksum(raw.address))
        if table is None or not raw.topics:
            return None
        spec = table.get(raw.topics[0])
        if spec is None:
            return None
        try:
            return spec.decode(raw)
        except (DecodingError, IdfuseError, ValueError, TypeError, OverflowError) as error:
            raise EventDecodeError(
                f"{spec.name} log {raw.log_index} of block {raw.block_number} "
                f"(transaction 0x{raw.tx_hash.hex()}, contract {raw.address}) does not decode: {error}"
            ) from error

    def decode_all(self, logs: Iterable[RawLog]) -> list[RegistryEvent]:
        """The events of ``logs`` the index needs, in the given order."""
        return [event for event in map(self.decode, logs) if event is not None]


def decode_batch_call(
    tx_input: bytes, registry_address: str | bytes, tx_to: str | bytes | None, event: BatchRegistered
) -> list[BatchRow]:
    """The records of the batch ``event`` announced, from its transaction's input.

    :param tx_input: The transaction's input.
    :param registry_address: The IdentifierRegistry's address.
    :param tx_to: The transaction's recipient (None for a contract creation).
    :param event: The ``BatchRegistered`` event the transaction emitted.
    :return: The records in blob order (:func:`idfuse_sdk.encoding.decode_batch_rows`), each
        with its handle key and commitment.
    :raises BatchCalldataUnavailableError: the transaction did not call the registry directly
        (a contract relayed the batch), so the input does not hold the records.
    :raises EventDecodeError: it called the registry, but not ``registerBatch``, or with
        records whose hash, prefix or count differ from the event's, or malformed records.
    """
    position = event.position
    where = f"batch {event.batch_id} (transaction 0x{position.tx_hash.hex()})"
    recipient = None if tx_to is None else to_checksum_address(tx_to)
    if recipient is None or recipient != to_checksum_address(registry_address):
        raise BatchCalldataUnavailableError(
            event.batch_id, position.tx_hash, f"the transaction was sent to {recipient}, not the registry"
        )
    if tx_input[:4] != REGISTER_BATCH_SELECTOR:
        raise EventDecodeError(f"{where}: the transaction to the registry did not call {REGISTER_BATCH}")
    try:
        prefix_node, records = decode(["bytes32", "bytes"], tx_input[4:], strict=False)
    except DecodingError as error:
        raise EventDecodeError(f"{where}: the {REGISTER_BATCH} arguments do not decode: {error}") from error
    if keccak(records) != event.records_hash:
        raise EventDecodeError(f"{where}: keccak(records) does not match the event's recordsHash")
    if prefix_node != event.prefix_node:
        raise EventDecodeError(f"{where}: the call's prefixNode does not match the event's")
    try:
        entries = decode_batch_rows(prefix_node, records)
    except IdfuseError as error:
        raise EventDecodeError(f"{where}: the records do not decode: {error}") from error
    if len(entries) != event.count:
        raise EventDecodeError(f"{where}: {len(entries)} records, the event counts {event.count}")
    return entries
