"""Every key of the index (docs/index.md, "Keys"), built here and nowhere else.

One builder per key family (``<family>_key``), a prefix for iterating each family
(``<FAMILY>_PREFIX``, and ``<family>_prefix(...)`` for the entries under one id), and parsers
for the trailing parts a reader needs. Integers are big-endian and fixed width so keys sort in
number order; nodes, handle keys and template ids are their raw 32 bytes, addresses their raw
20. Every key starts with :data:`KEY_PREFIX`, the layout's version: a layout whose keys or
stored forms change gets the next one, and :func:`check_layout` refuses an index written in an
earlier layout (it is rebuilt from the chain, not read wrongly). Layout 1 (``v1:``) stored each
provenance in full in every record; layout 2 packs it (docs/index.md, "Stored forms");
layout 3 keeps a handle's last change in its record alone, and stores a history entry for it
only once a later change supersedes it (half the bytes of a handle created once); layout 4
stores a batch's Merkle nodes :data:`BNODE_CHUNK` to a value instead of one each; layout 5
kept a live handle's Handle answer rendered after its record's JSON; layout 6 keeps that
answer under its own key (``v6:answer:``, :mod:`~idfuse_node.indexer.answerpart`), so the
keys an unfiltered resolution reads are packed together, apart from the records' JSON.

A history entry that is not a batch record has ``record_index`` 0 in its ``v6:hhist:`` key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from idfuse_node.exceptions import IndexLayoutError
from idfuse_sdk.exceptions import ValidationError

if TYPE_CHECKING:
    from idfuse_node.indexer.store import IndexStore

SCHEMA_VERSION: Final = 6
KEY_PREFIX: Final = b"v6:"
"""The start of every key of this layout."""
EARLIER_KEY_PREFIXES: Final = (b"v1:", b"v2:", b"v3:", b"v4:", b"v5:")
"""Key starts of earlier layouts, which this version does not read."""

CHECKPOINT_KEY: Final = KEY_PREFIX + b"meta:checkpoint"
CHAIN_KEY: Final = KEY_PREFIX + b"meta:chain"
COUNTS_KEY: Final = KEY_PREFIX + b"meta:counts"
BLOCK_PREFIX: Final = KEY_PREFIX + b"block:"
UNDO_PREFIX: Final = KEY_PREFIX + b"undo:"
HANDLE_PREFIX: Final = KEY_PREFIX + b"handle:"
ANSWER_PREFIX: Final = KEY_PREFIX + b"answer:"
SUFFIX_PREFIX: Final = KEY_PREFIX + b"suffix:"
HCOUNT_PREFIX: Final = KEY_PREFIX + b"hcount:"
PREFIX_PREFIX: Final = KEY_PREFIX + b"prefix:"
PNAME_PREFIX: Final = KEY_PREFIX + b"pname:"
CHILD_PREFIX: Final = KEY_PREFIX + b"child:"
OWNER_PREFIX: Final = KEY_PREFIX + b"owner:"
TEMPLATE_PREFIX: Final = KEY_PREFIX + b"template:"
PTEMPLATE_PREFIX: Final = KEY_PREFIX + b"ptemplate:"
BATCH_PREFIX: Final = KEY_PREFIX + b"batch:"
BNODE_PREFIX: Final = KEY_PREFIX + b"bnode:"
BNODE_CHUNK: Final = 256
"""Merkle nodes a ``v6:bnode:`` value holds: consecutive nodes of one level, 32 bytes each."""
HHIST_PREFIX: Final = KEY_PREFIX + b"hhist:"
PHIST_PREFIX: Final = KEY_PREFIX + b"phist:"


def _id(value: bytes, size: int, title: str) -> bytes:
    if type(value) is not bytes or len(value) != size:
        got = f"{len(value)} bytes" if isinstance(value, bytes) else type(value).__name__
        raise ValidationError(f"{title} must be {size} bytes, got {got}")
    return value


def _uint(value: int, size: int, title: str) -> bytes:
    if type(value) is not int or not 0 <= value < 1 << (8 * size):
        raise ValidationError(f"{title} must be an integer 0 to 2**{8 * size}-1, got {value!r}")
    return value.to_bytes(size, "big")


def _tail(key: bytes, prefix: bytes, size: int | None, family: str) -> bytes:
    """The part of ``key`` after ``prefix`` (of ``size`` bytes, when fixed)."""
    if not key.startswith(prefix) or (size is not None and len(key) != len(prefix) + size):
        raise ValidationError(f"{key!r} is not a {family} key")
    return key[len(prefix) :]


def check_layout(store: IndexStore) -> None:
    """Refuse an index written in an earlier layout: one that holds an earlier layout's chain
    binding or checkpoint (the indexer writes the binding before anything else). Two point
    reads, which LevelDB's bloom filters answer without reading a data block.

    :raises IndexLayoutError: ``store`` holds an earlier layout's index.
    """
    for earlier in EARLIER_KEY_PREFIXES:
        if store.get(earlier + b"meta:chain") is None and store.get(earlier + b"meta:checkpoint") is None:
            continue
        where = getattr(store, "path", None)
        raise IndexLayoutError(
            f"the index{'' if where is None else f' at {where}'} was written by an earlier "
            f"version of idfuse (layout {earlier.decode().rstrip(':')}; this version reads "
            f"layout v{SCHEMA_VERSION}): delete it and start again, and the indexer rebuilds "
            "it from the chain (the chain is kept apart and is not affected)"
        )


# Meta


def checkpoint_key() -> bytes:
    """``v6:meta:checkpoint`` → :class:`~idfuse_node.indexer.records.Checkpoint`."""
    return CHECKPOINT_KEY


def chain_key() -> bytes:
    """``v6:meta:chain`` → :class:`~idfuse_node.indexer.records.ChainBinding`."""
    return CHAIN_KEY


def counts_key() -> bytes:
    """``v6:meta:counts`` → :class:`~idfuse_node.indexer.records.Counts`."""
    return COUNTS_KEY


# Blocks and undo logs


def block_key(number: int) -> bytes:
    """``v6:block:`` number(8) → the indexed block's 32-byte hash."""
    return BLOCK_PREFIX + _uint(number, 8, "block number")


def parse_block_key(key: bytes) -> int:
    """The block number of a :func:`block_key`."""
    return int.from_bytes(_tail(key, BLOCK_PREFIX, 8, "block"), "big")


def undo_key(number: int) -> bytes:
    """``v6:undo:`` number(8) → the block's undo log."""
    return UNDO_PREFIX + _uint(number, 8, "block number")


def parse_undo_key(key: bytes) -> int:
    """The block number of an :func:`undo_key`."""
    return int.from_bytes(_tail(key, UNDO_PREFIX, 8, "undo"), "big")


# Handles


def handle_record_key(handle_key: bytes) -> bytes:
    """``v6:handle:`` handle_key → :class:`~idfuse_node.indexer.records.HandleRecord`."""
    return HANDLE_PREFIX + _id(handle_key, 32, "handle key")


def answer_key(handle_key: bytes) -> bytes:
    """``v6:answer:`` handle_key → the live handle's answer part
    (:mod:`~idfuse_node.indexer.answerpart`); absent when the handle is deleted, or its answer
    is rendered per request."""
    return ANSWER_PREFIX + _id(handle_key, 32, "handle key")


def suffix_prefix(prefix_node: bytes) -> bytes:
    """The start of every :func:`suffix_key` under one prefix."""
    return SUFFIX_PREFIX + _id(prefix_node, 32, "prefix node")


def suffix_key(prefix_node: bytes, suffix: str) -> bytes:
    """``v6:suffix:`` prefix_node ‖ suffix UTF-8 → the handle key."""
    return suffix_prefix(prefix_node) + suffix.encode("utf-8")


def parse_suffix_key(key: bytes) -> tuple[bytes, str]:
    """The prefix node and suffix of a :func:`suffix_key`."""
    tail = _tail(key, SUFFIX_PREFIX, None, "suffix")
    if len(tail) < 32:
        raise ValidationError(f"{key!r} is not a suffix key")
    return tail[:32], tail[32:].decode("utf-8")


def hcount_key(prefix_node: bytes) -> bytes:
    """``v6:hcount:`` prefix_node → the prefix's live handles, uint64."""
    return HCOUNT_PREFIX + _id(prefix_node, 32, "prefix node")


# Prefixes


def prefix_record_key(node: bytes) -> bytes:
    """``v6:prefix:`` node → :class:`~idfuse_node.indexer.records.PrefixRecord`."""
    return PREFIX_PREFIX + _id(node, 32, "node")


def pname_key(name: str) -> bytes:
    """``v6:pname:`` lower(name) UTF-8 → the prefix's node."""
    return PNAME_PREFIX + name.lower().encode("utf-8")


def parse_pname_key(key: bytes) -> str:
    """The (lower-cased) prefix name of a :func:`pname_key`."""
    return _tail(key, PNAME_PREFIX, None, "pname").decode("utf-8")


def child_prefix(parent: bytes) -> bytes:
    """The start of every :func:`child_key` under one parent."""
    return CHILD_PREFIX + _id(parent, 32, "parent node")


def child_key(parent: bytes, node: bytes) -> bytes:
    """``v6:child:`` parent ‖ node → empty."""
    return child_prefix(parent) + _id(node, 32, "node")


def parse_child_key(key: bytes) -> tuple[bytes, bytes]:
    """The parent and child node of a :func:`child_key`."""
    tail = _tail(key, CHILD_PREFIX, 64, "child")
    return tail[:32], tail[32:]


def owner_prefix(address: bytes) -> bytes:
    """The start of every :func:`owner_key` of one address."""
    return OWNER_PREFIX + _id(address, 20, "address")


def owner_key(address: bytes, node: bytes) -> bytes:
    """``v6:owner:`` address ‖ node → empty."""
    return owner_prefix(address) + _id(node, 32, "node")


def parse_owner_key(key: bytes) -> tuple[bytes, bytes]:
    """The address and node of an :func:`owner_key`."""
    tail = _tail(key, OWNER_PREFIX, 52, "owner")
    return tail[:20], tail[20:]


# Templates


def template_record_key(template_id: bytes) -> bytes:
    """``v6:template:`` template_id → :class:`~idfuse_node.indexer.records.TemplateRecord`."""
    return TEMPLATE_PREFIX + _id(template_id, 32, "template id")


def ptemplate_prefix(prefix_node: bytes) -> bytes:
    """The start of every :func:`ptemplate_key` of one prefix."""
    return PTEMPLATE_PREFIX + _id(prefix_node, 32, "prefix node")


def ptemplate_key(prefix_node: bytes, template_id: bytes) -> bytes:
    """``v6:ptemplate:`` prefix_node ‖ template_id → empty."""
    return ptemplate_prefix(prefix_node) + _id(template_id, 32, "template id")


def parse_ptemplate_key(key: bytes) -> tuple[bytes, bytes]:
    """The prefix node and template id of a :func:`ptemplate_key`."""
    tail = _tail(key, PTEMPLATE_PREFIX, 64, "ptemplate")
    return tail[:32], tail[32:]


# Batches


def batch_record_key(batch_id: int) -> bytes:
    """``v6:batch:`` batch_id(32) → :class:`~idfuse_node.indexer.records.BatchRecordInfo`."""
    return BATCH_PREFIX + _uint(batch_id, 32, "batch id")


def parse_batch_record_key(key: bytes) -> int:
    """The batch id of a :func:`batch_record_key`."""
    return int.from_bytes(_tail(key, BATCH_PREFIX, 32, "batch"), "big")


def bnode_prefix(batch_id: int, level: int | None = None) -> bytes:
    """The start of a batch's :func:`bnode_key` entries (of one level, when given)."""
    prefix = BNODE_PREFIX + _uint(batch_id, 32, "batch id")
    return prefix if level is None else prefix + _uint(level, 1, "merkle level")


def bnode_key(batch_id: int, level: int, chunk: int) -> bytes:
    """``v6:bnode:`` batch_id(32) ‖ level(1) ‖ chunk(4) → the level's nodes from position
    ``chunk * BNODE_CHUNK``, up to :data:`BNODE_CHUNK` of them, 32 bytes each, concatenated."""
    return bnode_prefix(batch_id, level) + _uint(chunk, 4, "merkle chunk")


# History


def hhist_prefix(handle_key: bytes) -> bytes:
    """The start of one handle's :func:`hhist_key` entries."""
    return HHIST_PREFIX + _id(handle_key, 32, "handle key")


def hhist_key(handle_key: bytes, block: int, log_index: int, record_index: int = 0) -> bytes:
    """``v6:hhist:`` handle_key ‖ block(8) ‖ log_index(4) ‖ record_index(4) → a history entry."""
    return hhist_prefix(handle_key) + hhist_position(block, log_index, record_index)


def hhist_position(block: int, log_index: int, record_index: int = 0) -> bytes:
    """The 16 bytes after the handle key in an :func:`hhist_key`."""
    return (
        _uint(block, 8, "block number")
        + _uint(log_index, 4, "log index")
        + _uint(record_index, 4, "record index")
    )


def parse_hhist_key(key: bytes) -> tuple[bytes, int, int, int]:
    """The handle key, block, log index and record index of an :func:`hhist_key`."""
    tail = _tail(key, HHIST_PREFIX, 48, "hhist")
    return (
        tail[:32],
        int.from_bytes(tail[32:40], "big"),
        int.from_bytes(tail[40:44], "big"),
        int.from_bytes(tail[44:], "big"),
    )


def phist_prefix(node: bytes) -> bytes:
    """The start of one prefix's :func:`phist_key` entries."""
    return PHIST_PREFIX + _id(node, 32, "node")


def phist_key(node: bytes, block: int, log_index: int) -> bytes:
    """``v6:phist:`` node ‖ block(8) ‖ log_index(4) → a history entry."""
    return phist_prefix(node) + phist_position(block, log_index)


def phist_position(block: int, log_index: int) -> bytes:
    """The 12 bytes after the node in a :func:`phist_key`."""
    return _uint(block, 8, "block number") + _uint(log_index, 4, "log index")


def parse_phist_key(key: bytes) -> tuple[bytes, int, int]:
    """The node, block and log index of a :func:`phist_key`."""
    tail = _tail(key, PHIST_PREFIX, 44, "phist")
    return tail[:32], int.from_bytes(tail[32:40], "big"), int.from_bytes(tail[40:], "big")
