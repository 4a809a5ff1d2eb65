"""EIP-1186 proofs: where the registries keep what an auditor proves, and the proof checks.

Storage keys follow Solidity's layout (the compiled artifacts' ``storageLayout``): a mapping at
slot ``p`` keeps key ``k``'s value at ``keccak(k ‖ uint256(p))``, and a struct's members follow
at consecutive slots, packed members from the low-order end of a word. The layout this module
assumes is checked against the artifacts by :func:`check_layout` (a test calls it), so a
contract change that moves a slot fails loudly instead of proving the wrong word.

Proofs are checked with the ``trie`` package (``HexaryTrie.get_from_proof``): the account proof
against a header's ``stateRoot`` (key ``keccak(address)``, value the RLP account
``[nonce, balance, storageRoot, codeHash]``), each storage proof against the proven account's
``storageRoot`` (key ``keccak(slot)``, value the RLP of the word without leading zeros).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import rlp  # type: ignore[import-untyped]
from trie.exceptions import BadTrieProof, InvalidNode
from trie.exceptions import ValidationError as TrieValidationError
from trie.hexary import HexaryTrie

from idfuse_sdk.contracts.artifacts import load
from idfuse_sdk.exceptions import ProofError
from idfuse_sdk.hashing import keccak

__all__ = [
    "BLANK_ROOT",
    "ProvenAccount",
    "batch_slot",
    "check_layout",
    "commitment_slot",
    "prefix_slot",
    "verify_account_proof",
    "verify_storage_proof",
]

BLANK_ROOT: Final = keccak(rlp.encode(b""))
"""The root of an empty trie (an account without storage)."""

# (contract, variable) -> slot; struct members -> offset from the struct's base slot.
COMMITMENTS_SLOT: Final = 0
BATCHES_SLOT: Final = 2
PREFIXES_SLOT: Final = 0
BATCH_MEMBERS: Final = {"prefixNode": (0, 0), "root": (1, 0)}
PREFIX_MEMBERS: Final = {
    "parent": (1, 0),
    "owner": (2, 0),
    "pendingOwner": (3, 0),
    "status": (3, 20),
    "expiry": (3, 21),
}
"""Member -> (slot offset, byte offset from the word's low-order end)."""


def _mapping_slot(key: bytes, slot: int) -> int:
    return int.from_bytes(keccak(key.rjust(32, b"\0") + slot.to_bytes(32, "big")), "big")


def commitment_slot(handle_key: bytes) -> int:
    """``IdentifierRegistry._commitments[handleKey]``: ``keccak(handleKey ‖ uint256(0))``."""
    return _mapping_slot(handle_key, COMMITMENTS_SLOT)


def batch_slot(batch_id: int, member: str) -> int:
    """The slot of ``IdentifierRegistry._batches[batchId].member`` (``prefixNode``, ``root``)."""
    return _mapping_slot(batch_id.to_bytes(32, "big"), BATCHES_SLOT) + BATCH_MEMBERS[member][0]


def prefix_slot(node: bytes, member: str) -> int:
    """The slot of ``PrefixRegistry._prefixes[node].member`` (see :data:`PREFIX_MEMBERS`)."""
    return _mapping_slot(node, PREFIXES_SLOT) + PREFIX_MEMBERS[member][0]


def check_layout() -> None:
    """Check the slots above against the compiled artifacts' ``storageLayout``.

    :raises ProofError: A variable or member moved.
    """
    expected = {
        ("IdentifierRegistry", "_commitments"): (COMMITMENTS_SLOT, {}),
        ("IdentifierRegistry", "_batches"): (BATCHES_SLOT, BATCH_MEMBERS),
        ("PrefixRegistry", "_prefixes"): (PREFIXES_SLOT, PREFIX_MEMBERS),
    }
    for (contract, label), (slot, members) in expected.items():
        layout: Any = load(contract).storage_layout
        (variable,) = [item for item in layout["storage"] if item["label"] == label]
        if int(variable["slot"]) != slot:
            raise ProofError(f"{contract}.{label} is at slot {variable['slot']}, not {slot}")
        value_type = layout["types"][variable["type"]].get("value")
        found = {
            member["label"]: (int(member["slot"]), int(member["offset"]))
            for member in layout["types"].get(value_type, {}).get("members", [])
        }
        for name, place in members.items():
            if found.get(name) != place:
                raise ProofError(f"{contract}.{label}.{name} is at {found.get(name)}, not {place}")


def _nodes(proof: Sequence[bytes]) -> list[Any]:
    try:
        return [rlp.decode(node) for node in proof]
    except rlp.DecodingError as error:
        raise ProofError(f"a proof node is not RLP: {error}") from None


def _get(root: bytes, key: bytes, proof: Sequence[bytes], title: str) -> bytes:
    try:
        return bytes(HexaryTrie.get_from_proof(root, key, _nodes(proof)))  # type: ignore[no-untyped-call]
    except BadTrieProof as error:
        raise ProofError(f"{title} does not prove against root 0x{root.hex()}: {error}") from None
    # a malformed node shape, root or embedded node: the trie package raises its own or rlp's
    except (InvalidNode, TrieValidationError, rlp.DecodingError, ValueError, TypeError, IndexError) as error:
        raise ProofError(f"{title} is malformed: {type(error).__name__}: {error}") from None


@dataclass(frozen=True)
class ProvenAccount:
    """An account as an account proof shows it (all zero for an absent account)."""

    nonce: int
    balance: int
    storage_root: bytes
    code_hash: bytes


def verify_account_proof(state_root: bytes, address: bytes, proof: Sequence[bytes]) -> ProvenAccount:
    """The account at ``address`` in the state with root ``state_root``, from its proof.

    :raises ProofError: The proof does not lead from ``state_root`` to the account's key, or the
        account it proves does not decode.
    """
    encoded = _get(state_root, keccak(address), proof, "the account proof")
    if not encoded:
        return ProvenAccount(0, 0, BLANK_ROOT, keccak(b""))
    try:
        fields = rlp.decode(encoded)
    except rlp.DecodingError as error:
        raise ProofError(f"the proven account does not decode: {error}") from None
    if not isinstance(fields, list) or len(fields) != 4 or not all(isinstance(f, bytes) for f in fields):
        raise ProofError("the proven account is not [nonce, balance, storageRoot, codeHash]")
    nonce, balance, storage_root, code_hash = fields
    return ProvenAccount(
        int.from_bytes(nonce, "big"), int.from_bytes(balance, "big"), bytes(storage_root), bytes(code_hash)
    )


def verify_storage_proof(storage_root: bytes, slot: int, proof: Sequence[bytes]) -> bytes:
    """The 32-byte word at ``slot`` in the storage with root ``storage_root``, from its proof.

    :raises ProofError: The proof does not lead from ``storage_root`` to the slot's key, or the
        value it proves is not an RLP integer.
    """
    encoded = _get(storage_root, keccak(slot.to_bytes(32, "big")), proof, f"the storage proof of {slot:#x}")
    if not encoded:
        return bytes(32)
    try:
        value = rlp.decode(encoded)
    except rlp.DecodingError as error:
        raise ProofError(f"the proven word of slot {slot:#x} is not RLP: {error}") from None
    if not isinstance(value, bytes) or len(value) > 32:
        raise ProofError(f"the proven word of slot {slot:#x} is not a 32-byte integer")
    return value.rjust(32, b"\0")


def member(word: bytes, byte_offset: int, size: int) -> bytes:
    """A packed member of a storage word: ``size`` bytes at ``byte_offset`` from the low end."""
    end = 32 - byte_offset
    return word[end - size : end]
