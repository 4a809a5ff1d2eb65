"""Deploy and bootstrap the registry contracts: one plan, two engines.

:func:`deployment_plan` is pure data: the init code and calldata of every step, in order, for
a deployer and its first nonce. The embedded ledger signs these steps into its block 1
(``idfuse_node.ledger.bootstrap``) and :func:`deploy_registries` sends them to any EVM chain
over JSON-RPC, so the two can never deploy different things:

====  ==================================================================================
step  what
====  ==================================================================================
1     deploy ``Consortium(deployer, organisation, Validator, votingPeriod)``
2     deploy ``PrefixRegistry(consortium)``
3     deploy ``IdentifierRegistry(prefixRegistry)``
4     ``consortium.bindRegistry(prefixRegistry)``
5…    ``consortium.bootstrapAddMember(member, organisation, Member)`` per member
====  ==================================================================================

The contract addresses are the CREATE addresses of the deployer's first three nonces
(:func:`registry_addresses`), so they are known before anything is sent. The deployer stays the
Consortium's bootstrap admin (it may then ``bootstrapAllocatePrefix``) until it calls
``renounceBootstrap()``.

Re-running :func:`deploy_registries` is not idempotent on purpose: each run deploys a fresh,
independent set from the deployer's next nonce (a CREATE address of an unused nonce cannot
already be a contract, unless a genesis put code there, which is refused). Callers that must
not deploy twice keep the result (``idfuse deploy`` refuses to overwrite an endpoints file
that names contracts).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Final, cast

import rlp  # type: ignore[import-untyped]
from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import is_address, to_canonical_address, to_checksum_address
from web3 import Web3
from web3.exceptions import ContractLogicError, TimeExhausted, Web3Exception, Web3RPCError
from web3.middleware import ExtraDataToPOAMiddleware
from web3.types import TxParams, TxReceipt

from idfuse_sdk.contracts.abi import REGISTRY_CONTRACTS as _REGISTRY_CONTRACTS
from idfuse_sdk.contracts.artifacts import load
from idfuse_sdk.contracts.errors import decode_revert, revert_data
from idfuse_sdk.exceptions import DeployConnectionError, DeployError, DeployRevertError, ValidationError
from idfuse_sdk.hashing import keccak

__all__ = [
    "CALL_GAS",
    "DEFAULT_ORGANISATION",
    "DEFAULT_VOTING_PERIOD",
    "DEPLOY_GAS",
    "REGISTRY_CONTRACTS",
    "ROLE_MEMBER",
    "ROLE_VALIDATOR",
    "DeployResult",
    "DeployStep",
    "DeploymentPlan",
    "SentStep",
    "create_address",
    "decode_revert",
    "deploy_registries",
    "deployment_plan",
    "registry_addresses",
]

REGISTRY_CONTRACTS: Final = _REGISTRY_CONTRACTS
"""The contracts deployed, in deployment order (the deployer's first three nonces)."""

ROLE_VALIDATOR: Final = 1
ROLE_MEMBER: Final = 2
DEFAULT_ORGANISATION: Final = "idfuse development"
DEFAULT_VOTING_PERIOD: Final = 7 * 24 * 3600
"""A week: the Consortium accepts one hour to ninety days."""
DEPLOY_GAS: Final = 8_000_000
"""Gas limit of a deployment step (the embedded ledger uses it as is; over JSON-RPC the
chain's estimate is used, with a margin)."""
CALL_GAS: Final = 500_000
"""Gas limit of a bootstrap call step, likewise."""

_ESTIMATE_MARGIN_PERCENT: Final = 20
_RECEIPT_POLL_SECONDS: Final = 0.1
_EXTRA_DATA_VANITY: Final = 32
_OS_REASON: Final = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


def create_address(sender: bytes, nonce: int) -> bytes:
    """The address a CREATE from ``sender`` at ``nonce`` deploys to (keccak(rlp([sender, nonce])))."""
    return bytes(keccak(rlp.encode([bytes(sender), nonce]))[12:])


def registry_addresses(deployer: bytes, first_nonce: int = 0) -> dict[str, bytes]:
    """``{"Consortium", "PrefixRegistry", "IdentifierRegistry": address}`` when ``deployer``
    deploys them from ``first_nonce`` on."""
    return {
        name: create_address(deployer, first_nonce + offset) for offset, name in enumerate(REGISTRY_CONTRACTS)
    }


@dataclass(frozen=True)
class DeployStep:
    """One transaction of the plan: a creation (``to`` None) or a call of the Consortium."""

    name: str
    """What the step does, for messages: ``deploy Consortium``, ``bindRegistry``, …"""
    to: bytes | None
    data: bytes
    gas: int
    """The gas limit the embedded ledger gives the step."""


@dataclass(frozen=True)
class DeploymentPlan:
    """Every step of a deployment by ``deployer`` from ``first_nonce`` on (step ``i`` uses
    nonce ``first_nonce + i``), and the addresses the contracts will have."""

    deployer: bytes
    first_nonce: int
    addresses: dict[str, bytes]
    steps: tuple[DeployStep, ...]


def _calldata(signature: str, types: Sequence[str], args: Sequence[object]) -> bytes:
    return function_signature_to_4byte_selector(signature) + encode(list(types), list(args))


def _init_code(name: str, types: Sequence[str], args: Sequence[object]) -> bytes:
    return bytes.fromhex(load(name).bytecode.removeprefix("0x")) + encode(list(types), list(args))


def _address_bytes(value: bytes | str, title: str) -> bytes:
    if isinstance(value, bytes) and len(value) == 20:
        return value
    if isinstance(value, str) and is_address(value):
        return to_canonical_address(value)
    raise ValidationError(f"{title} must be a 20-byte address (0x-prefixed hex), not {value!r}")


def deployment_plan(
    deployer: bytes | str,
    members: Sequence[bytes | str] = (),
    *,
    organisation: str = DEFAULT_ORGANISATION,
    voting_period: int = DEFAULT_VOTING_PERIOD,
    first_nonce: int = 0,
) -> DeploymentPlan:
    """The deployment and bootstrap of the registry contracts by ``deployer``.

    The organisation's length and the voting period are checked by the Consortium itself (its
    constructor reverts with ``ConsortiumInvalidOrganisation`` / ``ConsortiumInvalidVotingPeriod``).

    :param members: Accounts made Members of the Consortium (with ``organisation``).
    :raises ValidationError: an address is malformed, a member is listed twice, or the
        deployer is listed as a member (it is the first member already).
    """
    deployer = _address_bytes(deployer, "deployer")
    member_addresses = [_address_bytes(member, "member") for member in members]
    for index, member in enumerate(member_addresses):
        if member == deployer:
            raise ValidationError(f"member {to_checksum_address(member)} is the deployer, a member already")
        if member in member_addresses[:index]:
            raise ValidationError(f"member {to_checksum_address(member)} is listed twice")
    if isinstance(first_nonce, bool) or not isinstance(first_nonce, int) or first_nonce < 0:
        raise ValidationError("first_nonce must be a non-negative integer")
    addresses = registry_addresses(deployer, first_nonce)
    consortium = addresses["Consortium"]
    steps = [
        DeployStep(
            "deploy Consortium",
            None,
            _init_code(
                "Consortium",
                ["address", "string", "uint8", "uint64"],
                [deployer, organisation, ROLE_VALIDATOR, voting_period],
            ),
            DEPLOY_GAS,
        ),
        DeployStep(
            "deploy PrefixRegistry",
            None,
            _init_code("PrefixRegistry", ["address"], [consortium]),
            DEPLOY_GAS,
        ),
        DeployStep(
            "deploy IdentifierRegistry",
            None,
            _init_code("IdentifierRegistry", ["address"], [addresses["PrefixRegistry"]]),
            DEPLOY_GAS,
        ),
        DeployStep(
            "bindRegistry",
            consortium,
            _calldata("bindRegistry(address)", ["address"], [addresses["PrefixRegistry"]]),
            CALL_GAS,
        ),
    ]
    for member in member_addresses:
        steps.append(
            DeployStep(
                f"bootstrapAddMember {to_checksum_address(member)}",
                consortium,
                _calldata(
                    "bootstrapAddMember(address,string,uint8)",
                    ["address", "string", "uint8"],
                    [member, organisation, ROLE_MEMBER],
                ),
                CALL_GAS,
            )
        )
    return DeploymentPlan(deployer, first_nonce, addresses, tuple(steps))


# --- sending over JSON-RPC -------------------------------------------------------------------


@dataclass(frozen=True)
class SentStep:
    """A mined step of a deployment."""

    name: str
    tx_hash: str
    block_number: int
    gas_used: int


@dataclass(frozen=True)
class DeployResult:
    """What :func:`deploy_registries` deployed: checksum addresses by contract name, and each
    step's transaction."""

    chain_id: int
    deployer: str
    contracts: dict[str, str]
    steps: tuple[SentStep, ...]

    @property
    def tx_hashes(self) -> list[str]:
        """The transaction hashes, in order."""
        return [step.tx_hash for step in self.steps]

    @property
    def block_numbers(self) -> list[int]:
        """The block of each transaction, in order."""
        return [step.block_number for step in self.steps]


def _connect(target: Web3 | str, timeout: float) -> Web3:
    if isinstance(target, Web3):
        return target
    return Web3(Web3.HTTPProvider(target, request_kwargs={"timeout": timeout}))


def _where(w3: Web3) -> str:
    provider = w3.provider
    return str(getattr(provider, "endpoint_uri", None) or type(provider).__name__)


def _add_poa_middleware(w3: Web3) -> None:
    """Add ``ExtraDataToPOAMiddleware`` when the chain's extraData is longer than 32 bytes (QBFT,
    Clique): web3.py refuses such blocks otherwise. Asked with a raw request for that reason."""
    response = w3.provider.make_request(cast(Any, "eth_getBlockByNumber"), ["latest", False])
    block = response.get("result") or {}
    extra = str(block.get("extraData") or "0x")
    if (len(extra) - 2) // 2 > _EXTRA_DATA_VANITY:
        with suppress(ValueError):  # already there
            w3.middleware_onion.inject(ExtraDataToPOAMiddleware, name="idfuse_poa", layer=0)


class _Sender:
    """Signs and sends plan steps from one account, waiting for each receipt."""

    def __init__(self, w3: Web3, account: LocalAccount, chain_id: int, timeout: float) -> None:
        self.w3 = w3
        self.account = account
        self.chain_id = chain_id
        self.timeout = timeout
        latest = w3.eth.get_block("latest")
        self.dynamic_fee = latest.get("baseFeePerGas") is not None

    def fees(self) -> dict[str, int]:
        if not self.dynamic_fee:
            return {"gasPrice": int(self.w3.eth.gas_price)}
        base_fee = int(self.w3.eth.get_block("latest").get("baseFeePerGas") or 0)
        try:
            tip = int(self.w3.eth.max_priority_fee)
        except (Web3Exception, ValueError):  # no eth_maxPriorityFeePerGas: 1 gwei, geth's default
            tip = 10**9
        return {"maxFeePerGas": 2 * base_fee + tip, "maxPriorityFeePerGas": tip, "type": 2}

    def call_fields(self, step: DeployStep) -> TxParams:
        fields: dict[str, Any] = {"from": self.account.address, "data": step.data, "value": 0}
        if step.to is not None:
            fields["to"] = to_checksum_address(step.to)
        return cast(TxParams, fields)

    def send(self, step: DeployStep, nonce: int, label: str) -> TxReceipt:
        try:
            estimate = int(self.w3.eth.estimate_gas(self.call_fields(step)))
        except (ContractLogicError, Web3RPCError) as error:
            data = revert_data(error)
            if data is None and not isinstance(error, ContractLogicError):
                raise DeployError(
                    f"{label}: the node could not estimate its gas: {_message(error)}"
                ) from None
            raise DeployRevertError(
                f"{label} would revert: {decode_revert(data or b'')}", step=step.name
            ) from None
        fields: dict[str, Any] = {
            **self.call_fields(step),
            "nonce": nonce,
            "chainId": self.chain_id,
            "gas": estimate + estimate * _ESTIMATE_MARGIN_PERCENT // 100,
            **self.fees(),
        }
        fields.pop("from")
        signed = self.account.sign_transaction(fields)
        try:
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        except Web3RPCError as error:
            raise DeployError(f"{label}: the node refused the transaction: {_message(error)}") from None
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=self.timeout, poll_latency=_RECEIPT_POLL_SECONDS
            )
        except TimeExhausted:
            raise DeployError(
                f"{label}: transaction 0x{bytes(tx_hash).hex()} not mined within {self.timeout:.0f}s"
            ) from None
        if receipt["status"] != 1:
            reason = self.replay(step, int(receipt["blockNumber"]))
            raise DeployRevertError(
                f"{label} reverted in transaction 0x{bytes(tx_hash).hex()}: {reason}", step=step.name
            )
        return receipt

    def replay(self, step: DeployStep, block_number: int) -> str:
        """The reason a mined step failed: the call replayed on its block's parent state."""
        try:
            self.w3.eth.call(self.call_fields(step), block_identifier=max(block_number - 1, 0))
        except (ContractLogicError, Web3RPCError) as error:
            return decode_revert(revert_data(error) or b"")
        return "out of gas or reverted without data"


def _message(error: BaseException) -> str:
    """A node's error message (web3.py wraps the RPC error object)."""
    message = getattr(error, "rpc_response", None)
    if isinstance(message, dict) and isinstance(message.get("error"), dict):
        return str(message["error"].get("message", error))
    return str(error)


def deploy_registries(
    target: Web3 | str,
    account: LocalAccount,
    *,
    members: Sequence[bytes | str] = (),
    organisation: str = DEFAULT_ORGANISATION,
    voting_period: int = DEFAULT_VOTING_PERIOD,
    timeout: float = 120.0,
) -> DeployResult:
    """Deploy and bootstrap the registry contracts on an EVM chain over JSON-RPC.

    Each step of :func:`deployment_plan` (from the account's pending nonce) is estimated first
    (a step that would revert is reported before it is sent), signed locally (EIP-1559 fees
    when the chain's blocks carry a base fee, a legacy gas price otherwise), sent, and awaited.
    ``ExtraDataToPOAMiddleware`` is added when the chain's extraData is long (QBFT, Clique).
    A failure leaves the steps before it on chain; the error says which step failed.

    :param target: A JSON-RPC URL, or a connected ``Web3``.
    :param account: The deployer, which becomes the Consortium's first member (a Validator) and
        its bootstrap admin; it pays for everything.
    :param members: Accounts made Members by ``bootstrapAddMember``.
    :param timeout: Seconds to wait for each receipt (and for each HTTP request to a URL).
    :raises ValidationError: a member address is malformed, repeated, or the deployer's.
    :raises DeployConnectionError: the node cannot be reached or does not speak JSON-RPC.
    :raises DeployRevertError: a step reverts (``step`` names it; the message decodes why).
    :raises DeployError: the deployer has no funds, the node refuses a transaction (say,
        insufficient funds), a receipt does not come in time, or a planned address holds code.
    """
    w3 = _connect(target, timeout)
    where = _where(w3)
    try:
        chain_id = int(w3.eth.chain_id)
        _add_poa_middleware(w3)
        nonce = int(w3.eth.get_transaction_count(account.address, "pending"))
        balance = int(w3.eth.get_balance(account.address))
    except Web3RPCError as error:
        raise DeployConnectionError(
            f"JSON-RPC node at {where} answered with an error: {_message(error)}"
        ) from None
    except (OSError, Web3Exception, ValueError) as error:
        raise DeployConnectionError(f"cannot reach a JSON-RPC node at {where}: {_brief(error)}") from None
    plan = deployment_plan(
        account.address, members, organisation=organisation, voting_period=voting_period, first_nonce=nonce
    )
    if balance == 0:
        raise DeployError(f"deployer {account.address} has no funds on chain {chain_id}")
    for name, address in plan.addresses.items():
        if w3.eth.get_code(to_checksum_address(address)):
            raise DeployError(
                f"{name}'s planned address {to_checksum_address(address)} already holds code "
                f"(deployer nonce {nonce + REGISTRY_CONTRACTS.index(name)}); refusing to deploy"
            )
    sender = _Sender(w3, account, chain_id, timeout)
    sent: list[SentStep] = []
    total = len(plan.steps)
    for index, step in enumerate(plan.steps):
        label = f"step {index + 1} of {total} ({step.name})"
        if sent:
            label += f" after {len(sent)} mined step{'s' if len(sent) > 1 else ''}"
        try:
            receipt = sender.send(step, nonce + index, label)
        except (OSError, Web3Exception) as error:
            raise DeployConnectionError(
                f"{label}: lost the JSON-RPC node at {where}: {_brief(error)}"
            ) from None
        sent.append(
            SentStep(
                step.name,
                "0x" + bytes(receipt["transactionHash"]).hex(),
                receipt["blockNumber"],
                receipt["gasUsed"],
            )
        )
    return DeployResult(
        chain_id=chain_id,
        deployer=account.address,
        contracts={name: to_checksum_address(address) for name, address in plan.addresses.items()},
        steps=tuple(sent),
    )


def _brief(error: BaseException) -> str:
    """One line about a transport error: the OS's reason when there is one (requests nests it
    deep in a retry story), else the first line of the message."""
    text = str(error)
    reason = _OS_REASON.search(text)
    if reason is not None:
        return reason.group(1)
    return (text.splitlines()[0] if text else type(error).__name__)[:300]
