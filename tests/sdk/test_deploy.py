"""One deployment plan, two engines: deploy_registries over JSON-RPC to Hardhat and to our own
embedded ledger, and the embedded ledger's block-1 bootstrap built from the same plan."""

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from web3 import Web3

from idfuse_node.ledger.bootstrap import bootstrap_registries, bootstrap_transactions
from idfuse_node.ledger.chain import Ledger
from idfuse_node.ledger.producer import BlockProducer
from idfuse_node.ledger.txpool import TxPool
from idfuse_node.rpc import RpcContext, RpcServer
from idfuse_sdk.contracts.artifacts import load
from idfuse_sdk.deploy import (
    DeployResult,
    decode_revert,
    deploy_registries,
    deployment_plan,
    registry_addresses,
)
from idfuse_sdk.exceptions import DeployConnectionError, DeployError, DeployRevertError, ValidationError
from tests.hardhat import HardhatNode, hardhat_node_fixture
from tests.node.devchain import FUNDS, VALIDATOR, VALIDATOR_KEY, make_genesis

hardhat = hardhat_node_fixture(scope="module")

VALIDATOR_ACCOUNT = Account.from_key(VALIDATOR_KEY.to_bytes())
MEMBER = Account.from_key(b"\x02" * 32)
GENESIS = make_genesis({VALIDATOR: FUNDS})


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """A fresh embedded ledger (no bootstrap) with its pool, producer and JSON-RPC server; the
    validator may send from genesis, so it can deploy the contracts itself over JSON-RPC."""
    ledger = Ledger.open(tmp_path_factory.mktemp("ledger"), GENESIS, VALIDATOR_KEY)
    context = RpcContext(ledger)
    pool = TxPool(ledger, registry_addresses(VALIDATOR)["Consortium"])
    context.pool = pool
    producer = BlockProducer(ledger, pool, 0.05, lock=context.lock)
    server = RpcServer(context)
    server.start()
    producer.start()
    try:
        yield server.url
    finally:
        producer.stop()
        server.stop()
        ledger.close()


def call(w3, address, signature, types=(), args=(), returns=("bool",)):
    data = function_signature_to_4byte_selector(signature) + encode(list(types), list(args))
    output = w3.eth.call({"to": address, "data": data})
    return w3.codec.decode(list(returns), output)[0]


def assert_bootstrapped(w3, result: DeployResult, deployer, members):
    contracts = result.contracts
    for name, address in contracts.items():
        assert w3.eth.get_code(address), name
    consortium = contracts["Consortium"]
    assert call(w3, consortium, "bootstrapAdmin()", returns=("address",)) == deployer.lower()
    assert call(w3, consortium, "registry()", returns=("address",)) == contracts["PrefixRegistry"].lower()
    prefixes = call(w3, contracts["IdentifierRegistry"], "prefixRegistry()", returns=("address",))
    assert prefixes == contracts["PrefixRegistry"].lower()
    for member in members:
        assert call(w3, consortium, "isAllowedSender(address)", ["address"], [member])
    assert not call(w3, consortium, "isAllowedSender(address)", ["address"], ["0x" + "33" * 20])
    assert len(result.steps) == 4 + len(members)
    assert result.block_numbers == sorted(result.block_numbers)
    for tx_hash in result.tx_hashes:
        assert w3.eth.get_transaction_receipt(tx_hash)["status"] == 1


def test_the_embedded_bootstrap_signs_exactly_the_plan(tmp_path):
    ledger = Ledger.open(tmp_path / "other", GENESIS, VALIDATOR_KEY)
    try:
        transactions = bootstrap_transactions(ledger, VALIDATOR_KEY, [bytes.fromhex(MEMBER.address[2:])])
    finally:
        ledger.close()
    plan = deployment_plan(VALIDATOR, [MEMBER.address])
    assert [(tx.to, tx.data, tx.gas, tx.nonce) for tx in transactions] == [
        (step.to or b"", step.data, step.gas, index) for index, step in enumerate(plan.steps)
    ]


def test_deploy_over_json_rpc_to_the_embedded_ledger_matches_its_bootstrap(embedded, tmp_path):
    url = embedded
    result = deploy_registries(url, VALIDATOR_ACCOUNT, members=[MEMBER.address])
    w3 = Web3(Web3.HTTPProvider(url))
    assert result.chain_id == GENESIS.chain_id
    assert result.contracts == {
        name: to_checksum_address(address) for name, address in registry_addresses(VALIDATOR).items()
    }
    assert_bootstrapped(w3, result, VALIDATOR_ACCOUNT.address, [MEMBER.address])
    # The same plan through the embedded bootstrap leaves the same code at the same addresses.
    other = Ledger.open(tmp_path / "bootstrapped", GENESIS, VALIDATOR_KEY)
    try:
        bootstrap_registries(other, VALIDATOR_KEY, [bytes.fromhex(MEMBER.address[2:])])
        state = other.state()
        for name, address in registry_addresses(VALIDATOR).items():
            assert w3.eth.get_code(to_checksum_address(address)) == state.get_code(address), name
    finally:
        other.close()


def test_deploy_to_hardhat(hardhat):
    deployer, member = hardhat.accounts[0], hardhat.accounts[1]
    w3 = Web3(Web3.HTTPProvider(hardhat.url))
    nonce = w3.eth.get_transaction_count(deployer.address)
    result = deploy_registries(w3, deployer, members=[member.address], organisation="Acme")
    assert result.chain_id == 31337
    assert result.deployer == deployer.address
    expected = registry_addresses(bytes.fromhex(deployer.address[2:]), nonce)
    assert result.contracts == {name: to_checksum_address(a) for name, a in expected.items()}
    assert_bootstrapped(w3, result, deployer.address, [member.address])


def test_deploy_with_legacy_gas_prices_on_a_chain_without_base_fee():
    with HardhatNode(hardfork="berlin") as berlin:
        w3 = Web3(Web3.HTTPProvider(berlin.url))
        assert "baseFeePerGas" not in w3.eth.get_block("latest")
        deployer, member = berlin.accounts[0], berlin.accounts[1]
        result = deploy_registries(w3, deployer, members=[member.address])
        assert_bootstrapped(w3, result, deployer.address, [member.address])
        for tx_hash in result.tx_hashes:
            assert w3.eth.get_transaction(tx_hash)["type"] == 0


def test_a_second_deployment_is_a_new_independent_set(hardhat):
    deployer = hardhat.accounts[2]
    first = deploy_registries(hardhat.url, deployer)
    second = deploy_registries(hardhat.url, deployer)
    assert set(first.contracts.values()).isdisjoint(second.contracts.values())


def test_a_reverting_step_is_named_and_decoded_before_it_is_sent(hardhat):
    deployer = hardhat.accounts[3]
    w3 = Web3(Web3.HTTPProvider(hardhat.url))
    nonce = w3.eth.get_transaction_count(deployer.address)
    with pytest.raises(DeployRevertError) as caught:
        deploy_registries(hardhat.url, deployer, voting_period=60)
    assert caught.value.step == "deploy Consortium"
    assert "ConsortiumInvalidVotingPeriod(votingPeriod=60)" in str(caught.value)
    assert w3.eth.get_transaction_count(deployer.address) == nonce  # nothing was sent


def test_a_deployer_without_funds_is_refused(hardhat):
    with pytest.raises(DeployError, match="has no funds on chain 31337"):
        deploy_registries(hardhat.url, Account.from_key(b"\x09" * 32))


def test_an_unreachable_node_is_a_connection_error(unused_url):
    with pytest.raises(DeployConnectionError, match="Connection refused"):
        deploy_registries(unused_url, MEMBER, timeout=5)


@pytest.fixture
def unused_url():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_the_plan_refuses_repeated_members_and_the_deployer():
    with pytest.raises(ValidationError, match="listed twice"):
        deployment_plan(VALIDATOR, [MEMBER.address, MEMBER.address.lower()])
    with pytest.raises(ValidationError, match="is the deployer"):
        deployment_plan(VALIDATOR, [VALIDATOR])
    with pytest.raises(ValidationError, match="20-byte address"):
        deployment_plan(VALIDATOR, ["0x1234"])


def test_decode_revert_names_custom_errors_strings_and_panics():
    consortium_errors = {e["name"] for e in load("Consortium").abi if e["type"] == "error"}
    assert "ConsortiumAlreadyMember" in consortium_errors
    selector = function_signature_to_4byte_selector("ConsortiumAlreadyMember(address)")
    data = selector + encode(["address"], ["0x" + "ab" * 20])
    assert decode_revert(data) == f"ConsortiumAlreadyMember(account={to_checksum_address('0x' + 'ab' * 20)})"
    error_string = function_signature_to_4byte_selector("Error(string)") + encode(["string"], ["nope"])
    assert decode_revert(error_string) == "Error('nope')"
    panic = function_signature_to_4byte_selector("Panic(uint256)") + encode(["uint256"], [0x11])
    assert decode_revert(panic) == "Panic(0x11)"
    assert decode_revert(b"") == "reverted without data"
    assert decode_revert(b"\xde\xad\xbe\xef") == "reverted with data 0xdeadbeef"
