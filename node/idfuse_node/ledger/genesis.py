"""The genesis file: chain id, block period, gas limit, validators and funded accounts.

The validators go into the genesis header's extraData as Besu writes it
(:meth:`idfuse_sdk.qbft.QbftExtraData.genesis`: zero vanity, the validators, no vote, round 0,
no seals).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth.constants import ZERO_ADDRESS
from eth.typing import AccountDetails
from eth_typing import Address

from idfuse_node.exceptions import GenesisError
from idfuse_sdk.qbft import DIFFICULTY, MIX_HASH, NONCE, QbftExtraData, to_address


def _address(value: object, title: str) -> bytes:
    if isinstance(value, str | bytes | bytearray):
        try:
            return to_address(value if isinstance(value, str) else bytes(value), title)
        except ValueError as error:
            raise GenesisError(str(error)) from error
    raise GenesisError(f"{title} must be a 20-byte address, got {value!r}")


def _positive_int(value: object, title: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise GenesisError(f"{title} must be an integer ≥ {minimum}, got {value!r}")
    return value


@dataclass(frozen=True)
class GenesisConfig:
    """What a chain starts from.

    :raises GenesisError: On construction, when a field is out of range or not an address.
    """

    chain_id: int
    validators: tuple[bytes, ...]
    alloc: Mapping[bytes, int] = field(default_factory=dict)
    """Funded accounts: address → balance in wei."""
    gas_limit: int = 1_000_000_000
    block_period_seconds: int = 1
    timestamp: int = 0

    def __post_init__(self) -> None:
        _positive_int(self.chain_id, "chain_id")
        _positive_int(self.gas_limit, "gas_limit", minimum=5000)
        _positive_int(self.block_period_seconds, "block_period_seconds")
        _positive_int(self.timestamp, "timestamp", minimum=0)
        validators = tuple(_address(v, "validator") for v in self.validators)
        if not validators:
            raise GenesisError("a chain needs at least one validator")
        if len(set(validators)) != len(validators):
            raise GenesisError("validators must be distinct")
        object.__setattr__(self, "validators", validators)
        alloc = {
            _address(a, "alloc address"): _positive_int(b, "alloc balance", minimum=0)
            for a, b in self.alloc.items()
        }
        object.__setattr__(self, "alloc", alloc)

    def extra_data(self) -> bytes:
        """The genesis header's extraData."""
        return QbftExtraData.genesis(self.validators).encode()

    def genesis_params(self) -> dict[str, Any]:
        """The genesis header fields, as py-evm's ``Chain.from_genesis`` takes them."""
        return {
            "coinbase": ZERO_ADDRESS,
            "difficulty": DIFFICULTY,
            "gas_limit": self.gas_limit,
            "timestamp": self.timestamp,
            "extra_data": self.extra_data(),
            "mix_hash": MIX_HASH,
            "nonce": NONCE,
        }

    def genesis_state(self) -> dict[Address, AccountDetails]:
        """The genesis accounts, as py-evm's ``Chain.from_genesis`` takes them."""
        return {
            Address(address): {"balance": balance, "nonce": 0, "code": b"", "storage": {}}
            for address, balance in self.alloc.items()
        }

    def to_json(self) -> dict[str, Any]:
        """This config as a JSON object (addresses and balances as 0x-hex)."""
        return {
            "chainId": self.chain_id,
            "blockPeriodSeconds": self.block_period_seconds,
            "gasLimit": hex(self.gas_limit),
            "timestamp": hex(self.timestamp),
            "validators": ["0x" + v.hex() for v in self.validators],
            "alloc": {"0x" + a.hex(): {"balance": hex(b)} for a, b in self.alloc.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GenesisConfig:
        """The config a :meth:`to_json` object describes.

        :raises GenesisError: A field is missing or malformed.
        """
        try:
            return cls(
                chain_id=data["chainId"],
                block_period_seconds=data["blockPeriodSeconds"],
                gas_limit=int(data["gasLimit"], 16),
                timestamp=int(data["timestamp"], 16),
                validators=tuple(data["validators"]),
                alloc={a: int(v["balance"], 16) for a, v in data["alloc"].items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            if isinstance(error, GenesisError):
                raise
            raise GenesisError(f"genesis file is malformed: {error!r}") from error

    def save(self, path: Path) -> None:
        """Write this config to ``path`` as JSON."""
        path.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> GenesisConfig:
        """Read a config :meth:`save` wrote.

        :raises GenesisError: The file is not JSON or not a genesis config.
        """
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise GenesisError(f"cannot read genesis file {path}: {error}") from error
        if not isinstance(data, dict):
            raise GenesisError(f"genesis file {path} must hold a JSON object")
        return cls.from_json(data)
