"""The batch Merkle tree of docs/data-model.md ("Merkle tree").

``leaf = keccak(0x00 ‖ handleKey ‖ commitment)``, ``parent = keccak(0x01 ‖ min ‖ max)``
(sorted as uint256, so a proof needs no left/right bits); neighbours pair up level by level
and an odd last node is carried up unchanged. Building a tree is O(n) hashes; a proof from a
built tree is O(log n), so :class:`MerkleTree` serves every proof of a 20000-record batch
from one build.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from idfuse_sdk.encoding import BatchRecord, canonical_batch
from idfuse_sdk.exceptions import ValidationError
from idfuse_sdk.hashing import keccak
from idfuse_sdk.identifiers import validate_bytes32

_LEAF = b"\x00"
_NODE = b"\x01"


def leaf(handle_key: bytes, commitment: bytes) -> bytes:
    """A record's leaf, ``keccak(0x00 ‖ handleKey ‖ commitment)``.

    :param handle_key: The record's handle key.
    :param commitment: The record's commitment.
    :return: 32 bytes.
    :raises ValidationError: An argument is not 32 bytes.
    """
    key = validate_bytes32(handle_key, "handle key")
    return keccak(_LEAF + key + validate_bytes32(commitment, "commitment"))


def parent(a: bytes, b: bytes) -> bytes:
    """An inner node, ``keccak(0x01 ‖ min(a, b) ‖ max(a, b))`` (as uint256).

    :param a: One child (32 bytes).
    :param b: The other child (32 bytes).
    :return: 32 bytes.
    """
    # Equal-length big-endian byte strings order exactly as the uint256s they encode.
    return keccak(_NODE + a + b) if a <= b else keccak(_NODE + b + a)


class MerkleTree:
    """Every level of a tree, built once; the root and any leaf's proof read from it."""

    __slots__ = ("_levels",)

    def __init__(self, leaves: Iterable[bytes]) -> None:
        """Build the tree.

        :param leaves: Level 0, in record order (at least one, 32 bytes each).
        :raises ValidationError: There are no leaves, or one is not 32 bytes.
        """
        level = list(leaves)
        for position, item in enumerate(level):
            if type(item) is not bytes or len(item) != 32:  # a title only for the rare other case
                level[position] = validate_bytes32(item, f"leaf {position}")
        if not level:
            raise ValidationError("merkle tree must have at least one leaf")
        self._levels = [level]
        while len(level) > 1:
            paired = [parent(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                paired.append(level[-1])
            level = paired
            self._levels.append(level)

    def __len__(self) -> int:
        return len(self._levels[0])

    @property
    def levels(self) -> tuple[tuple[bytes, ...], ...]:
        """Every level, leaves first and the root last (an index stores them for proofs)."""
        return tuple(tuple(level) for level in self._levels)

    @property
    def root(self) -> bytes:
        """The root (the only leaf, for a tree of one)."""
        return self._levels[-1][0]

    def proof(self, position: int) -> list[bytes]:
        """The sibling hashes from leaf ``position`` up to the root.

        :param position: The leaf's position in level 0.
        :return: The proof (empty for a tree of one).
        :raises ValidationError: ``position`` is not a leaf's position.
        """
        if not isinstance(position, int) or not 0 <= position < len(self):
            raise ValidationError(f"merkle proof position must be 0-{len(self) - 1}, got {position!r}")
        siblings: list[bytes] = []
        for level in self._levels[:-1]:
            sibling = position ^ 1
            if sibling < len(level):  # else the node is carried up and adds nothing
                siblings.append(level[sibling])
            position //= 2
        return siblings


def root(leaves: Iterable[bytes]) -> bytes:
    """The root of a tree over ``leaves``.

    :param leaves: Level 0, in record order.
    :return: 32 bytes.
    :raises ValidationError: There are no leaves, or one is not 32 bytes.
    """
    return MerkleTree(leaves).root


def proof(leaves: Iterable[bytes], position: int) -> list[bytes]:
    """The proof of the leaf at ``position``; build a :class:`MerkleTree` for many proofs.

    :param leaves: Level 0, in record order.
    :param position: The leaf's position.
    :return: The sibling hashes from the leaf upwards.
    :raises ValidationError: There are no leaves, one is not 32 bytes, or ``position`` is out of range.
    """
    return MerkleTree(leaves).proof(position)


def verify(leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether folding ``h = parent(h, sibling)`` over ``proof`` from ``leaf`` gives ``root``.

    :param leaf: The leaf.
    :param proof: The sibling hashes from the leaf upwards.
    :param root: The expected root.
    :return: ``True`` when the proof holds; ``False`` otherwise, also for malformed input.
    """
    hashes = [leaf, root, *proof]
    if not all(isinstance(item, bytes) and len(item) == 32 for item in hashes):
        return False
    node = leaf
    for sibling in proof:
        node = parent(node, sibling)
    return node == root


def batch_leaves(prefix_node: bytes, records: Iterable[BatchRecord]) -> list[bytes]:
    """The leaves of a batch, in the order ``registerBatch`` sees its records (by handle key).

    :param prefix_node: The batch's prefix node id.
    :param records: The records, in any order (they are checked and sorted).
    :return: Level 0 of the batch's tree.
    :raises ValidationError: See :func:`idfuse_sdk.encoding.canonical_batch`.
    """
    return [leaf(entry.handle_key, entry.commitment) for entry in canonical_batch(prefix_node, records)]
