"""One block's effects on the index, its undo log and the checkpoint, committed as one write.

A :class:`BlockWriter` collects puts and deletes over an :class:`IndexStore` (its reads see
its own pending changes first). The first time it touches a key it remembers the key's value
in the store; :meth:`BlockWriter.commit` writes the effects, ``v6:block:number``, the
checkpoint and the undo log (``v6:undo:number``: a JSON list of ``[key_hex, previous_hex or
null]``, plain hex without ``0x``) in one :meth:`IndexStore.write`. The block entry and the
checkpoint are touched through the writer like any other key, so a block's undo log restores
them too: :func:`rollback_to` applies undo logs newest first, which leaves the store exactly
as it was after the last committed block at or below the target (its checkpoint included).
:func:`prune_undo` drops undo logs of blocks that can no longer be rolled back.

Counters are ordinary keys changed through the writer (so they roll back with their block):
:meth:`BlockWriter.add_to_counter` for uint64 counters (``v6:hcount:``) and
:meth:`BlockWriter.add_to_counts` for :class:`~idfuse_node.indexer.records.Counts`.
:func:`write_batch_tree` stores a batch's Merkle levels (``v6:bnode:``).
:meth:`BlockWriter.put_handle` stores a handle's record and its answer part, two keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TypeVar

from idfuse_node.exceptions import (
    BlockWriterClosedError,
    IndexConsistencyError,
    IndexCorruptError,
)
from idfuse_node.indexer import answerpart, schema
from idfuse_node.indexer.records import Checkpoint, Counts, HandleRecord, Record
from idfuse_node.indexer.store import IndexStore
from idfuse_sdk.merkle import MerkleTree

__all__ = ["BlockWriter", "FinalBlocksWriter", "prune_undo", "rollback_to", "write_batch_tree"]

R = TypeVar("R", bound=Record)

_UINT64_MAX = (1 << 64) - 1


def _decode_undo(number: int, raw: bytes) -> list[tuple[bytes, bytes | None]]:
    """The entries of block ``number``'s undo log."""
    try:
        entries = json.loads(raw)
        if type(entries) is not list:
            raise TypeError("not a list")
        return [
            (bytes.fromhex(key), None if previous is None else bytes.fromhex(previous))
            for key, previous in entries
        ]
    except (ValueError, TypeError) as exc:
        raise IndexCorruptError(f"undo log of block {number} is malformed: {exc}") from None


def _decode_uint64(key: bytes, raw: bytes) -> int:
    if len(raw) != 8:
        raise IndexCorruptError(f"counter {key!r} holds {len(raw)} bytes, not a uint64")
    return int.from_bytes(raw, "big")


def _check_hash(value: bytes, title: str) -> bytes:
    if type(value) is not bytes or len(value) != 32:
        raise ValueError(f"{title} must be 32 bytes, got {value!r}")
    return value


class BlockWriter:
    """The index changes of one block, committed once with their undo log.

    :param store: The index store.
    :param number: The block's number.
    :param block_hash: Its hash (32 bytes).
    :param parent_hash: Its parent's hash (32 bytes).
    :param timestamp: Its time (seconds).
    :raises ValueError: A hash is not 32 bytes or a number is negative.
    """

    def __init__(
        self, store: IndexStore, number: int, block_hash: bytes, parent_hash: bytes, timestamp: int
    ) -> None:
        if type(number) is not int or number < 0 or type(timestamp) is not int or timestamp < 0:
            raise ValueError(
                f"block number and timestamp must be non-negative integers: {number}, {timestamp}"
            )
        self.store = store
        self.number = number
        self.block_hash = _check_hash(block_hash, "block hash")
        self.parent_hash = _check_hash(parent_hash, "parent hash")
        self.timestamp = timestamp
        self._pending: dict[bytes, bytes | None] = {}
        self._undo: dict[bytes, bytes | None] = {}
        self._committed = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(block {self.number}, {len(self._pending)} pending)"

    def _live(self) -> None:
        if self._committed:
            raise BlockWriterClosedError(f"the writer of block {self.number} has been committed")

    # Bytes

    def get(self, key: bytes) -> bytes | None:
        """The value at ``key``: this block's pending change, else the store's."""
        self._live()
        if key in self._pending:
            return self._pending[key]
        return self.store.get(key)

    def _touch(self, key: bytes) -> None:
        if key not in self._undo:
            if type(key) is not bytes:
                raise TypeError(f"index key must be bytes, got {type(key).__name__}")
            self._undo[key] = self.store.get(key)

    def put(self, key: bytes, value: bytes) -> None:
        """Set ``key`` to ``value`` when the block commits."""
        self._live()
        if type(value) is not bytes:
            raise TypeError(f"index value must be bytes, got {type(value).__name__}")
        self._touch(key)
        self._pending[key] = value

    def delete(self, key: bytes) -> None:
        """Remove ``key`` when the block commits (absent keys are fine)."""
        self._live()
        self._touch(key)
        self._pending[key] = None

    def keys(self, prefix: bytes) -> list[bytes]:
        """Every key beginning with ``prefix``, in key order, as the block would leave them
        (the store's keys, plus this block's pending puts, minus its pending deletes).

        Pending changes are scanned in full: meant for rare walks (a prefix's children).
        """
        self._live()
        found = {key for key, _ in self.store.iterate(prefix)}
        for key, value in self._pending.items():
            if key.startswith(prefix):
                if value is None:
                    found.discard(key)
                else:
                    found.add(key)
        return sorted(found)

    # Records and counters

    def get_record(self, key: bytes, cls: type[R]) -> R | None:
        """The record of type ``cls`` at ``key``, or None.

        :raises IndexCorruptError: The value is not such a record.
        """
        raw = self.get(key)
        return None if raw is None else cls.from_bytes(raw)

    def put_record(self, key: bytes, record: Record) -> None:
        """Store ``record`` at ``key``.

        :raises TypeError: ``record`` is a :class:`HandleRecord`, which :meth:`put_handle`
            writes (alone here, its answer part would be left as it was).
        """
        if isinstance(record, HandleRecord):
            raise TypeError("a handle record is written with put_handle, which writes its answer part too")
        self.put(key, record.to_bytes())

    def put_handle(self, handle_key: bytes, record: HandleRecord) -> None:
        """Store the handle record ``record`` at ``handle_key`` (``v6:handle:``) and its
        answer part (``v6:answer:``), or remove the part when it has none (it is deleted, or
        is rendered per request): the one way a handle record is written."""
        self.put(schema.handle_record_key(handle_key), record.to_bytes())
        part = answerpart.build(record)
        if part is None:
            self.delete(schema.answer_key(handle_key))
        else:
            self.put(schema.answer_key(handle_key), part)

    def add_to_counter(self, key: bytes, delta: int) -> int:
        """Add ``delta`` to the uint64 counter at ``key`` (absent is 0); returns the new value.

        :raises IndexConsistencyError: The counter would leave 0 to 2**64-1.
        :raises IndexCorruptError: The stored value is not 8 bytes.
        """
        raw = self.get(key)
        value = (0 if raw is None else _decode_uint64(key, raw)) + delta
        if not 0 <= value <= _UINT64_MAX:
            raise IndexConsistencyError(f"counter {key!r} would become {value} in block {self.number}")
        self.put(key, value.to_bytes(8, "big"))
        return value

    def add_to_counts(self, *, prefixes: int = 0, identifiers: int = 0, batches: int = 0) -> Counts:
        """Add to the index's :class:`Counts` (``v6:meta:counts``); returns the new counts.

        :raises IndexConsistencyError: A count would become negative.
        """
        counts = self.get_record(schema.COUNTS_KEY, Counts) or Counts(0, 0, 0)
        updated = Counts(
            counts.prefixes + prefixes, counts.identifiers + identifiers, counts.batches + batches
        )
        if min(updated.prefixes, updated.identifiers, updated.batches) < 0:
            raise IndexConsistencyError(f"counts would become {updated} in block {self.number}")
        self.put_record(schema.COUNTS_KEY, updated)
        return updated

    # Commit

    def commit(self) -> Checkpoint:
        """Write the effects, ``v6:block:number``, the checkpoint and the undo log in one write.

        :return: The new checkpoint.
        :raises IndexConsistencyError: The index's checkpoint is not below this block, or the
            stored hash of block ``number - 1`` is not this block's parent hash.
        :raises BlockWriterClosedError: The writer has already committed.
        """
        self._live()
        previous = self.get_record(schema.CHECKPOINT_KEY, Checkpoint)
        if previous is not None and previous.number >= self.number:
            raise IndexConsistencyError(
                f"cannot index block {self.number}: the index already holds block {previous.number}"
            )
        if self.number > 0:
            parent = self.store.get(schema.block_key(self.number - 1))
            if parent is not None and parent != self.parent_hash:
                raise IndexConsistencyError(
                    f"block {self.number}'s parent hash 0x{self.parent_hash.hex()} is not the indexed "
                    f"block {self.number - 1} (0x{parent.hex()}); roll back first"
                )
        checkpoint = Checkpoint(self.number, "0x" + self.block_hash.hex(), self.timestamp)
        self.put(schema.block_key(self.number), self.block_hash)
        self.put_record(schema.CHECKPOINT_KEY, checkpoint)
        undo = [[key.hex(), None if value is None else value.hex()] for key, value in self._undo.items()]
        puts = {key: value for key, value in self._pending.items() if value is not None}
        puts[schema.undo_key(self.number)] = json.dumps(undo, separators=(",", ":")).encode("ascii")
        deletes = [key for key, value in self._pending.items() if value is None]
        self.store.write(puts, deletes)
        self._committed = True
        return checkpoint


class FinalBlocksWriter(BlockWriter):
    """The effects of several consecutive FINAL blocks, committed in one write without undo logs.

    Backfilling final blocks one durable write each would spend its time in fsync. This
    writer starts at one block; :meth:`advance` moves it to the next (checking the parent
    hash, recording ``v6:block:`` and the checkpoint as pending changes), and :meth:`commit`
    writes every block's effects with the checkpoint of the last one in one
    :meth:`IndexStore.write`: each block's effects still land atomically with a checkpoint at
    or after it. No undo log is written, so these blocks can never be rolled back: use it
    only for blocks the finality rule made final.

    :param store: The index store.
    :param number: The first block's number.
    :param block_hash: Its hash (32 bytes).
    :param parent_hash: Its parent's hash (32 bytes).
    :param timestamp: Its time (seconds).
    :raises IndexConsistencyError: The index already holds this block, or the stored hash of
        the block before it is not its parent hash.
    """

    def __init__(
        self, store: IndexStore, number: int, block_hash: bytes, parent_hash: bytes, timestamp: int
    ) -> None:
        super().__init__(store, number, block_hash, parent_hash, timestamp)
        self.first = number
        self._check_position()

    def _touch(self, key: bytes) -> None:
        if type(key) is not bytes:
            raise TypeError(f"index key must be bytes, got {type(key).__name__}")

    def _check_position(self) -> None:
        previous = self.get_record(schema.CHECKPOINT_KEY, Checkpoint)
        if previous is not None and previous.number >= self.number:
            raise IndexConsistencyError(
                f"cannot index block {self.number}: the index already holds block {previous.number}"
            )
        if self.number > 0:
            parent = self.get(schema.block_key(self.number - 1))
            if parent is not None and parent != self.parent_hash:
                raise IndexConsistencyError(
                    f"block {self.number}'s parent hash 0x{self.parent_hash.hex()} is not the indexed "
                    f"block {self.number - 1} (0x{parent.hex()}); roll back first"
                )

    def _close_block(self) -> Checkpoint:
        checkpoint = Checkpoint(self.number, "0x" + self.block_hash.hex(), self.timestamp)
        self.put(schema.block_key(self.number), self.block_hash)
        self.put_record(schema.CHECKPOINT_KEY, checkpoint)
        return checkpoint

    def advance(self, number: int, block_hash: bytes, parent_hash: bytes, timestamp: int) -> None:
        """Close the current block and continue with block ``number`` (the next one).

        :raises ValueError: ``number`` is not the next block, or a hash is not 32 bytes.
        :raises IndexConsistencyError: ``parent_hash`` is not the current block's hash.
        """
        self._live()
        if number != self.number + 1:
            raise ValueError(f"block {number} does not follow block {self.number}")
        self._close_block()
        self.number = number
        self.block_hash = _check_hash(block_hash, "block hash")
        self.parent_hash = _check_hash(parent_hash, "parent hash")
        self.timestamp = timestamp
        self._check_position()

    @property
    def pending(self) -> int:
        """How many keys the commit will write or delete."""
        return len(self._pending)

    def commit(self) -> Checkpoint:
        """Write every block's effects, their ``v6:block:`` hashes and the last block's
        checkpoint in one write (no undo logs).

        :return: The new checkpoint.
        :raises BlockWriterClosedError: The writer has already committed.
        """
        self._live()
        checkpoint = self._close_block()
        puts = {key: value for key, value in self._pending.items() if value is not None}
        deletes = [key for key, value in self._pending.items() if value is None]
        self.store.write(puts, deletes)
        self._committed = True
        return checkpoint


def _checkpoint(store: IndexStore) -> Checkpoint | None:
    raw = store.get(schema.CHECKPOINT_KEY)
    return None if raw is None else Checkpoint.from_bytes(raw)


def rollback_to(store: IndexStore, number: int) -> Checkpoint | None:
    """Undo every indexed block above ``number`` (newest first) in one write.

    The store ends exactly as it was after the last indexed block at or below ``number``
    (the checkpoint names that block; None when no block below was indexed). Nothing is done
    when the checkpoint is at or below ``number`` already.

    :param store: The index store.
    :param number: The block to return to.
    :return: The checkpoint after the rollback.
    :raises IndexConsistencyError: An indexed block above ``number`` has no undo log (it was
        pruned as final); nothing is written.
    :raises IndexCorruptError: An undo log cannot be decoded.
    """
    start = schema.block_key(number + 1)
    blocks = [schema.parse_block_key(key) for key, _ in store.iterate(schema.BLOCK_PREFIX, start=start)]
    logs = dict(store.iterate(schema.UNDO_PREFIX, start=schema.undo_key(number + 1)))
    restore: dict[bytes, bytes | None] = {}
    for block in reversed(blocks):
        raw = logs.get(schema.undo_key(block))
        if raw is None:
            raise IndexConsistencyError(
                f"cannot roll back to block {number}: the undo log of block {block} was pruned "
                "(the block was final); rebuild the index"
            )
        # Newest first, so the oldest block's previous value is the one that stays.
        restore.update(_decode_undo(block, raw))
    if not blocks:
        return _checkpoint(store)
    puts = {key: value for key, value in restore.items() if value is not None}
    deletes = [key for key, value in restore.items() if value is None]
    deletes.extend(logs)
    store.write(puts, deletes)
    return _checkpoint(store)


def prune_undo(store: IndexStore, below: int) -> int:
    """Delete the undo logs of blocks below ``below`` (final: they can no longer be undone).

    :return: How many undo logs were deleted.
    """
    end = schema.undo_key(below)
    stale: list[bytes] = []
    for key, _ in store.iterate(schema.UNDO_PREFIX):
        if key >= end:
            break
        stale.append(key)
    if stale:
        store.write({}, stale)
    return len(stale)


def write_batch_tree(writer: BlockWriter, batch_id: int, leaves: Iterable[bytes]) -> bytes:
    """Store every level of a batch's Merkle tree (``v6:bnode:``) through ``writer``.

    Level 0 holds the leaves in record order; each level up is
    :class:`idfuse_sdk.merkle.MerkleTree`'s (a carried-up node is stored on its new level
    too). Each value holds :data:`~idfuse_node.indexer.schema.BNODE_CHUNK` consecutive nodes
    of a level (the last one of a level fewer): a 2,000-record batch is 16 values, not 4,000.
    :meth:`~idfuse_node.indexer.reader.IndexReader.batch_node` reads them back.

    :param writer: The block's writer.
    :param batch_id: The batch.
    :param leaves: The leaves, in record order.
    :return: The root, to compare with the one the chain stores.
    :raises ValidationError: There are no leaves, or one is not 32 bytes.
    """
    tree = MerkleTree(leaves)
    size = schema.BNODE_CHUNK
    for level, nodes in enumerate(tree.levels):
        for chunk, start in enumerate(range(0, len(nodes), size)):
            writer.put(schema.bnode_key(batch_id, level, chunk), b"".join(nodes[start : start + size]))
    return tree.root
