"""Typed, read-only access to the index: the resolver's API (docs/index.md, "Reader").

Lookups return None for what is not there. Listings are pages: ``limit`` is required and is
capped at :data:`MAX_PAGE`; ``after`` is the natural key of the previous page's last item,
and the page starts just after it:

- :meth:`IndexReader.handles_under`: the suffix (``str``), suffixes in UTF-8 byte order;
- :meth:`IndexReader.prefixes`: the prefix name (``str``, compared lower-cased);
- :meth:`IndexReader.children`, :meth:`IndexReader.owner_prefixes`: the node (32 bytes);
- :meth:`IndexReader.handle_history`: ``(block_number, log_index, record_index)``,
  :meth:`IndexReader.prefix_history`: ``(block_number, log_index)``; :func:`history_position`
  gives an entry's (``record_index`` 0 when the entry is not a batch record).

An index entry that points at a missing record raises
:class:`~idfuse_node.exceptions.IndexCorruptError`; names that break the identifier rules
raise :class:`idfuse_sdk.exceptions.ValidationError` (the resolver's 400).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, TypeVar

from eth_utils.address import to_canonical_address

from idfuse_node.exceptions import IndexCorruptError
from idfuse_node.indexer import schema
from idfuse_node.indexer.records import (
    BatchRecordInfo,
    ChainBinding,
    Checkpoint,
    Counts,
    HandleRecord,
    HistoryEntry,
    PrefixRecord,
    Record,
    TemplateRecord,
)
from idfuse_node.indexer.store import IndexStore
from idfuse_sdk.exceptions import ValidationError
from idfuse_sdk.identifiers import handle_key as make_handle_key
from idfuse_sdk.identifiers import parse_handle, prefix_node, validate_prefix

__all__ = ["MAX_PAGE", "IndexReader", "history_position"]

MAX_PAGE: Final = 1000
"""The most items one listing call returns; a larger ``limit`` is lowered to it."""

R = TypeVar("R", bound=Record)


def history_position(entry: HistoryEntry) -> tuple[int, int, int]:
    """``(block_number, log_index, record_index)`` of an entry: the ``after`` of the next page
    of :meth:`IndexReader.handle_history` (its first two for :meth:`IndexReader.prefix_history`)."""
    provenance = entry.provenance
    return provenance.block_number, provenance.log_index, provenance.record_index or 0


def _page_size(limit: int) -> int:
    if type(limit) is not int or limit < 1:
        raise ValidationError(f"limit must be a positive integer, got {limit!r}")
    return min(limit, MAX_PAGE)


def _successor(key: bytes) -> bytes:
    """The first key after ``key`` (so a page starts just after its ``after``)."""
    return key + b"\x00"


def _address(address: str | bytes) -> bytes:
    try:
        return to_canonical_address(address)
    except ValueError as exc:
        raise ValidationError(f"address must be 20 bytes or their hex, got {address!r}") from exc


class IndexReader:
    """Typed reads over an :class:`IndexStore`; never writes.

    :param store: The index store (the reader does not close it).
    """

    def __init__(self, store: IndexStore) -> None:
        self.store = store

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.store!r})"

    def _record(self, key: bytes, cls: type[R]) -> R | None:
        raw = self.store.get(key)
        return None if raw is None else cls.from_bytes(raw)

    def _pointed(self, key: bytes, cls: type[R], entry: bytes) -> R:
        record = self._record(key, cls)
        if record is None:
            raise IndexCorruptError(f"index entry {entry!r} points at {key!r}, which is missing")
        return record

    def _keys(self, prefix: bytes, after: bytes | None, limit: int) -> Iterator[tuple[bytes, bytes]]:
        start = None if after is None else _successor(prefix + after)
        return self.store.iterate(prefix, start=start, limit=_page_size(limit))

    # Meta

    def checkpoint(self) -> Checkpoint | None:
        """The last indexed block, or None before the first."""
        return self._record(schema.CHECKPOINT_KEY, Checkpoint)

    def chain(self) -> ChainBinding | None:
        """The chain and contracts the index follows, or None before it is bound."""
        return self._record(schema.CHAIN_KEY, ChainBinding)

    def counts(self) -> Counts:
        """How many prefixes, live identifiers and batches the index holds (zeros when empty)."""
        return self._record(schema.COUNTS_KEY, Counts) or Counts(0, 0, 0)

    # Handles

    def handle(self, handle_key: bytes) -> HandleRecord | None:
        """The handle with this key (deleted handles too: check ``deleted``)."""
        return self._record(schema.handle_record_key(handle_key), HandleRecord)

    def handle_by_name(self, handle: str) -> HandleRecord | None:
        """The handle ``prefix/suffix`` (the prefix in any case).

        :raises ValidationError: ``handle`` breaks the identifier rules.
        """
        prefix, suffix = parse_handle(handle)
        return self.handle(make_handle_key(prefix, suffix))

    def handles_under(
        self, prefix_node: bytes, *, after: str | None = None, limit: int
    ) -> list[HandleRecord]:
        """The handles of a prefix in suffix order, after the suffix ``after``."""
        entries = self._keys(
            schema.suffix_prefix(prefix_node), None if after is None else after.encode("utf-8"), limit
        )
        return [self._pointed(schema.handle_record_key(key), HandleRecord, entry) for entry, key in entries]

    def handle_count(self, prefix_node: bytes) -> int:
        """The prefix's live handles (0 when it has none or is unknown)."""
        raw = self.store.get(schema.hcount_key(prefix_node))
        if raw is None:
            return 0
        if len(raw) != 8:
            raise IndexCorruptError(f"handle count of 0x{prefix_node.hex()} is {len(raw)} bytes, not 8")
        return int.from_bytes(raw, "big")

    # Prefixes

    def prefix(self, node: bytes) -> PrefixRecord | None:
        """The prefix with this node id."""
        return self._record(schema.prefix_record_key(node), PrefixRecord)

    def prefix_by_name(self, name: str) -> PrefixRecord | None:
        """The prefix named ``name`` (any case).

        :raises ValidationError: ``name`` is not a valid prefix.
        """
        return self.prefix(prefix_node(validate_prefix(name)))

    def prefixes(self, *, after: str | None = None, limit: int) -> list[PrefixRecord]:
        """Every prefix in (lower-cased) name order, after the name ``after``."""
        entries = self._keys(
            schema.PNAME_PREFIX, None if after is None else after.lower().encode("utf-8"), limit
        )
        return [self._pointed(schema.prefix_record_key(node), PrefixRecord, entry) for entry, node in entries]

    def children(self, node: bytes, *, after: bytes | None = None, limit: int) -> list[PrefixRecord]:
        """The direct sub-prefixes of ``node`` in node order, after the node ``after``."""
        entries = self._keys(schema.child_prefix(node), after, limit)
        return [
            self._pointed(schema.prefix_record_key(schema.parse_child_key(key)[1]), PrefixRecord, key)
            for key, _ in entries
        ]

    def owner_prefixes(
        self, address: str | bytes, *, after: bytes | None = None, limit: int
    ) -> list[PrefixRecord]:
        """The prefixes ``address`` (hex or 20 bytes) owns, in node order, after the node ``after``.

        :raises ValidationError: ``address`` is not an address.
        """
        entries = self._keys(schema.owner_prefix(_address(address)), after, limit)
        return [
            self._pointed(schema.prefix_record_key(schema.parse_owner_key(key)[1]), PrefixRecord, key)
            for key, _ in entries
        ]

    # Templates and batches

    def template(self, template_id: bytes) -> TemplateRecord | None:
        """The template with this id."""
        return self._record(schema.template_record_key(template_id), TemplateRecord)

    def templates_of(self, prefix_node: bytes) -> list[TemplateRecord]:
        """Every template of a prefix, in template id order."""
        return [
            self._pointed(schema.template_record_key(schema.parse_ptemplate_key(key)[1]), TemplateRecord, key)
            for key, _ in self.store.iterate(schema.ptemplate_prefix(prefix_node))
        ]

    def batch(self, batch_id: int) -> BatchRecordInfo | None:
        """The batch with this id."""
        return self._record(schema.batch_record_key(batch_id), BatchRecordInfo)

    def batch_proof(self, batch_id: int, record_index: int) -> list[bytes] | None:
        """The Merkle proof of a batch's record: sibling hashes from the leaf upwards.

        Levels where the node is carried up add none (docs/data-model.md, "Merkle tree");
        :func:`idfuse_sdk.merkle.verify` checks the proof against the batch's root.

        :return: The proof, or None when the batch or the record is not there.
        :raises IndexCorruptError: A node the proof needs is missing.
        """
        info = self.batch(batch_id)
        if info is None or type(record_index) is not int or not 0 <= record_index < info.count:
            return None
        siblings: list[bytes] = []
        position, width, level = record_index, info.count, 0
        while width > 1:
            sibling = position ^ 1
            if sibling < width:
                node = self.batch_node(batch_id, level, sibling)
                if node is None:
                    raise IndexCorruptError(f"merkle node {level}/{sibling} of batch {batch_id} is missing")
                siblings.append(node)
            position, width, level = position // 2, (width + 1) // 2, level + 1
        return siblings

    def batch_node(self, batch_id: int, level: int, position: int) -> bytes | None:
        """One node of a batch's Merkle tree (level 0: the record's leaf), or None when the
        index does not hold it (a level or position out of range included)."""
        if not (0 <= level < 256 and 0 <= position < 1 << 32):
            return None
        chunk, slot = divmod(position, schema.BNODE_CHUNK)
        raw = self.store.get(schema.bnode_key(batch_id, level, chunk))
        node = None if raw is None else raw[32 * slot : 32 * slot + 32]
        return node if node is not None and len(node) == 32 else None

    # History

    def handle_history(
        self, handle_key: bytes, *, after: tuple[int, int, int] | None = None, limit: int
    ) -> list[HistoryEntry]:
        """A handle's changes, oldest first, after the position ``after``: the superseded
        ones stored under ``hhist:``, then the last, which its record holds
        (:meth:`HandleRecord.history_entry`)."""
        position = None if after is None else schema.hhist_position(*after)
        entries = [
            HistoryEntry.from_bytes(raw)
            for _, raw in self._keys(schema.hhist_prefix(handle_key), position, limit)
        ]
        if len(entries) >= _page_size(limit):
            return entries
        record = self.handle(handle_key)
        if record is None:
            if entries:
                raise IndexCorruptError(f"handle {handle_key.hex()} has history but no record")
            return entries
        last = record.history_entry()
        if after is None or history_position(last) > after:
            entries.append(last)
        return entries

    def prefix_history(
        self, node: bytes, *, after: tuple[int, int] | None = None, limit: int
    ) -> list[HistoryEntry]:
        """A prefix's changes, oldest first, after the position ``after``."""
        position = None if after is None else schema.phist_position(*after)
        entries = self._keys(schema.phist_prefix(node), position, limit)
        return [HistoryEntry.from_bytes(raw) for _, raw in entries]
