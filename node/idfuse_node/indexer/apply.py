"""The index's rules: decoded registry events of one block applied to a writer.

:class:`BlockApplier` turns the events of one block (in log order) into records, keys,
counters and history entries through a :class:`~idfuse_node.indexer.writer.BlockWriter` (or a
:class:`~idfuse_node.indexer.writer.FinalBlocksWriter` positioned at that block). The rules are
written out in docs/index.md ("Rules"); in short:

- prefixes keep their own status and expiry and the effective ones their ancestors impose; a
  status or expiry change recomputes the whole subtree (over ``v6:child:``);
- a handle written individually (``createIdentifier``) replaces any batch record of it; a
  batch record for a handle that already has a record (live or deleted) is a duplicate;
- an update keeps the timestamp and provenance of every value it leaves byte-identical;
- every change sets the record's ``provenance`` and appends a history entry.

Batch records come from the ``registerBatch`` calldata the follower fetched
(:func:`~idfuse_node.indexer.events.decode_batch_call`); when a batch was relayed by another
contract its records are unknown: the batch is recorded with ``accepted`` 0 and its prefix
history says ``records_available: false``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields, replace
from enum import Enum
from typing import Any, Final

from idfuse_node.exceptions import BatchCalldataUnavailableError, IndexConsistencyError
from idfuse_node.indexer import events as ev
from idfuse_node.indexer import schema
from idfuse_node.indexer.records import (
    BatchRecordInfo,
    HandleRecord,
    HistoryEntry,
    IndexedValue,
    PrefixRecord,
    Provenance,
    ServiceRecord,
    TemplateField,
    TemplateRecord,
)
from idfuse_node.indexer.source import TxInfo, checksum
from idfuse_node.indexer.writer import BlockWriter, write_batch_tree
from idfuse_sdk.encoding import BatchRow, HandleValue, ValueRow
from idfuse_sdk.merkle import leaf
from idfuse_sdk.types import ValueFormat

__all__ = ["BatchCalldata", "BlockApplier", "event_detail"]

log = logging.getLogger("idfuse.indexer")

ZERO32: Final = "0x" + "00" * 32
_SEVERITY: Final = {"active": 0, "suspended": 1, "revoked": 2}
_FORMAT_NAMES: Final[dict[int, str]] = {int(member): member.name.lower() for member in ValueFormat}
"""A value format's name in records (``Enum.name`` is a slow descriptor, read per value)."""

BatchCalldata = Mapping[bytes, TxInfo]
"""The transactions that carried ``BatchRegistered`` events, by hash."""


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _json(value: Any) -> Any:
    """``value`` in JSON-friendly form (bytes as hex, enums by lower-case name)."""
    if isinstance(value, bytes):
        return _hex(value)
    if isinstance(value, Enum):
        return value.name.lower()
    if isinstance(value, HandleValue):
        return {
            "index": value.index,
            "type": value.type,
            "format": _FORMAT_NAMES[value.format],
            "data": _hex(value.data),
            "ttl": value.ttl,
            "permissions": value.permissions,
        }
    if isinstance(value, tuple | list):
        return [_json(item) for item in value]
    if hasattr(value, "to_abi"):  # encoding.TemplateField
        return _json(_template_field(value).to_json())
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    return value


def event_detail(event: ev.RegistryEvent) -> dict[str, Any]:
    """An event's arguments in JSON-friendly form, for its history entry (``values_encoding``
    is left out: ``values`` holds the same)."""
    return {
        field.name: _json(getattr(event, field.name))
        for field in fields(event)
        if field.name not in ("position", "values_encoding")
    }


def _template_field(field: Any) -> TemplateField:
    return TemplateField(
        field.value_type, field.format.name.lower(), field.required, field.min_length, field.max_length
    )


def _same_value(old: IndexedValue, new: IndexedValue) -> bool:
    return (old.index, old.type, old.format, old.data, old.ttl, old.permissions) == (
        new.index,
        new.type,
        new.format,
        new.data,
        new.ttl,
        new.permissions,
    )


def _earliest(*expiries: int) -> int:
    """The earliest non-zero expiry (0 when all are 0: none)."""
    set_ = [expiry for expiry in expiries if expiry]
    return min(set_) if set_ else 0


class BlockApplier:
    """Applies one block's registry events to a writer.

    :param writer: The writer positioned at the block (its ``number``, ``block_hash`` and
        ``timestamp`` describe it).
    :param chain_id: The chain's id, for provenance.
    :param transactions: The transactions that carried the block's ``BatchRegistered`` events.
    :param names: A cache of prefix names by node the caller keeps across blocks (a name never
        changes once registered; drop the cache when the index rolls back).
    """

    def __init__(
        self,
        writer: BlockWriter,
        chain_id: int,
        transactions: BatchCalldata,
        names: dict[bytes, str] | None = None,
    ) -> None:
        self.writer = writer
        self.chain_id = chain_id
        self.transactions = transactions
        self.names = {} if names is None else names
        self._identifiers = 0
        self._hcounts: dict[bytes, int] = {}
        self._block_hash = _hex(writer.block_hash)
        self._handlers: dict[type[ev.RegistryEvent], Callable[[Any], None]] = {
            ev.PrefixRegistered: self._prefix_registered,
            ev.PrefixTransferStarted: self._transfer_started,
            ev.PrefixTransferCancelled: self._transfer_cancelled,
            ev.PrefixOwnershipTransferred: self._ownership_transferred,
            ev.PrefixOperatorChanged: self._operator_changed,
            ev.PrefixStatusChanged: self._status_changed,
            ev.PrefixRenewed: self._renewed,
            ev.PrefixServiceChanged: self._service_changed,
            ev.PrefixMetadataChanged: self._metadata_changed,
            ev.IdentifierCreated: self._identifier_created,
            ev.IdentifierUpdated: self._identifier_updated,
            ev.IdentifierDeleted: self._identifier_deleted,
            ev.BatchRegistered: self._batch_registered,
            ev.TemplateRegistered: self._template_registered,
        }

    def apply(self, events: Iterable[ev.RegistryEvent]) -> int:
        """Apply ``events`` (the block's, in log order); returns how many changed the index
        (Consortium events are not indexed).

        :raises IndexConsistencyError: An event names a prefix or handle the index lacks.
        :raises EventDecodeError: A batch's calldata does not match its event.
        """
        applied = 0
        for event in events:
            if event.position.block_number != self.writer.number:
                raise IndexConsistencyError(
                    f"{event.event} of block {event.position.block_number} "
                    f"applied to block {self.writer.number}"
                )
            handler = self._handlers.get(type(event))
            if handler is not None:
                handler(event)
                applied += 1
        self._flush_counters()
        return applied

    def _flush_counters(self) -> None:
        """Write the handle counters the block's events changed (once per block, not per event)."""
        for node, delta in self._hcounts.items():
            if delta:
                self.writer.add_to_counter(schema.hcount_key(node), delta)
        if self._identifiers:
            self.writer.add_to_counts(identifiers=self._identifiers)
        self._hcounts.clear()
        self._identifiers = 0

    def _count(self, prefix_node: bytes, delta: int) -> None:
        self._hcounts[prefix_node] = self._hcounts.get(prefix_node, 0) + delta
        self._identifiers += delta

    def _prefix_name(self, node: bytes, event: str) -> str:
        name = self.names.get(node)
        if name is None:
            name = self.names[node] = self._prefix(node, event).prefix
        return name

    # --- helpers

    def _provenance(
        self, position: ev.LogPosition, batch_id: int | None = None, record_index: int | None = None
    ) -> Provenance:
        return Provenance(
            self.chain_id,
            position.address,
            position.block_number,
            self._block_hash,
            _hex(position.tx_hash),
            position.log_index,
            batch_id,
            record_index,
        )

    def _prefix(self, node: bytes, event: str) -> PrefixRecord:
        record = self.writer.get_record(schema.prefix_record_key(node), PrefixRecord)
        if record is None:
            raise IndexConsistencyError(f"{event} names prefix {_hex(node)}, which the index does not hold")
        return record

    def _prefix_history(
        self, node: bytes, position: ev.LogPosition, event: str, detail: dict[str, Any]
    ) -> None:
        entry = HistoryEntry(event, self.writer.timestamp, self._provenance(position), detail)
        self.writer.put_record(schema.phist_key(node, position.block_number, position.log_index), entry)

    def _put_prefix(self, record: PrefixRecord, event: ev.RegistryEvent) -> None:
        node = bytes.fromhex(record.node[2:])
        self.writer.put_record(schema.prefix_record_key(node), record)
        self._prefix_history(node, event.position, event.event, event_detail(event))

    def _change_prefix(self, event: Any, **changes: Any) -> PrefixRecord:
        record = self._prefix(event.node, event.event)
        updated = replace(record, provenance=self._provenance(event.position), **changes)
        self._put_prefix(updated, event)
        return updated

    # --- prefixes

    def _effective(
        self, parent: PrefixRecord | None, status: str, expiry: int, name: str
    ) -> tuple[str, str | None, int]:
        """(effective_status, effective_from, effective_expiry) of a prefix under ``parent``:
        an ancestor's status wins over an equally bad own one (the topmost cause is named)."""
        inherited = "active" if parent is None else parent.effective_status
        if _SEVERITY[inherited] >= _SEVERITY[status] and inherited != "active":
            assert parent is not None
            effective, source = inherited, parent.effective_from
        elif status != "active":
            effective, source = status, name
        else:
            effective, source = "active", None
        return effective, source, _earliest(0 if parent is None else parent.effective_expiry, expiry)

    def _recompute_subtree(self, record: PrefixRecord) -> None:
        """Recompute the effective status and expiry of ``record``'s descendants (over
        ``v6:child:``), descending only where something changed."""
        writer = self.writer
        stack = [record]
        while stack:
            parent = stack.pop()
            parent_node = bytes.fromhex(parent.node[2:])
            for key in writer.keys(schema.child_prefix(parent_node)):
                _, child_node = schema.parse_child_key(key)
                child = self._prefix(child_node, "a child walk")
                status, source, expiry = self._effective(parent, child.status, child.expiry, child.prefix)
                if (status, source, expiry) == (
                    child.effective_status,
                    child.effective_from,
                    child.effective_expiry,
                ):
                    continue
                child = replace(
                    child, effective_status=status, effective_from=source, effective_expiry=expiry
                )
                writer.put_record(schema.prefix_record_key(child_node), child)
                stack.append(child)

    def _prefix_registered(self, event: ev.PrefixRegistered) -> None:
        writer = self.writer
        key = schema.prefix_record_key(event.node)
        existing = writer.get_record(key, PrefixRecord)
        parent = None if event.parent == bytes(32) else self._prefix(event.parent, event.event)
        status, source, expiry = self._effective(parent, "active", event.expiry, event.name)
        provenance = self._provenance(event.position)
        owner = checksum(event.owner)
        record = PrefixRecord(
            prefix=event.name,
            node=_hex(event.node),
            parent=_hex(event.parent),
            owner=owner,
            pending_owner=None,
            status="active",
            effective_status=status,
            effective_from=source,
            expiry=event.expiry,
            effective_expiry=expiry,
            operators=(),
            service=None,
            metadata_hash=ZERO32,
            created=provenance,
            provenance=provenance,
        )
        if existing is not None:  # not expected from the contract; keep the keys consistent
            writer.delete(schema.owner_key(bytes.fromhex(existing.owner[2:]), event.node))
        else:
            writer.add_to_counts(prefixes=1)
        self._put_prefix(record, event)
        writer.put(schema.pname_key(event.name), event.node)
        writer.put(schema.child_key(event.parent, event.node), b"")
        writer.put(schema.owner_key(bytes.fromhex(owner[2:]), event.node), b"")
        if existing is not None:
            self._recompute_subtree(record)

    def _transfer_started(self, event: ev.PrefixTransferStarted) -> None:
        self._change_prefix(event, pending_owner=checksum(event.pending_owner))

    def _transfer_cancelled(self, event: ev.PrefixTransferCancelled) -> None:
        self._change_prefix(event, pending_owner=None)

    def _ownership_transferred(self, event: ev.PrefixOwnershipTransferred) -> None:
        previous = self._prefix(event.node, event.event)
        owner = checksum(event.new_owner)
        self.writer.delete(schema.owner_key(bytes.fromhex(previous.owner[2:]), event.node))
        self.writer.put(schema.owner_key(bytes.fromhex(owner[2:]), event.node), b"")
        # The contract clears the operators when a transfer completes.
        self._change_prefix(event, owner=owner, pending_owner=None, operators=())

    def _operator_changed(self, event: ev.PrefixOperatorChanged) -> None:
        record = self._prefix(event.node, event.event)
        operator = checksum(event.operator)
        operators = set(record.operators)
        if event.approved:
            operators.add(operator)
        else:
            operators.discard(operator)
        self._change_prefix(event, operators=tuple(sorted(operators)))

    def _status_changed(self, event: ev.PrefixStatusChanged) -> None:
        record = self._prefix(event.node, event.event)
        status = event.status.name.lower()
        if status not in _SEVERITY:
            raise IndexConsistencyError(f"{event.event} sets prefix {record.prefix} to status {status}")
        parent = (
            None if record.parent == ZERO32 else self._prefix(bytes.fromhex(record.parent[2:]), event.event)
        )
        effective, source, _ = self._effective(parent, status, record.expiry, record.prefix)
        updated = self._change_prefix(event, status=status, effective_status=effective, effective_from=source)
        self._recompute_subtree(updated)

    def _renewed(self, event: ev.PrefixRenewed) -> None:
        record = self._prefix(event.node, event.event)
        parent = (
            None if record.parent == ZERO32 else self._prefix(bytes.fromhex(record.parent[2:]), event.event)
        )
        _, _, expiry = self._effective(parent, record.status, event.expiry, record.prefix)
        updated = self._change_prefix(event, expiry=event.expiry, effective_expiry=expiry)
        self._recompute_subtree(updated)

    def _service_changed(self, event: ev.PrefixServiceChanged) -> None:
        service = None
        if event.resolvers or event.chain_id:
            service = ServiceRecord(tuple(event.resolvers), event.chain_id, checksum(event.registry))
        self._change_prefix(event, service=service)

    def _metadata_changed(self, event: ev.PrefixMetadataChanged) -> None:
        self._change_prefix(event, metadata_hash=_hex(event.metadata_hash))

    # --- identifiers

    def _values(self, values: Sequence[HandleValue], provenance: Provenance) -> tuple[IndexedValue, ...]:
        """The indexed form of an event's values, in index order."""
        return self._row_values(
            [
                (value.index, value.type, value.data, value.format, value.ttl, value.permissions)
                for value in sorted(values, key=lambda value: value.index)
            ],
            provenance,
        )

    def _row_values(self, values: Sequence[ValueRow], provenance: Provenance) -> tuple[IndexedValue, ...]:
        """The indexed form of values as fields (a batch row's, already in index order)."""
        timestamp = self.writer.timestamp
        return tuple(
            IndexedValue(
                index, type_, _FORMAT_NAMES[fmt], _hex(data), ttl, permissions, timestamp, provenance
            )
            for index, type_, data, fmt, ttl, permissions in values
        )

    def _supersede(self, handle_key: bytes, record: HandleRecord) -> None:
        """Store the history entry of the change that left ``record`` (the handle's at
        ``handle_key``), which a new change is about to replace (a handle's last change lives
        in its record alone)."""
        entry = record.history_entry()
        provenance = entry.provenance
        key = schema.hhist_key(
            handle_key,
            provenance.block_number,
            provenance.log_index,
            provenance.record_index or 0,
        )
        self.writer.put_record(key, entry)

    def _went_live(self, prefix_node: bytes, suffix: str, handle_key: bytes) -> None:
        self.writer.put(schema.suffix_key(prefix_node, suffix), handle_key)
        self._count(prefix_node, 1)

    def _identifier_created(self, event: ev.IdentifierCreated) -> None:
        writer = self.writer
        key = schema.handle_record_key(event.handle_key)
        existing = writer.get_record(key, HandleRecord)
        name = self._prefix_name(event.prefix_node, event.event)
        provenance = self._provenance(event.position)
        values = self._values(event.values, provenance)
        if existing is not None:
            self._supersede(event.handle_key, existing)
        record = HandleRecord(
            handle=f"{name}/{event.suffix}",
            prefix=name,
            suffix=event.suffix,
            handle_key=_hex(event.handle_key),
            prefix_node=_hex(event.prefix_node),
            template=_hex(event.template),
            values=values,
            version=event.version,
            commitment=_hex(event.commitment),
            source="single",
            deleted=False,
            created=provenance if existing is None else existing.created,
            provenance=provenance,
            event=event.event,
            timestamp=writer.timestamp,
        )
        writer.put_handle(event.handle_key, record)
        if existing is None or existing.deleted:
            self._went_live(event.prefix_node, event.suffix, event.handle_key)

    def _identifier_updated(self, event: ev.IdentifierUpdated) -> None:
        key = schema.handle_record_key(event.handle_key)
        existing = self.writer.get_record(key, HandleRecord)
        if existing is None or existing.deleted:
            raise IndexConsistencyError(
                f"IdentifierUpdated for handle {_hex(event.handle_key)}, which is not live"
            )
        provenance = self._provenance(event.position)
        old = {value.index: value for value in existing.values}
        new_values = self._values(event.values, provenance)
        values = tuple(
            old[value.index] if value.index in old and _same_value(old[value.index], value) else value
            for value in new_values
        )
        record = replace(
            existing,
            template=_hex(event.template),
            values=values,
            version=event.version,
            commitment=_hex(event.commitment),
            source="single",
            provenance=provenance,
            event=event.event,
            timestamp=self.writer.timestamp,
        )
        self._supersede(event.handle_key, existing)
        self.writer.put_handle(event.handle_key, record)

    def _identifier_deleted(self, event: ev.IdentifierDeleted) -> None:
        writer = self.writer
        key = schema.handle_record_key(event.handle_key)
        existing = writer.get_record(key, HandleRecord)
        if existing is None or existing.deleted:
            raise IndexConsistencyError(
                f"IdentifierDeleted for handle {_hex(event.handle_key)}, which is not live"
            )
        self._supersede(event.handle_key, existing)
        writer.put_handle(
            event.handle_key,
            replace(
                existing,
                values=(),
                version=event.version,
                source="single",
                deleted=True,
                provenance=self._provenance(event.position),
                event=event.event,
                timestamp=writer.timestamp,
            ),
        )
        writer.delete(schema.suffix_key(event.prefix_node, event.suffix))
        self._count(event.prefix_node, -1)

    # --- batches and templates

    def _batch_entries(self, event: ev.BatchRegistered) -> tuple[list[BatchRow] | None, str | None]:
        position = event.position
        tx = self.transactions.get(position.tx_hash)
        if tx is None:
            raise IndexConsistencyError(
                f"batch {event.batch_id}: transaction {_hex(position.tx_hash)} was not fetched"
            )
        try:
            return ev.decode_batch_call(tx.input, position.address, tx.to, event), None
        except BatchCalldataUnavailableError as error:
            log.warning("%s; the batch is indexed without its records", error)
            return None, error.reason

    def _batch_registered(self, event: ev.BatchRegistered) -> None:
        writer = self.writer
        name = self._prefix_name(event.prefix_node, event.event)
        entries, unavailable = self._batch_entries(event)
        duplicates: list[str] = []
        accepted = 0
        for index, entry in enumerate(entries or ()):
            key = schema.handle_record_key(entry.handle_key)
            if writer.get(key) is not None:  # the first registration wins (data-model.md)
                duplicates.append(entry.suffix)
                continue
            provenance = self._provenance(event.position, batch_id=event.batch_id, record_index=index)
            suffix = entry.suffix
            writer.put_handle(
                entry.handle_key,
                HandleRecord(
                    handle=f"{name}/{suffix}",
                    prefix=name,
                    suffix=suffix,
                    handle_key=_hex(entry.handle_key),
                    prefix_node=_hex(event.prefix_node),
                    template=_hex(entry.template),
                    values=self._row_values(entry.values, provenance),
                    version=0,
                    commitment=_hex(entry.commitment),
                    source="batch",
                    deleted=False,
                    created=provenance,
                    provenance=provenance,
                    event="BatchRecord",
                    timestamp=writer.timestamp,
                ),
            )
            self._went_live(event.prefix_node, suffix, entry.handle_key)
            accepted += 1
        if entries:
            root = write_batch_tree(
                writer, event.batch_id, (leaf(e.handle_key, e.commitment) for e in entries)
            )
            if root != event.root:
                raise IndexConsistencyError(
                    f"batch {event.batch_id}: the records' Merkle root {_hex(root)} "
                    f"is not the event's {_hex(event.root)}"
                )
        provenance = self._provenance(event.position)
        writer.put_record(
            schema.batch_record_key(event.batch_id),
            BatchRecordInfo(
                batch_id=event.batch_id,
                prefix_node=_hex(event.prefix_node),
                prefix=name,
                registrant=checksum(event.registrant),
                root=_hex(event.root),
                count=event.count,
                records_hash=_hex(event.records_hash),
                accepted=accepted,
                duplicates=tuple(duplicates),
                provenance=provenance,
            ),
        )
        writer.add_to_counts(batches=1)
        detail = event_detail(event)
        detail.update(records_available=entries is not None, accepted=accepted, duplicates=len(duplicates))
        if unavailable is not None:
            detail["unavailable_reason"] = unavailable
        self._prefix_history(event.prefix_node, event.position, event.event, detail)

    def _template_registered(self, event: ev.TemplateRegistered) -> None:
        name = self._prefix_name(event.prefix_node, event.event)
        record = TemplateRecord(
            template_id=_hex(event.template_id),
            prefix_node=_hex(event.prefix_node),
            prefix=name,
            name=event.name,
            version=event.version,
            fields=tuple(_template_field(field) for field in event.fields),
            provenance=self._provenance(event.position),
        )
        self.writer.put_record(schema.template_record_key(event.template_id), record)
        self.writer.put(schema.ptemplate_key(event.prefix_node, event.template_id), b"")
        self._prefix_history(event.prefix_node, event.position, event.event, event_detail(event))
