"""EIP-1186 eth_getProof: the account and storage proofs as RLP-encoded trie nodes read from
the chain's state trie at the block's state root."""

from __future__ import annotations

from typing import Any, Final

import rlp  # type: ignore[import-untyped]
from eth.constants import BLANK_ROOT_HASH, EMPTY_SHA3
from eth.rlp.accounts import Account
from trie.hexary import HexaryTrie

from idfuse_node.rpc import params as p
from idfuse_node.rpc.context import RpcContext
from idfuse_node.rpc.errors import invalid_params
from idfuse_node.rpc.format import h, q
from idfuse_node.rpc.methods import Handler
from idfuse_node.rpc.schema import ADDRESS, BLOCK_REF, STORAGE_KEY, Param
from idfuse_sdk.hashing import keccak

MAX_STORAGE_KEYS: Final = 1024


def _proof(trie: HexaryTrie, key: bytes) -> list[str]:
    nodes = trie.get_proof(key)  # type: ignore[no-untyped-call]  # trie 4 leaves get_proof unannotated
    return [h(rlp.encode(node)) for node in nodes]


def get_proof(ctx: RpcContext, params: Any) -> dict[str, Any]:
    address_value, keys_value, block_value = p.positional(params, ("address", "storageKeys", "block"), 3)
    address = p.address(address_value)
    if not isinstance(keys_value, list):
        raise invalid_params("storageKeys must be an array")
    if len(keys_value) > MAX_STORAGE_KEYS:
        raise invalid_params(f"storageKeys holds {len(keys_value)} keys, at most {MAX_STORAGE_KEYS}")
    slots = [(value, p.storage_key(value, f"storageKeys[{i}]")) for i, value in enumerate(keys_value)]
    header = ctx.header(p.block_ref(block_value))
    db = ctx.ledger.chain.chaindb.db
    account_trie = HexaryTrie(db, header.state_root)
    encoded = account_trie.get(keccak(address))
    account = rlp.decode(encoded, sedes=Account) if encoded else Account(0, 0, BLANK_ROOT_HASH, EMPTY_SHA3)
    storage_trie = HexaryTrie(db, account.storage_root)
    storage = []
    for original, slot in slots:
        key = keccak(slot.to_bytes(32, "big"))
        raw = storage_trie.get(key)
        storage.append(
            {
                "key": original,
                "value": q(rlp.decode(raw, sedes=rlp.sedes.big_endian_int) if raw else 0),
                "proof": _proof(storage_trie, key),
            }
        )
    return {
        "address": h(address),
        "accountProof": _proof(account_trie, keccak(address)),
        "balance": q(account.balance),
        "codeHash": h(account.code_hash),
        "nonce": q(account.nonce),
        "storageHash": h(account.storage_root),
        "storageProof": storage,
    }


METHODS: dict[str, Handler] = {"eth_getProof": get_proof}


PARAMS: dict[str, tuple[Param, ...]] = {
    "eth_getProof": (
        Param("address", ADDRESS),
        Param("storageKeys", {"type": "array", "items": STORAGE_KEY, "maxItems": MAX_STORAGE_KEYS}),
        Param("block", BLOCK_REF),
    )
}
