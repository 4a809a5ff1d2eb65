"""EIP-1186 proof checks of idfuse_sdk.proofs over tries built in memory with the trie package,
and the storage layout they assume."""

from __future__ import annotations

import contextlib

import pytest
import rlp
from hypothesis import given
from hypothesis import strategies as st
from trie.hexary import HexaryTrie

from idfuse_sdk.exceptions import ProofError
from idfuse_sdk.hashing import keccak
from idfuse_sdk.proofs import (
    BLANK_ROOT,
    batch_slot,
    check_layout,
    commitment_slot,
    member,
    verify_account_proof,
    verify_storage_proof,
)

ADDRESS = bytes.fromhex("22" * 20)


def storage_trie(words: dict[int, bytes]) -> HexaryTrie:
    trie = HexaryTrie({})
    for slot, word in words.items():
        trie.set(keccak(slot.to_bytes(32, "big")), rlp.encode(word.lstrip(b"\0")))
    for n in range(50):  # neighbours, so that proofs have several nodes
        trie.set(keccak(n.to_bytes(32, "big")), rlp.encode(n + 1))
    return trie


def encoded_proof(trie: HexaryTrie, key: bytes) -> list[bytes]:
    return [rlp.encode(node) for node in trie.get_proof(key)]


def test_the_layout_matches_the_artifacts() -> None:
    check_layout()
    key = bytes(range(32))
    assert commitment_slot(key) == int.from_bytes(keccak(key + bytes(32)), "big")
    base = int.from_bytes(keccak((7).to_bytes(32, "big") + (2).to_bytes(32, "big")), "big")
    assert (batch_slot(7, "prefixNode"), batch_slot(7, "root")) == (base, base + 1)


def test_storage_and_account_proofs_prove_words_and_absence() -> None:
    word = keccak(b"commitment")
    slot = commitment_slot(keccak(b"handle"))
    storage = storage_trie({slot: word})
    assert (
        verify_storage_proof(
            storage.root_hash, slot, encoded_proof(storage, keccak(slot.to_bytes(32, "big")))
        )
        == word
    )
    absent = commitment_slot(keccak(b"other"))
    proof = encoded_proof(storage, keccak(absent.to_bytes(32, "big")))
    assert verify_storage_proof(storage.root_hash, absent, proof) == bytes(32)

    state = HexaryTrie({})
    state.set(keccak(ADDRESS), rlp.encode([1, 0, storage.root_hash, keccak(b"code")]))
    state.set(keccak(b"\x01" * 20), rlp.encode([0, 5, BLANK_ROOT, keccak(b"")]))
    account = verify_account_proof(state.root_hash, ADDRESS, encoded_proof(state, keccak(ADDRESS)))
    assert (account.nonce, account.storage_root) == (1, storage.root_hash)


def test_a_proof_that_does_not_reach_the_root_is_refused() -> None:
    slot = commitment_slot(keccak(b"handle"))
    storage = storage_trie({slot: keccak(b"commitment")})
    proof = encoded_proof(storage, keccak(slot.to_bytes(32, "big")))
    with pytest.raises(ProofError, match="does not prove"):
        verify_storage_proof(storage.root_hash, slot, proof[:-1])
    with pytest.raises(ProofError, match="does not prove"):
        verify_storage_proof(keccak(b"another root"), slot, proof)
    with pytest.raises(ProofError, match="not RLP"):
        verify_storage_proof(storage.root_hash, slot, [b"\xff\xff", *proof[1:]])


def test_packed_members_read_from_the_low_end() -> None:
    word = bytes(3) + (99).to_bytes(8, "big") + b"\x02" + b"\xaa" * 20
    assert member(word, 0, 20) == b"\xaa" * 20
    assert member(word, 20, 1) == b"\x02"
    assert int.from_bytes(member(word, 21, 8), "big") == 99


def test_malformed_proofs_are_proof_errors() -> None:
    state = HexaryTrie({})
    state.set(keccak(ADDRESS), rlp.encode([[b"\x01"], b"", BLANK_ROOT, keccak(b"")]))
    nested_account = encoded_proof(state, keccak(ADDRESS))
    for root, proof, message in [
        (b"\x11", [], "malformed"),  # a root that is no hash: the trie package's InvalidNode
        (keccak(b"\x11"), [b"\xc0"], "malformed"),  # an empty list as a node: its ValidationError
        (state.root_hash, nested_account, "not \\[nonce, balance"),
    ]:
        with pytest.raises(ProofError, match=message):
            verify_account_proof(root, ADDRESS, proof)


_rlp_items = st.recursive(st.binary(max_size=40), lambda inner: st.lists(inner, max_size=18), max_leaves=40)


@given(nodes=st.lists(_rlp_items.map(rlp.encode), min_size=1, max_size=3), slot=st.integers(0, 2**256 - 1))
def test_any_proof_a_node_serves_proves_or_is_a_proof_error(nodes: list[bytes], slot: int) -> None:
    root = keccak(nodes[0])  # the first node is the root, so the walk goes into what was served
    for check in (
        lambda: verify_account_proof(root, ADDRESS, nodes),
        lambda: verify_storage_proof(root, slot, nodes),
    ):
        with contextlib.suppress(ProofError):  # anything else escaping fails the test
            check()
