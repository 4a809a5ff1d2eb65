"""Block headers as plain fields, and the two QBFT header hashes.

A header may come from py-evm (``BlockHeader``, ``LondonBlockHeader``: duck-typed, so the SDK
never imports py-evm), from JSON-RPC (``eth_getBlockByNumber`` as a raw dict of hex strings or
as web3.py formats it, ``extraData`` renamed ``proofOfAuthorityData`` by web3.py's
``ExtraDataToPOAMiddleware`` included) or be a :class:`HeaderFields`. All three give the same
RLP and so the same hashes.

Hashing follows hyperledger/besu ``consensus/common/src/main/java/org/hyperledger/besu/consensus/
common/bft/BftBlockHashing.java``:

- :func:`block_hash` is ``calculateHashOfBftBlockOnchain``: keccak of the header RLP with
  extraData re-encoded without commit seals *and with round 0* ("as these change on each of the
  potentially circulated blocks at the current chain height"), so re-proposing a block in a
  later round keeps its hash.
- :func:`commit_seal_digest` is ``calculateDataHashForCommittedSeal``: the same, but the round
  is kept; this is what each validator signs.
- The genesis header (number 0) hashes as it is, extraData untouched (``serializeHeader``).

``MIX_HASH`` is ``BftHelpers.EXPECTED_MIX_HASH`` (same directory), the bytes of
"ctical byzantine fault tolerance".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

import rlp  # type: ignore[import-untyped]

from idfuse_sdk.exceptions import QbftHeaderError
from idfuse_sdk.hashing import keccak
from idfuse_sdk.qbft.extradata import QbftExtraData

MIX_HASH: Final = bytes.fromhex("63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365")
"""The mix hash of every QBFT header (Besu ``BftHelpers.EXPECTED_MIX_HASH``)."""

DIFFICULTY: Final = 1
"""The difficulty of every QBFT header."""

NONCE: Final = bytes(8)
"""The nonce of every QBFT header built by Besu (votes live in extraData, not in the nonce)."""

_POST_LONDON_RPC = (
    "withdrawalsRoot",
    "blobGasUsed",
    "excessBlobGas",
    "parentBeaconBlockRoot",
    "requestsHash",
)
_POST_LONDON_EVM = ("withdrawals_root", "blob_gas_used", "excess_blob_gas", "parent_beacon_block_root")


@dataclass(frozen=True)
class HeaderFields:
    """The consensus fields of a London (or earlier, ``base_fee_per_gas=None``) block header,
    in RLP order."""

    parent_hash: bytes
    uncles_hash: bytes
    coinbase: bytes
    state_root: bytes
    transaction_root: bytes
    receipt_root: bytes
    bloom: bytes
    difficulty: int
    number: int
    gas_limit: int
    gas_used: int
    timestamp: int
    extra_data: bytes
    mix_hash: bytes
    nonce: bytes
    base_fee_per_gas: int | None = None

    def __post_init__(self) -> None:
        sizes = {
            "parent_hash": 32,
            "uncles_hash": 32,
            "coinbase": 20,
            "state_root": 32,
            "transaction_root": 32,
            "receipt_root": 32,
            "bloom": 256,
            "mix_hash": 32,
            "nonce": 8,
        }
        for name, size in sizes.items():
            value = getattr(self, name)
            if not isinstance(value, bytes) or len(value) != size:
                raise QbftHeaderError(f"header {name} must be {size} bytes, got {value!r}")
        if not isinstance(self.extra_data, bytes):
            raise QbftHeaderError("header extra_data must be bytes")
        for name in ("difficulty", "number", "gas_limit", "gas_used", "timestamp", "base_fee_per_gas"):
            value = getattr(self, name)
            if value is None and name == "base_fee_per_gas":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise QbftHeaderError(f"header {name} must be a non-negative int, got {value!r}")

    def encode(self) -> bytes:
        """The header's RLP, as Ethereum (and Besu's ``BlockHeader.writeTo``) writes it."""
        items: list[bytes | int] = [
            self.parent_hash,
            self.uncles_hash,
            self.coinbase,
            self.state_root,
            self.transaction_root,
            self.receipt_root,
            self.bloom,
            self.difficulty,
            self.number,
            self.gas_limit,
            self.gas_used,
            self.timestamp,
            self.extra_data,
            self.mix_hash,
            self.nonce,
        ]
        if self.base_fee_per_gas is not None:
            items.append(self.base_fee_per_gas)
        return bytes(rlp.encode(items))

    def with_extra_data(self, extra_data: bytes) -> HeaderFields:
        """This header with another ``extraData``."""
        return replace(self, extra_data=bytes(extra_data))


def _to_bytes(value: object, name: str) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str) and value[:2] in ("0x", "0X"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError as error:
            raise QbftHeaderError(f"block {name} is not hex: {value!r}") from error
    raise QbftHeaderError(f"block {name} must be bytes or a 0x-hex string, got {value!r}")


def _to_int(value: object, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value[:2] in ("0x", "0X"):
        try:
            return int(value, 16)
        except ValueError as error:
            raise QbftHeaderError(f"block {name} is not a hex quantity: {value!r}") from error
    raise QbftHeaderError(f"block {name} must be an int or a 0x-hex quantity, got {value!r}")


def to_address(value: bytes | str, title: str = "validator") -> bytes:
    """A 20-byte address from bytes or a 0x-hex string (checksummed or not).

    :raises QbftHeaderError: ``value`` is not an address.
    """
    if isinstance(value, str) and value[:2] in ("0x", "0X") and len(value) == 42:
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    elif isinstance(value, bytes | bytearray) and len(value) == 20:
        return bytes(value)
    raise QbftHeaderError(f"{title} must be a 20-byte address, got {value!r}")


def reported_hash(block: Mapping[str, Any]) -> bytes | None:
    """The ``hash`` a JSON-RPC block carries, or None when it has none.

    :raises QbftHeaderError: The hash is not 32 bytes of hex.
    """
    value = block.get("hash")
    if value is None:
        return None
    reported = _to_bytes(value, "hash")
    if len(reported) != 32:
        raise QbftHeaderError(f"block hash must be 32 bytes, got {value!r}")
    return reported


def _from_rpc(block: Mapping[str, Any]) -> HeaderFields:
    for key in _POST_LONDON_RPC:
        if block.get(key) is not None:
            raise QbftHeaderError(f"block has {key}: forks after London are not QBFT headers idfuse reads")
    extra = block.get("extraData", block.get("proofOfAuthorityData"))
    try:
        base_fee = block.get("baseFeePerGas")
        return HeaderFields(
            parent_hash=_to_bytes(block["parentHash"], "parentHash"),
            uncles_hash=_to_bytes(block["sha3Uncles"], "sha3Uncles"),
            coinbase=_to_bytes(block["miner"], "miner"),
            state_root=_to_bytes(block["stateRoot"], "stateRoot"),
            transaction_root=_to_bytes(block["transactionsRoot"], "transactionsRoot"),
            receipt_root=_to_bytes(block["receiptsRoot"], "receiptsRoot"),
            bloom=_to_bytes(block["logsBloom"], "logsBloom"),
            difficulty=_to_int(block["difficulty"], "difficulty"),
            number=_to_int(block["number"], "number"),
            gas_limit=_to_int(block["gasLimit"], "gasLimit"),
            gas_used=_to_int(block["gasUsed"], "gasUsed"),
            timestamp=_to_int(block["timestamp"], "timestamp"),
            extra_data=_to_bytes(extra, "extraData"),
            mix_hash=_to_bytes(block["mixHash"], "mixHash"),
            nonce=_to_bytes(block["nonce"], "nonce"),
            base_fee_per_gas=None if base_fee is None else _to_int(base_fee, "baseFeePerGas"),
        )
    except KeyError as error:
        raise QbftHeaderError(f"block lacks the field {error.args[0]}") from error


def _from_evm(header: Any) -> HeaderFields:
    for name in _POST_LONDON_EVM:
        if hasattr(header, name):
            raise QbftHeaderError(f"header has {name}: forks after London are not QBFT headers idfuse reads")
    bloom = header.bloom
    return HeaderFields(
        parent_hash=header.parent_hash,
        uncles_hash=header.uncles_hash,
        coinbase=header.coinbase,
        state_root=header.state_root,
        transaction_root=header.transaction_root,
        receipt_root=header.receipt_root,
        bloom=bloom.to_bytes(256, "big") if isinstance(bloom, int) else bloom,
        difficulty=header.difficulty,
        number=header.block_number,
        gas_limit=header.gas_limit,
        gas_used=header.gas_used,
        timestamp=header.timestamp,
        extra_data=header.extra_data,
        mix_hash=header.mix_hash,
        nonce=header.nonce,
        base_fee_per_gas=getattr(header, "base_fee_per_gas", None),
    )


def header_fields(header: object) -> HeaderFields:
    """Normalise a py-evm header, a JSON-RPC block or :class:`HeaderFields` to the latter.

    :raises QbftHeaderError: A field is missing, malformed, or belongs to a fork after London.
    """
    if isinstance(header, HeaderFields):
        return header
    if isinstance(header, Mapping):
        return _from_rpc(header)
    if hasattr(header, "block_number") and hasattr(header, "uncles_hash"):
        return _from_evm(header)
    raise QbftHeaderError(f"not a block header: {type(header).__name__}")


def _hash_with(fields: HeaderFields, *, keep_round: bool) -> bytes:
    if fields.number == 0:
        return keccak(fields.encode())
    extra = QbftExtraData.decode(fields.extra_data)
    encoded = (
        extra.encode_without_commit_seals() if keep_round else extra.encode_without_commit_seals_and_round()
    )
    return keccak(fields.with_extra_data(encoded).encode())


def block_hash(header: object) -> bytes:
    """The QBFT block hash (Besu ``calculateHashOfBftBlockOnchain``): commit seals left out and
    the round set to 0, so sealing or re-proposing a block never changes its hash.

    :raises QbftHeaderError: ``header`` is not a London-or-earlier header.
    :raises QbftExtraDataError: Its ``extraData`` is not a QBFT encoding.
    """
    return _hash_with(header_fields(header), keep_round=False)


def commit_seal_digest(header: object) -> bytes:
    """The digest each validator signs as its commit seal (Besu
    ``calculateDataHashForCommittedSeal``): commit seals left out, round kept.

    :raises QbftHeaderError: ``header`` is not a London-or-earlier header.
    :raises QbftExtraDataError: Its ``extraData`` is not a QBFT encoding.
    """
    return _hash_with(header_fields(header), keep_round=True)
