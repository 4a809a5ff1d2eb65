"""The registry contracts' ABIs as plain data: calldata, return values and events, with no
provider and no web3 contract object, so the sync and async clients share every byte of it.

Functions are looked up by name (the registry contracts overload none), events by their
topic 0 across the three contracts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from eth_abi.abi import decode, encode
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address

from idfuse_sdk.contracts.artifacts import load
from idfuse_sdk.exceptions import ArtifactNotFoundError
from idfuse_sdk.hashing import keccak

__all__ = [
    "REGISTRY_CONTRACTS",
    "DecodedLog",
    "Function",
    "abi_type",
    "decode_log",
    "event_topic",
    "function",
    "normalise",
]

REGISTRY_CONTRACTS: Final = ("Consortium", "PrefixRegistry", "IdentifierRegistry")
"""The contracts a client talks to, in deployment order."""


def abi_type(item: dict[str, Any]) -> str:
    """The canonical type of an ABI input or output (tuples spelled out, ``(…)[]``)."""
    kind = str(item["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(abi_type(c) for c in item["components"]) + ")" + kind[len("tuple") :]
    return kind


def normalise(value: Any) -> Any:
    """A decoded ABI value made friendly: addresses checksummed, tuples and lists recursed."""
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
        return to_checksum_address(value)
    if isinstance(value, tuple | list):
        return tuple(normalise(item) for item in value)
    return value


@dataclass(frozen=True)
class Function:
    """One contract function: its selector and types."""

    contract: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    selector: bytes

    def encode(self, *args: Any) -> bytes:
        """Calldata for ``args``."""
        return self.selector + encode(list(self.inputs), list(args))

    def decode(self, output: bytes) -> tuple[Any, ...]:
        """The return values of a call, normalised."""
        return tuple(normalise(value) for value in decode(list(self.outputs), output))


@cache
def function(contract: str, name: str) -> Function:
    """Function ``name`` of ``contract``.

    :raises ArtifactNotFoundError: no such contract or function.
    """
    for entry in load(contract).abi:
        if entry.get("type") == "function" and entry["name"] == name:
            inputs = tuple(abi_type(item) for item in entry.get("inputs", []))
            outputs = tuple(abi_type(item) for item in entry.get("outputs", []))
            selector = function_signature_to_4byte_selector(f"{name}({','.join(inputs)})")
            return Function(contract, name, inputs, outputs, selector)
    raise ArtifactNotFoundError(f"{contract} has no function {name!r}")


@dataclass(frozen=True)
class _Event:
    contract: str
    name: str
    inputs: tuple[dict[str, Any], ...]


@cache
def _events() -> dict[bytes, _Event]:
    events: dict[bytes, _Event] = {}
    for contract in REGISTRY_CONTRACTS:
        for entry in load(contract).abi:
            if entry.get("type") == "event":
                types = ",".join(abi_type(item) for item in entry.get("inputs", []))
                topic = keccak(f"{entry['name']}({types})".encode("ascii"))
                events[topic] = _Event(contract, entry["name"], tuple(entry.get("inputs", [])))
    return events


def event_topic(name: str) -> bytes:
    """Topic 0 of event ``name`` of one of the registry contracts.

    :raises ArtifactNotFoundError: no such event.
    """
    for topic, event in _events().items():
        if event.name == name:
            return topic
    raise ArtifactNotFoundError(f"no registry contract declares event {name!r}")


@dataclass(frozen=True)
class DecodedLog:
    """A registry event from a receipt or ``eth_getLogs``: its name, arguments by ABI name
    (indexed ones included), and where it was emitted."""

    contract: str
    name: str
    args: dict[str, Any]
    address: str
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int


def decode_log(log: dict[str, Any]) -> DecodedLog | None:
    """Decode a JSON-RPC log object; None when it is no registry event."""
    topics = [bytes.fromhex(str(topic)[2:]) for topic in log.get("topics") or []]
    if not topics:
        return None
    event = _events().get(topics[0])
    if event is None:
        return None
    indexed = [item for item in event.inputs if item.get("indexed")]
    plain = [item for item in event.inputs if not item.get("indexed")]
    data = bytes.fromhex(str(log.get("data") or "0x")[2:])
    plain_values = decode([abi_type(item) for item in plain], data)
    args: dict[str, Any] = {}
    for item, topic in zip(indexed, topics[1:], strict=False):
        kind = abi_type(item)
        # Dynamic indexed values are stored as their hash: keep the 32 bytes.
        args[item["name"]] = normalise(decode([kind], topic)[0]) if _static(kind) else topic
    for item, value in zip(plain, plain_values, strict=True):
        args[item["name"]] = normalise(value)
    return DecodedLog(
        contract=event.contract,
        name=event.name,
        args=args,
        address=to_checksum_address(str(log["address"])),
        block_number=_quantity(log.get("blockNumber")),
        block_hash=str(log.get("blockHash") or ""),
        tx_hash=str(log.get("transactionHash") or ""),
        log_index=_quantity(log.get("logIndex")),
    )


def _static(kind: str) -> bool:
    return kind not in ("string", "bytes") and not kind.endswith("]") and not kind.startswith("(")


def _quantity(value: Any) -> int:
    if isinstance(value, int):
        return value
    return int(str(value), 16) if value else 0
