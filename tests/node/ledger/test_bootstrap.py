"""The registry contracts deployed and bootstrapped in block 1."""

import pytest
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector

from idfuse_node.exceptions import BootstrapError
from idfuse_node.ledger.bootstrap import bootstrap_registries, create_address, registry_addresses
from idfuse_sdk.contracts.artifacts import load
from tests.node.devchain import (
    FUNDS,
    SENDER,
    SENDER_KEY,
    T0,
    VALIDATOR,
    VALIDATOR_KEY,
    ledger_fixture,
    make_genesis,
    signed_tx,
)

DEV = SENDER
STRANGER = b"\x33" * 20
GENESIS = make_genesis({VALIDATOR: FUNDS, DEV: FUNDS})

ledger = ledger_fixture(GENESIS)


def call(ledger, to, signature, types=(), args=(), returns=("bool",)):
    data = function_signature_to_4byte_selector(signature) + encode(list(types), list(args))
    computation = ledger.call(STRANGER, to, data)
    assert not computation.is_error, computation.error
    return decode(list(returns), computation.output)[0]


def test_create_address_matches_the_known_vector():
    # The first contract of 0x6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0 (Ethereum yellow-paper
    # example used by web3.py and ethers): nonce 0 → 0xcd234a471b72ba2f1ccf0a70fcaba648a5eecd8d.
    sender = bytes.fromhex("6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0")
    assert create_address(sender, 0).hex() == "cd234a471b72ba2f1ccf0a70fcaba648a5eecd8d"
    assert create_address(sender, 1).hex() == "343c43a37d37dff08ae8c4a11544c718abb4fcf8"


def test_bootstrap_deploys_binds_and_admits_the_dev_account(ledger):
    addresses = bootstrap_registries(ledger, VALIDATOR_KEY, [DEV], timestamp=T0 + 1)
    assert addresses == registry_addresses(VALIDATOR)
    assert ledger.head().block_number == 1
    state = ledger.state()
    for name, address in addresses.items():
        # Immutables (the bound addresses) are filled in at deployment, so compare lengths.
        deployed = bytes.fromhex(load(name).deployed_bytecode.removeprefix("0x"))
        assert len(state.get_code(address)) == len(deployed)
    consortium = addresses["Consortium"]
    assert call(ledger, consortium, "isAllowedSender(address)", ["address"], [DEV])
    assert call(ledger, consortium, "isAllowedSender(address)", ["address"], [VALIDATOR])
    assert not call(ledger, consortium, "isAllowedSender(address)", ["address"], [STRANGER])
    registry = call(ledger, consortium, "registry()", returns=("address",))
    assert registry == "0x" + addresses["PrefixRegistry"].hex()
    prefixes = call(ledger, addresses["IdentifierRegistry"], "prefixRegistry()", returns=("address",))
    assert prefixes == "0x" + addresses["PrefixRegistry"].hex()
    assert (
        call(ledger, addresses["PrefixRegistry"], "consortium()", returns=("address",))
        == "0x" + consortium.hex()
    )


def test_bootstrap_again_changes_nothing(ledger):
    first = bootstrap_registries(ledger, VALIDATOR_KEY, [DEV], timestamp=T0 + 1)
    assert bootstrap_registries(ledger, VALIDATOR_KEY, [DEV], timestamp=T0 + 2) == first
    assert ledger.head().block_number == 1


def test_a_used_deployer_is_refused_and_nothing_is_stored(ledger):
    transfer = signed_tx(ledger, SENDER_KEY, 0, to=STRANGER, value=1, tip=0)
    ledger.build_block([transfer], timestamp=T0 + 1)
    with pytest.raises(BootstrapError, match="nonce 0"):
        bootstrap_registries(ledger, SENDER_KEY, timestamp=T0 + 2)
    assert ledger.head().block_number == 1


def test_a_failing_bootstrap_stores_nothing(ledger):
    with pytest.raises(BootstrapError, match="transaction 0 would fail"):
        bootstrap_registries(ledger, VALIDATOR_KEY, voting_period=60, timestamp=T0 + 1)
    assert ledger.head().block_number == 0
    assert ledger.state().get_nonce(VALIDATOR) == 0
