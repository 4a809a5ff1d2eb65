"""The batch Merkle tree (docs/data-model.md "Merkle tree")."""

from __future__ import annotations

import time

import pytest
from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st

from idfuse_sdk import merkle
from idfuse_sdk.encoding import BatchRecord, HandleValue, commitment, encode_values
from idfuse_sdk.exceptions import ValidationError
from idfuse_sdk.identifiers import handle_key, prefix_node
from tests.sdk.strategies import batch_records

NODE = prefix_node("88.100.1")
hashes = st.binary(min_size=32, max_size=32)
leaf_lists = st.lists(hashes, min_size=1, max_size=70)


def h(n: int) -> bytes:
    return keccak(n.to_bytes(32, "big"))


def P(a: bytes, b: bytes) -> bytes:
    """The spec's parent, written independently: order as uint256."""
    lo, hi = sorted([a, b], key=lambda x: int.from_bytes(x, "big"))
    return keccak(b"\x01" + lo + hi)


def test_leaf_and_parent_known_answers() -> None:
    key, value = h(1), h(2)
    assert merkle.leaf(key, value) == keccak(b"\x00" + key + value)
    assert merkle.parent(h(1), h(2)) == merkle.parent(h(2), h(1)) == P(h(1), h(2))
    low, high = bytes(31) + b"\x02", b"\x01" + bytes(31)  # uint256 order, not first-byte luck
    assert merkle.parent(high, low) == keccak(b"\x01" + low + high)


def test_small_trees_by_hand() -> None:
    a, b, c, d, e = (h(i) for i in range(5))
    assert merkle.root([a]) == a
    assert merkle.proof([a], 0) == []
    assert merkle.root([a, b]) == P(a, b)
    assert merkle.root([a, b, c]) == P(P(a, b), c)  # c carried up
    assert merkle.proof([a, b, c], 2) == [P(a, b)]
    assert merkle.proof([a, b, c], 0) == [b, c]
    assert merkle.root([a, b, c, d, e]) == P(P(P(a, b), P(c, d)), e)
    assert merkle.proof([a, b, c, d, e], 4) == [P(P(a, b), P(c, d))]
    assert merkle.proof([a, b, c, d, e], 2) == [d, P(a, b), e]


def test_rejects() -> None:
    with pytest.raises(ValidationError, match=r"^merkle tree must have at least one leaf$"):
        merkle.root([])
    with pytest.raises(ValidationError, match=r"^leaf 1 must be 32 bytes, got 3$"):
        merkle.root([h(0), b"abc"])
    with pytest.raises(ValidationError, match=r"^merkle proof position must be 0-2, got 3$"):
        merkle.proof([h(0), h(1), h(2)], 3)
    with pytest.raises(ValidationError, match=r"^merkle proof position must be 0-2, got -1$"):
        merkle.proof([h(0), h(1), h(2)], -1)
    with pytest.raises(ValidationError, match=r"^commitment must be 32 bytes, got 0$"):
        merkle.leaf(h(0), b"")
    assert not merkle.verify(h(0), [b"short"], h(1))
    assert not merkle.verify(h(0), [], b"")


def reference_root(leaves: list[bytes]) -> bytes:
    """The spec read literally, level by level."""
    level = list(leaves)
    while len(level) > 1:
        nxt = [P(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


@given(leaf_lists)
def test_root_matches_reference(leaves: list[bytes]) -> None:
    assert merkle.root(leaves) == reference_root(leaves)


@given(leaf_lists)
def test_every_proof_verifies(leaves: list[bytes]) -> None:
    tree = merkle.MerkleTree(leaves)
    assert len(tree) == len(leaves)
    for position, item in enumerate(leaves):
        path = tree.proof(position)
        assert path == merkle.proof(leaves, position)
        assert len(path) <= (len(leaves) - 1).bit_length()
        assert merkle.verify(item, path, tree.root)


@given(leaf_lists.filter(lambda ls: len(set(ls)) > 1), st.data())
def test_tampered_proofs_fail(leaves: list[bytes], data: st.DataObject) -> None:
    tree = merkle.MerkleTree(leaves)
    position = data.draw(st.integers(0, len(leaves) - 1))
    item, path = leaves[position], tree.proof(position)
    other = data.draw(hashes.filter(lambda x: x not in leaves))
    assert not merkle.verify(other, path, tree.root)  # a leaf not in the tree
    assert not merkle.verify(item, path, other)  # another root
    if path:
        spot = data.draw(st.integers(0, len(path) - 1))
        flipped = bytearray(path[spot])
        flipped[data.draw(st.integers(0, 31))] ^= 1 << data.draw(st.integers(0, 7))
        assert not merkle.verify(item, [*path[:spot], bytes(flipped), *path[spot + 1 :]], tree.root)
        assert not merkle.verify(item, path[:-1], tree.root)  # a shortened proof
        assert not merkle.verify(item, [*path, other], tree.root)  # a lengthened one


def test_an_inner_node_is_not_a_leaf() -> None:
    leaves = [merkle.leaf(h(i), h(i + 100)) for i in range(4)]
    tree = merkle.MerkleTree(leaves)
    inner = merkle.parent(leaves[0], leaves[1])
    # The inner node verifies as a node with proof [sibling subtree] ...
    assert merkle.verify(inner, [merkle.parent(leaves[2], leaves[3])], tree.root)
    # ... but no (key, commitment) pair makes it a leaf: the domain bytes differ.
    assert merkle.leaf(leaves[0], leaves[1]) != inner


@given(batch_records())
def test_batch_leaves(records: list[BatchRecord]) -> None:
    leaves = merkle.batch_leaves(NODE, records)
    ordered = sorted(records, key=lambda r: handle_key(NODE, r.suffix))
    expected = [
        keccak(b"\x00" + handle_key(NODE, r.suffix) + commitment(r.template, encode_values(r.values)))
        for r in ordered
    ]
    assert leaves == expected
    assert merkle.batch_leaves(NODE, reversed(records)) == leaves


def test_twenty_thousand_leaves_is_fast() -> None:
    records = [
        BatchRecord(f"PN-{i:05d}", (HandleValue.text(1, "URL", f"https://x.example/{i}"),))
        for i in range(20_000)
    ]
    started = time.perf_counter()
    leaves = merkle.batch_leaves(NODE, records)
    tree = merkle.MerkleTree(leaves)
    proofs = [tree.proof(i) for i in range(0, len(leaves), 997)]
    elapsed = time.perf_counter() - started
    assert all(merkle.verify(leaves[i * 997], p, tree.root) for i, p in enumerate(proofs))
    assert tree.root == reference_root(leaves)
    assert max(len(p) for p in proofs) == 15
    assert elapsed < 5, f"20000 leaves took {elapsed:.2f}s"
