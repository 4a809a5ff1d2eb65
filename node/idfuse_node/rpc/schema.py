"""The JSON Schemas of the parameter kinds :mod:`.params` checks, and :class:`Param`, with which
each method module declares its positional parameters beside its ``METHODS`` (as ``PARAMS``)
for the OpenAPI document of :mod:`.openapi`.

Each schema admits what the matching check in :mod:`.params` accepts and nothing it refuses,
except where JSON Schema cannot say it (``eth_feeHistory``'s block count range as hex, the
order of reward percentiles): such a request is schema-valid and still a -32602 error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from idfuse_node.rpc.params import BLOCK_TAGS

Schema = dict[str, Any]


@dataclass(frozen=True)
class Param:
    """One positional parameter of a method: its name (as the -32602 messages give it), its
    JSON Schema, and whether it may be left out (only trailing parameters may)."""

    name: str
    schema: Schema
    required: bool = True


def ref(name: str) -> Schema:
    """A reference to the component schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def _hex(pattern: str, description: str) -> Schema:
    return {"type": "string", "pattern": f"^0[xX]{pattern}$", "description": description}


COMPONENTS: Final[dict[str, Schema]] = {
    "Quantity": _hex("(0|[1-9a-fA-F][0-9a-fA-F]{0,63})", "A hex quantity below 2**256, no leading zeros"),
    "Uint63": _hex(
        "(0|[1-9a-fA-F][0-9a-fA-F]{0,14}|[1-7][0-9a-fA-F]{15})",
        "A hex quantity below 2**63 (block numbers, gas), no leading zeros",
    ),
    "Data": _hex("([0-9a-fA-F]{2})*", "Hex bytes, an even number of digits"),
    "Address": _hex("[0-9a-fA-F]{40}", "A 20-byte address (the checksum is not enforced)"),
    "Hash32": _hex("[0-9a-fA-F]{64}", "A 32-byte hash"),
    "StorageKey": _hex("[0-9a-fA-F]{1,64}", "A storage slot: 1 to 64 hex digits"),
    "BlockTag": {
        "type": "string",
        "enum": list(BLOCK_TAGS),
        "description": "latest, safe, finalized and pending name the head; earliest is genesis",
    },
    "BlockNumberOrTag": {"anyOf": [ref("Uint63"), ref("BlockTag")]},
    "BlockRef": {
        "description": "A block number or tag, a block hash, or an EIP-1898 object",
        "anyOf": [
            ref("Uint63"),
            ref("BlockTag"),
            ref("Hash32"),
            {
                "type": "object",
                "properties": {"blockHash": ref("Hash32"), "requireCanonical": {"type": "boolean"}},
                "required": ["blockHash"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {"blockNumber": ref("BlockNumberOrTag")},
                "required": ["blockNumber"],
                "additionalProperties": False,
            },
        ],
    },
    "CallObject": {
        "type": "object",
        "description": "A message call; the fee fields, nonce, type, chainId and accessList are "
        "accepted and ignored (calls run without fees at the sender's current nonce)",
        "properties": {
            "from": {"anyOf": [ref("Address"), {"type": "null"}]},
            "to": {"anyOf": [ref("Address"), {"type": "null"}]},
            "gas": ref("Uint63"),
            "gasPrice": ref("Quantity"),
            "maxFeePerGas": ref("Quantity"),
            "maxPriorityFeePerGas": ref("Quantity"),
            "value": ref("Quantity"),
            "data": ref("Data"),
            "input": ref("Data"),
            "nonce": ref("Quantity"),
            "type": ref("Quantity"),
            "chainId": ref("Quantity"),
            "accessList": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "address": ref("Address"),
                        "storageKeys": {"type": "array", "items": ref("Hash32")},
                    },
                },
            },
        },
        "additionalProperties": False,
    },
    "Filter": {
        "type": "object",
        "description": "eth_getLogs criteria: blockHash, or a range of at most 10,000 blocks",
        "properties": {
            "fromBlock": ref("BlockNumberOrTag"),
            "toBlock": ref("BlockNumberOrTag"),
            "address": {"anyOf": [ref("Address"), {"type": "array", "items": ref("Address")}]},
            "topics": {
                "type": "array",
                "maxItems": 4,
                "items": {
                    "anyOf": [
                        {"type": "null"},
                        ref("Hash32"),
                        {"type": "array", "items": {"anyOf": [ref("Hash32"), {"type": "null"}]}},
                    ]
                },
            },
            "blockHash": ref("Hash32"),
        },
        "additionalProperties": False,
    },
}

QUANTITY: Final = ref("Quantity")
UINT63: Final = ref("Uint63")
DATA: Final = ref("Data")
ADDRESS: Final = ref("Address")
HASH32: Final = ref("Hash32")
STORAGE_KEY: Final = ref("StorageKey")
BLOCK_NUMBER_OR_TAG: Final = ref("BlockNumberOrTag")
BLOCK_REF: Final = ref("BlockRef")
CALL_OBJECT: Final = ref("CallObject")
FILTER: Final = ref("Filter")
BOOLEAN: Final[Schema] = {"type": "boolean"}
