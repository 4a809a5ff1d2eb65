"""The registry contracts in the chain from its first block.

:func:`bootstrap_registries` builds block 1 of a fresh ledger from signed transactions of a
funded deployer (the validator, which the pool admits as a genesis validator): the steps of
:func:`idfuse_sdk.deploy.deployment_plan`, the same plan ``idfuse deploy`` sends to any EVM chain
over JSON-RPC. It deploys ``Consortium(deployer, organisation, Validator, votingPeriod)``,
``PrefixRegistry(consortium)`` and ``IdentifierRegistry(prefixRegistry)`` with the deployer's
nonces 0, 1 and 2, binds the prefix registry to the Consortium and makes each given member (the
development account) a Member with ``bootstrapAddMember``. The addresses follow from the
deployer's address alone (:func:`registry_addresses`), so clients and endpoints can name them
without asking the chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from eth.abc import ReceiptAPI, SignedTransactionAPI
from eth_keys.datatypes import PrivateKey
from eth_typing import Address

from idfuse_node.exceptions import BootstrapError
from idfuse_node.ledger.chain import Ledger
from idfuse_sdk import deploy
from idfuse_sdk.deploy import (
    CALL_GAS,
    DEFAULT_VOTING_PERIOD,
    DEPLOY_GAS,
    REGISTRY_CONTRACTS,
    ROLE_MEMBER,
    ROLE_VALIDATOR,
    deployment_plan,
)
from idfuse_sdk.exceptions import ValidationError

__all__ = [
    "CALL_GAS",
    "DEFAULT_VOTING_PERIOD",
    "DEPLOY_GAS",
    "MAX_FEE_PER_GAS",
    "REGISTRY_CONTRACTS",
    "ROLE_MEMBER",
    "ROLE_VALIDATOR",
    "bootstrap_registries",
    "bootstrap_transactions",
    "create_address",
    "registry_addresses",
]

MAX_FEE_PER_GAS: Final = 10**10


def create_address(sender: bytes, nonce: int) -> Address:
    """The address a CREATE from ``sender`` at ``nonce`` deploys to (keccak(rlp([sender, nonce])))."""
    return Address(deploy.create_address(sender, nonce))


def registry_addresses(deployer: bytes) -> dict[str, Address]:
    """``{"Consortium", "PrefixRegistry", "IdentifierRegistry": address}`` when ``deployer``
    bootstraps a chain (its nonces 0, 1 and 2)."""
    return {name: Address(address) for name, address in deploy.registry_addresses(deployer).items()}


def bootstrap_transactions(
    ledger: Ledger,
    deployer_key: PrivateKey,
    members: Sequence[bytes] = (),
    *,
    organisation: str = "idfuse development",
    voting_period: int = DEFAULT_VOTING_PERIOD,
) -> list[SignedTransactionAPI]:
    """The signed transactions of the bootstrap block, from the deployer's nonce 0 on.

    :raises idfuse_sdk.exceptions.ValidationError: a member is repeated or is the deployer.
    """
    deployer = deployer_key.public_key.to_canonical_address()
    plan = deployment_plan(deployer, members, organisation=organisation, voting_period=voting_period)
    builder = ledger.transaction_builder()
    return [
        builder.new_unsigned_dynamic_fee_transaction(
            chain_id=ledger.genesis.chain_id,
            nonce=plan.first_nonce + index,
            max_priority_fee_per_gas=0,
            max_fee_per_gas=MAX_FEE_PER_GAS,
            gas=step.gas,
            to=Address(step.to or b""),
            value=0,
            data=step.data,
            access_list=(),
        ).as_signed_transaction(deployer_key)
        for index, step in enumerate(plan.steps)
    ]


def _succeeded(receipt: ReceiptAPI) -> bool:
    return receipt.state_root == b"\x01"


def bootstrap_registries(
    ledger: Ledger,
    deployer_key: PrivateKey,
    members: Sequence[bytes] = (),
    *,
    organisation: str = "idfuse development",
    voting_period: int = DEFAULT_VOTING_PERIOD,
    timestamp: int | None = None,
) -> dict[str, Address]:
    """Deploy and bootstrap the registry contracts in the ledger's next block.

    A ledger that already holds the Consortium at the deployer's address is left alone (a
    restarted node), and the addresses are returned as they are.

    :param members: Accounts made Members of the Consortium (the development account).
    :raises BootstrapError: The deployer has sent transactions already, a member is repeated
        or is the deployer, or a bootstrap transaction failed (nothing is stored then).
    :raises eth.exceptions.ValidationError: The deployer cannot pay for the transactions.
    """
    deployer = deployer_key.public_key.to_canonical_address()
    addresses = registry_addresses(deployer)
    state = ledger.state()
    if state.get_code(addresses["Consortium"]):
        return addresses
    if state.get_nonce(Address(deployer)) != 0:
        raise BootstrapError(
            f"deployer 0x{deployer.hex()} has sent transactions already; bootstrap needs nonce 0"
        )
    try:
        transactions = bootstrap_transactions(
            ledger, deployer_key, members, organisation=organisation, voting_period=voting_period
        )
    except ValidationError as error:
        raise BootstrapError(f"bootstrap plan refused: {error}") from None
    failed = _first_failure(ledger, transactions)
    if failed is not None:
        raise BootstrapError(f"bootstrap transaction {failed} would fail")
    ledger.build_block(transactions, timestamp=timestamp)
    return addresses


def _first_failure(ledger: Ledger, transactions: Sequence[SignedTransactionAPI]) -> int | None:
    """The index of the first transaction that would revert, running them all on a copy of
    the head state (nothing is stored)."""
    head = ledger.head()
    vm = ledger.chain.get_vm()
    header = vm.create_header_from_parent(head, gas_limit=head.gas_limit, timestamp=head.timestamp + 1)
    vm = ledger.chain.get_vm(header)
    _, receipts, _ = vm.apply_all_transactions(transactions, header)
    for index, receipt in enumerate(receipts):
        if not _succeeded(receipt):
            return index
    return None
