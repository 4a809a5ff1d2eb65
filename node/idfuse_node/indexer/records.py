"""The records the index stores (docs/index.md, "Records"): frozen, slotted dataclasses.

Each record has ``to_json()`` (the JSON-friendly dict the resolver serves), ``from_json()``
(its inverse, checking every field's type), ``to_bytes()`` (what the store holds: compact
JSON, UTF-8) and ``from_bytes()``; ``from_bytes(x.to_bytes()) == x``. The stored form is
``to_json()`` but for provenance: a :class:`Provenance` is stored as an array
(:meth:`Provenance.packed`), and a :class:`HandleRecord` stores each distinct provenance once,
its values and ``created`` / ``provenance`` referring to them by position (docs/index.md,
"Stored forms"). Decoding raises :class:`~idfuse_node.exceptions.IndexCorruptError` for
anything that is not what ``to_bytes`` writes; unknown members are ignored, so a later
version may add fields.

The conversions are written out field by field rather than through ``dataclasses.asdict``
and reflection: the resolver decodes a :class:`HandleRecord` per request, and explicit code
is several times faster. Bytes are ``0x``-prefixed lower-case hex strings and addresses
EIP-55 strings; records store them as given (the applier normalises them).

:class:`TemplateField` is the index's copy of a template field (``format`` as its lower-case
name); it shares its name with :class:`idfuse_sdk.encoding.TemplateField`, so code that needs
both imports the modules (``records.TemplateField``, ``encoding.TemplateField``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Self

import orjson

from idfuse_node.exceptions import IndexCorruptError
from idfuse_node.jsonbytes import dumps

__all__ = [
    "BatchRecordInfo",
    "ChainBinding",
    "Checkpoint",
    "Counts",
    "HandleRecord",
    "HistoryEntry",
    "IndexedValue",
    "PrefixRecord",
    "Provenance",
    "Record",
    "ServiceRecord",
    "TemplateField",
    "TemplateRecord",
]

_loads = json.JSONDecoder().decode
"""The exact reader: integers of any size (orjson reads those past 64 bits as floats)."""


class _Malformed(Exception):  # noqa: N818  # internal signal, always turned into IndexCorruptError
    """A member has the wrong type; caught in :meth:`Record.from_json`."""


def _int(value: object) -> int:
    if type(value) is not int:
        raise _Malformed(f"expected an integer, got {type(value).__name__}")
    return value


def _str(value: object) -> str:
    if type(value) is not str:
        raise _Malformed(f"expected a string, got {type(value).__name__}")
    return value


HANDLE_EVENTS: Final = frozenset(
    {"IdentifierCreated", "IdentifierUpdated", "IdentifierDeleted", "BatchRecord"}
)
"""The changes that leave a handle's state: its history entries' events."""


def _event(value: object) -> str:
    if value not in HANDLE_EVENTS:
        raise _Malformed(f"expected one of {sorted(HANDLE_EVENTS)}, got {value!r}")
    return str(value)


def _bool(value: object) -> bool:
    if type(value) is not bool:
        raise _Malformed(f"expected a boolean, got {type(value).__name__}")
    return value


def _opt_int(value: object) -> int | None:
    return None if value is None else _int(value)


def _opt_str(value: object) -> str | None:
    return None if value is None else _str(value)


def _dict(value: object) -> dict[str, Any]:
    if type(value) is not dict:
        raise _Malformed(f"expected an object, got {type(value).__name__}")
    return value


def _list(value: object) -> list[Any]:
    if type(value) is not list:
        raise _Malformed(f"expected a list, got {type(value).__name__}")
    return value


def _strs(value: object) -> tuple[str, ...]:
    return tuple(_str(item) for item in _list(value))


def _row(value: object, sizes: tuple[int, ...], what: str) -> list[Any]:
    row = _list(value)
    if len(row) not in sizes:
        raise _Malformed(f"{what} has {' or '.join(map(str, sizes))} members, not {len(row)}")
    return row


def _ref(value: object, size: int) -> int:
    position = _int(value)
    if not 0 <= position < size:
        raise _Malformed(f"provenance reference {position} is not below {size}")
    return position


_DECODE_ERRORS: Final = (_Malformed, KeyError, TypeError, ValueError, AttributeError, IndexError)


@dataclass(frozen=True, slots=True)
class Record:
    """Base of every record: the byte and JSON conversions over ``to_json`` / ``_decode`` (and
    ``_stored`` / ``_unstored`` where the stored form differs)."""

    _name: ClassVar[str] = "record"
    _provenances: ClassVar[tuple[str, ...]] = ()
    """Members holding a :class:`Provenance`, stored packed by the default :meth:`_stored`."""
    _exact: ClassVar[bool] = False
    """Read stored bytes with the standard library only: the record holds free-form JSON, where
    an integer past 64 bits read by orjson (as a float) would pass unnoticed."""

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON-friendly dict (what the resolver serves)."""
        raise NotImplementedError

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        raise NotImplementedError

    def _stored(self) -> Any:
        """The JSON-friendly form :meth:`to_bytes` writes."""
        document = self.to_json()
        for name in self._provenances:
            document[name] = getattr(self, name).packed()
        return document

    @classmethod
    def _unstored(cls, obj: Any) -> Self:
        """The record a :meth:`_stored` form describes (raising what :func:`_DECODE_ERRORS` lists)."""
        return cls._decode(_dict(obj))

    @classmethod
    def from_json(cls, obj: object) -> Self:
        """The record a :meth:`to_json` dict describes.

        :param obj: The decoded JSON.
        :return: The record.
        :raises IndexCorruptError: ``obj`` is not an object with every member of the right type.
        """
        try:
            return cls._decode(_dict(obj))
        except _DECODE_ERRORS as exc:
            raise IndexCorruptError(f"stored {cls._name} is malformed: {type(exc).__name__}: {exc}") from None

    def to_bytes(self) -> bytes:
        """The record as stored: compact JSON, UTF-8."""
        return dumps(self._stored())

    @classmethod
    def from_bytes(cls, raw: bytes) -> Self:
        """The record :meth:`to_bytes` wrote.

        Read with orjson (the resolver decodes a record per request); anything that does not
        decode that way (a number past 64 bits, which orjson reads as a float, or a damaged
        value) is decided by the standard library's exact reader.

        :param raw: The stored value.
        :return: The record.
        :raises IndexCorruptError: ``raw`` is not such a record.
        """
        if not cls._exact:
            try:
                return cls._unstored(orjson.loads(raw))
            except (orjson.JSONDecodeError, *_DECODE_ERRORS):
                pass
        try:
            obj = _loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, AttributeError, RecursionError) as exc:
            raise IndexCorruptError(f"stored {cls._name} is not JSON: {exc}") from None
        try:
            return cls._unstored(obj)
        except _DECODE_ERRORS as exc:
            raise IndexCorruptError(f"stored {cls._name} is malformed: {type(exc).__name__}: {exc}") from None


@dataclass(frozen=True, slots=True)
class Provenance(Record):
    """Where on chain a fact came from; for a batch record, ``log_index`` is the
    ``BatchRegistered`` log and ``batch_id`` / ``record_index`` name the record."""

    chain_id: int
    registry: str
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    batch_id: int | None = None
    record_index: int | None = None

    _name: ClassVar[str] = "provenance"

    def to_json(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "registry": self.registry,
            "block_number": self.block_number,
            "block_hash": self.block_hash,
            "tx_hash": self.tx_hash,
            "log_index": self.log_index,
            "batch_id": self.batch_id,
            "record_index": self.record_index,
        }

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        return cls(
            _int(obj["chain_id"]),
            _str(obj["registry"]),
            _int(obj["block_number"]),
            _str(obj["block_hash"]),
            _str(obj["tx_hash"]),
            _int(obj["log_index"]),
            _opt_int(obj.get("batch_id")),
            _opt_int(obj.get("record_index")),
        )

    def packed(self) -> list[Any]:
        """The stored form: ``[chain_id, registry, block_number, block_hash, tx_hash,
        log_index]``, and ``batch_id, record_index`` after them when either is set."""
        row: list[Any] = [
            self.chain_id,
            self.registry,
            self.block_number,
            self.block_hash,
            self.tx_hash,
            self.log_index,
        ]
        if self.batch_id is not None or self.record_index is not None:
            row += (self.batch_id, self.record_index)
        return row

    @classmethod
    def unpacked(cls, value: object) -> Self:
        """The provenance a :meth:`packed` array describes (raising what ``_DECODE_ERRORS`` lists)."""
        row = _row(value, (6, 8), "a packed provenance")
        return cls(
            _int(row[0]),
            _str(row[1]),
            _int(row[2]),
            _str(row[3]),
            _str(row[4]),
            _int(row[5]),
            *((_opt_int(row[6]), _opt_int(row[7])) if len(row) == 8 else ()),
        )

    def _stored(self) -> Any:
        return self.packed()

    @classmethod
    def _unstored(cls, obj: Any) -> Self:
        return cls.unpacked(obj)


def _provenance(value: object) -> Provenance:
    """A provenance in either form: :meth:`Provenance.to_json`'s object or the packed array."""
    if type(value) is list:
        return Provenance.unpacked(value)
    return Provenance._decode(_dict(value))


@dataclass(frozen=True, slots=True)
class IndexedValue(Record):
    """One value of a handle; ``timestamp`` and ``provenance`` are those of the write that
    last changed it (a byte-identical update keeps them)."""

    index: int
    type: str
    format: str
    data: str
    ttl: int
    permissions: int
    timestamp: int
    provenance: Provenance

    _name: ClassVar[str] = "indexed value"
    _provenances: ClassVar[tuple[str, ...]] = ("provenance",)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "type": self.type,
            "format": self.format,
            "data": self.data,
            "ttl": self.ttl,
            "permissions": self.permissions,
            "timestamp": self.timestamp,
            "provenance": self.provenance.to_json(),
        }

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        return cls(
            _int(obj["index"]),
            _str(obj["type"]),
            _str(obj["format"]),
            _str(obj["data"]),
            _int(obj["ttl"]),
            _int(obj["permissions"]),
            _int(obj["timestamp"]),
            _provenance(obj["provenance"]),
        )

    def packed(self, provenance: int) -> list[Any]:
        """The stored form inside a :class:`HandleRecord`: ``[index, type, format, data, ttl,
        permissions, timestamp, provenance]``, ``provenance`` a position in the record's table."""
        return [
            self.index,
            self.type,
            self.format,
            self.data,
            self.ttl,
            self.permissions,
            self.timestamp,
            provenance,
        ]

    @classmethod
    def unpacked(cls, value: object, provenances: Sequence[Provenance]) -> Self:
        """The value a :meth:`packed` array describes, its provenance looked up in ``provenances``."""
        row = _row(value, (8,), "a packed value")
        return cls(
            _int(row[0]),
            _str(row[1]),
            _str(row[2]),
            _str(row[3]),
            _int(row[4]),
            _int(row[5]),
            _int(row[6]),
            provenances[_ref(row[7], len(provenances))],
        )


@dataclass(frozen=True, slots=True)
class HandleRecord(Record):
    """A handle's current state (``deleted`` handles keep their record, values empty).

    ``event`` and ``timestamp`` are those of the change that left this state (at
    ``provenance``): one of :data:`HANDLE_EVENTS`, and its block's time. The record stands for
    that change's history entry (:meth:`history_entry`), which is stored under ``hhist:`` only
    once a later change supersedes it: a handle's last change is not written twice.
    """

    handle: str
    prefix: str
    suffix: str
    handle_key: str
    prefix_node: str
    template: str
    values: tuple[IndexedValue, ...]
    version: int
    commitment: str
    source: str
    deleted: bool
    created: Provenance
    provenance: Provenance
    event: str
    timestamp: int

    _name: ClassVar[str] = "handle record"

    def history_entry(self) -> HistoryEntry:
        """The history entry of the change that left this state: the event's arguments as
        :func:`idfuse_node.indexer.apply.event_detail` gives them (a batch record: its batch,
        its index there and its commitment)."""
        if self.event == "BatchRecord":
            detail: dict[str, Any] = {
                "batch_id": self.provenance.batch_id,
                "record_index": self.provenance.record_index,
                "commitment": self.commitment,
            }
        elif self.event == "IdentifierDeleted":
            detail = {
                "handle_key": self.handle_key,
                "prefix_node": self.prefix_node,
                "suffix": self.suffix,
                "version": self.version,
            }
        else:  # IdentifierCreated, IdentifierUpdated: the values the event wrote
            detail = {
                "handle_key": self.handle_key,
                "prefix_node": self.prefix_node,
                "suffix": self.suffix,
                "template": self.template,
                "values": [
                    {
                        "index": value.index,
                        "type": value.type,
                        "format": value.format,
                        "data": value.data,
                        "ttl": value.ttl,
                        "permissions": value.permissions,
                    }
                    for value in self.values
                ],
                "version": self.version,
                "commitment": self.commitment,
            }
        return HistoryEntry(self.event, self.timestamp, self.provenance, detail)

    def to_json(self) -> dict[str, Any]:
        return {
            "handle": self.handle,
            "prefix": self.prefix,
            "suffix": self.suffix,
            "handle_key": self.handle_key,
            "prefix_node": self.prefix_node,
            "template": self.template,
            "values": [value.to_json() for value in self.values],
            "version": self.version,
            "commitment": self.commitment,
            "source": self.source,
            "deleted": self.deleted,
            "created": self.created.to_json(),
            "provenance": self.provenance.to_json(),
            "event": self.event,
            "timestamp": self.timestamp,
        }

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        return cls(
            _str(obj["handle"]),
            _str(obj["prefix"]),
            _str(obj["suffix"]),
            _str(obj["handle_key"]),
            _str(obj["prefix_node"]),
            _str(obj["template"]),
            tuple(IndexedValue._decode(_dict(value)) for value in _list(obj["values"])),
            _int(obj["version"]),
            _str(obj["commitment"]),
            _str(obj["source"]),
            _bool(obj["deleted"]),
            _provenance(obj["created"]),
            _provenance(obj["provenance"]),
            _event(obj["event"]),
            _int(obj["timestamp"]),
        )

    def _stored(self) -> Any:
        # Each distinct provenance once (a created handle's values, ``created`` and
        # ``provenance`` are usually one object), referred to by its position in ``provenances``;
        # a record has few, so a scan by identity, then equality, beats hashing eight fields.
        known: list[Provenance] = []

        def ref(provenance: Provenance) -> int:
            for position, seen in enumerate(known):
                if seen is provenance or seen == provenance:
                    return position
            known.append(provenance)
            return len(known) - 1

        return {
            "handle": self.handle,
            "prefix": self.prefix,
            "suffix": self.suffix,
            "handle_key": self.handle_key,
            "prefix_node": self.prefix_node,
            "template": self.template,
            "values": [value.packed(ref(value.provenance)) for value in self.values],
            "version": self.version,
            "commitment": self.commitment,
            "source": self.source,
            "deleted": self.deleted,
            "created": ref(self.created),
            "provenance": ref(self.provenance),
            "provenances": [provenance.packed() for provenance in known],
            "event": self.event,
            "timestamp": self.timestamp,
        }

    @classmethod
    def _unstored(cls, obj: Any) -> Self:
        obj = _dict(obj)
        table = tuple(Provenance.unpacked(row) for row in _list(obj["provenances"]))
        size = len(table)
        return cls(
            _str(obj["handle"]),
            _str(obj["prefix"]),
            _str(obj["suffix"]),
            _str(obj["handle_key"]),
            _str(obj["prefix_node"]),
            _str(obj["template"]),
            tuple(IndexedValue.unpacked(value, table) for value in _list(obj["values"])),
            _int(obj["version"]),
            _str(obj["commitment"]),
            _str(obj["source"]),
            _bool(obj["deleted"]),
            table[_ref(obj["created"], size)],
            table[_ref(obj["provenance"], size)],
            _event(obj["event"]),
            _int(obj["timestamp"]),
        )


@dataclass(frozen=True, slots=True)
class ServiceRecord(Record):
    """A prefix's service information: resolver URLs and the chain and registry it lives on."""

    resolvers: tuple[str, ...]
    chain_id: int
    registry: str

    _name: ClassVar[str] = "service record"

    def to_json(self) -> dict[str, Any]:
        return {"resolvers": list(self.resolvers), "chain_id": self.chain_id, "registry": self.registry}

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        return cls(_strs(obj["resolvers"]), _int(obj["chain_id"]), _str(obj["registry"]))


@dataclass(frozen=True, slots=True)
class PrefixRecord(Record):
    """A prefix: its own status and expiry, and the effective ones its ancestors impose."""

    prefix: str
    node: str
    parent: str
    owner: str
    pending_owner: str | None
    status: str
    effective_status: str
    effective_from: str | None
    expiry: int
    effective_expiry: int
    operators: tuple[str, ...]
    service: ServiceRecord | None
    metadata_hash: str
    created: Provenance
    provenance: Provenance

    _name: ClassVar[str] = "prefix record"
    _provenances: ClassVar[tuple[str, ...]] = ("created", "provenance")

    def to_json(self) -> dict[str, Any]:
        return {
            "prefix": self.prefix,
            "node": self.node,
            "parent": self.parent,
            "owner": self.owner,
            "pending_owner": self.pending_owner,
            "status": self.status,
            "effective_status": self.effective_status,
            "effective_from": self.effective_from,
            "expiry": self.expiry,
            "effective_expiry": self.effective_expiry,
            "operators": list(self.operators),
            "service": None if self.service is None else self.service.to_json(),
            "metadata_hash": self.metadata_hash,
            "created": self.created.to_json(),
            "provenance": self.provenance.to_json(),
        }

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        service = obj["service"]
        return cls(
            _str(obj["prefix"]),
            _str(obj["node"]),
            _str(obj["parent"]),
            _str(obj["owner"]),
            _opt_str(obj["pending_owner"]),
            _str(obj["status"]),
            _str(obj["effective_status"]),
            _opt_str(obj["effective_from"]),
            _int(obj["expiry"]),
            _int(obj["effective_expiry"]),
            _strs(obj["operators"]),
            None if service is None else ServiceRecord._decode(_dict(service)),
            _str(obj["metadata_hash"]),
            _provenance(obj["created"]),
            _provenance(obj["provenance"]),
        )


@dataclass(frozen=True, slots=True)
class TemplateField(Record):
    """A template field as the index stores it (``format`` is the lower-case ``ValueFormat`` name)."""

    value_type: str
    format: str
    required: bool
    min_length: int
    max_length: int

    _name: ClassVar[str] = "template field"

    def to_json(self) -> dict[str, Any]:
        return {
            "value_type": self.value_type,
            "format": self.format,
            "required": self.required,
            "min_length": self.min_length,
            "max_length": self.max_length,
        }

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        return cls(
            _str(obj["value_type"]),
            _str(obj["format"]),
            _bool(obj["required"]),
            _int(obj["min_length"]),
            _int(obj["max_length"]),
        )


@dataclass(frozen=True, slots=True)
class TemplateRecord(Record):
    """A registered data template (immutable once registered)."""

    template_id: str
    prefix_node: str
    prefix: str
    name: str
    version: int
    fields: tuple[TemplateField, ...]
    provenance: Provenance

    _name: ClassVar[str] = "template record"
    _provenances: ClassVar[tuple[str, ...]] = ("provenance",)

    def to_json(self) -> dict[str, Any]:
        return {
            "template_id": self.template_id,
            "prefix_node": self.prefix_node,
            "prefix": self.prefix,
            "name": self.name,
            "version": self.version,
            "fields": [field.to_json() for field in self.fields],
            "provenance": self.provenance.to_json(),
        }

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        return cls(
            _str(obj["template_id"]),
            _str(obj["prefix_node"]),
            _str(obj["prefix"]),
            _str(obj["name"]),
            _int(obj["version"]),
            tuple(TemplateField._decode(_dict(field)) for field in _list(obj["fields"])),
            _provenance(obj["provenance"]),
        )


@dataclass(frozen=True, slots=True)
class BatchRecordInfo(Record):
    """A registered batch; ``duplicates`` are the suffixes ignored because the handle existed."""

    batch_id: int
    prefix_node: str
    prefix: str
    registrant: str
    root: str
    count: int
    records_hash: str
    accepted: int
    duplicates: tuple[str, ...]
    provenance: Provenance

    _name: ClassVar[str] = "batch record"
    _provenances: ClassVar[tuple[str, ...]] = ("provenance",)

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "prefix_node": self.prefix_node,
            "prefix": self.prefix,
            "registrant": self.registrant,
            "root": self.root,
            "count": self.count,
            "records_hash": self.records_hash,
            "accepted": self.accepted,
            "duplicates": list(self.duplicates),
            "provenance": self.provenance.to_json(),
        }

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        return cls(
            _int(obj["batch_id"]),
            _str(obj["prefix_node"]),
            _str(obj["prefix"]),
            _str(obj["registrant"]),
            _str(obj["root"]),
            _int(obj["count"]),
            _str(obj["records_hash"]),
            _int(obj["accepted"]),
            _strs(obj["duplicates"]),
            _provenance(obj["provenance"]),
        )


@dataclass(frozen=True, slots=True)
class HistoryEntry(Record):
    """One change to a handle or prefix: the event's name and its arguments in JSON form.

    ``detail`` must already be JSON-friendly (str keys; str, int, bool, None, lists, dicts):
    a tuple in it would come back as a list, and the round trip would not be exact.
    """

    event: str
    timestamp: int
    provenance: Provenance
    detail: dict[str, Any]

    _name: ClassVar[str] = "history entry"
    _exact: ClassVar[bool] = True  # ``detail`` may hold any uint256 of an event

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "timestamp": self.timestamp,
            "provenance": self.provenance.to_json(),
            "detail": self.detail,
        }

    def _stored(self) -> Any:
        # written out, not the default's to_json-then-pack: one history entry an indexed event
        return {
            "event": self.event,
            "timestamp": self.timestamp,
            "provenance": self.provenance.packed(),
            "detail": self.detail,
        }

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        return cls(
            _str(obj["event"]), _int(obj["timestamp"]), _provenance(obj["provenance"]), _dict(obj["detail"])
        )


@dataclass(frozen=True, slots=True)
class Checkpoint(Record):
    """The last block the index holds (``hash`` as ``0x`` hex; ``timestamp`` in seconds)."""

    number: int
    hash: str
    timestamp: int

    _name: ClassVar[str] = "checkpoint"

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "hash": self.hash, "timestamp": self.timestamp}

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        return cls(_int(obj["number"]), _str(obj["hash"]), _int(obj["timestamp"]))


@dataclass(frozen=True, slots=True)
class ChainBinding(Record):
    """The chain and registry contracts (name → address) an index follows."""

    chain_id: int
    contracts: dict[str, str]

    _name: ClassVar[str] = "chain binding"

    def to_json(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "contracts": dict(self.contracts)}

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        contracts = {_str(name): _str(address) for name, address in _dict(obj["contracts"]).items()}
        return cls(_int(obj["chain_id"]), contracts)


@dataclass(frozen=True, slots=True)
class Counts(Record):
    """How many prefixes, live identifiers and batches the index holds."""

    prefixes: int
    identifiers: int
    batches: int

    _name: ClassVar[str] = "counts"

    def to_json(self) -> dict[str, Any]:
        return {"prefixes": self.prefixes, "identifiers": self.identifiers, "batches": self.batches}

    @classmethod
    def _decode(cls, obj: dict[str, Any]) -> Self:
        return cls(_int(obj["prefixes"]), _int(obj["identifiers"]), _int(obj["batches"]))
