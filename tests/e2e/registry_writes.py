"""Writes an operator's first minutes make, through web3 against a running node: the bootstrap
admin (the validator) allocates a top-level prefix to the development account, which creates
one identifier under it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3
from web3.middleware import ExtraDataToPOAMiddleware

from idfuse_sdk.encoding import HandleValue, encode_values
from idfuse_sdk.identifiers import prefix_node
from idfuse_sdk.keystore import load_key, read_password_file


def send(w3: Web3, account: Any, to: str, signature: str, types: list[str], args: list[Any]) -> str:
    """Sign and send ``signature(args)`` to ``to``; wait for a successful receipt; the tx hash."""
    data = function_signature_to_4byte_selector(signature) + encode(types, args)
    signed = account.sign_transaction(
        {
            "type": 2,
            "chainId": w3.eth.chain_id,
            "nonce": w3.eth.get_transaction_count(account.address, "pending"),
            "to": to,
            "value": 0,
            "data": data,
            "gas": 1_000_000,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 1,
        }
    )
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    assert w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.05)["status"] == 1
    return tx_hash.to_0x_hex()


@dataclass(frozen=True)
class Registered:
    """What :func:`register_identifier` made: the validator (bootstrap admin), the prefix
    owner, the creating transaction and the head block after it."""

    validator: LocalAccount
    owner: LocalAccount
    created_tx: str
    head: int


def register_identifier(
    data_dir: Path, endpoints: dict[str, Any], prefix: str, suffix: str, url: str
) -> Registered:
    """Allocate ``prefix`` to the development account and create ``prefix/suffix`` with one
    URL value, on the node whose data directory is ``data_dir``."""
    w3 = Web3(Web3.HTTPProvider(endpoints["rpc_url"]))
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    validator = Account.from_key(
        load_key(
            data_dir / "validator.keystore.json", read_password_file(data_dir / "validator.password")
        ).key
    )
    dev = load_key(
        Path(endpoints["dev_account"]["keystore"]),
        read_password_file(Path(endpoints["dev_account"]["password_file"])),
    )
    contracts = endpoints["contracts"]
    send(
        w3,
        validator,
        contracts["Consortium"],
        "bootstrapAllocatePrefix(string,address,uint64)",
        ["string", "address", "uint64"],
        [prefix, dev.address, 0],
    )
    values = [HandleValue(index=1, type="URL", data=url.encode())]
    created = send(
        w3,
        dev,
        contracts["IdentifierRegistry"],
        "createIdentifier(bytes32,string,bytes32,bytes)",
        ["bytes32", "string", "bytes32", "bytes"],
        [prefix_node(prefix), suffix, bytes(32), encode_values(values)],
    )
    return Registered(validator, dev, created, w3.eth.block_number)
