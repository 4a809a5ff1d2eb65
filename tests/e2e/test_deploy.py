"""`idfuse deploy` as a user runs it: the console script in a subprocess against a Hardhat node,
then the deployment put to work with web3.py (a prefix allocated, an identifier registered)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from eth_abi import decode, encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3

from idfuse_node.datadir import read_endpoints
from idfuse_sdk.encoding import HandleValue, commitment, encode_values
from idfuse_sdk.identifiers import handle_key, prefix_node
from idfuse_sdk.keystore import create_keystore
from tests.e2e.processes import run_idfuse
from tests.hardhat import CHAIN_ID, hardhat_node_fixture

hardhat = hardhat_node_fixture(scope="module")

KEY_ENV = "IDFUSE_TEST_DEPLOYER_KEY"
PASSWORD = "correct horse battery staple"


def idfuse_deploy(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    return run_idfuse("deploy", *args, env=env, unset=[KEY_ENV], timeout=120, cwd=cwd)


def calldata(signature, types, args):
    return function_signature_to_4byte_selector(signature) + encode(list(types), list(args))


def call(w3, to, signature, types=(), args=(), returns=("bool",)):
    return decode(list(returns), w3.eth.call({"to": to, "data": calldata(signature, types, args)}))[0]


def transact(w3, account, to, data):
    tx = {
        "chainId": CHAIN_ID,
        "nonce": w3.eth.get_transaction_count(account.address),
        "to": to,
        "data": data,
        "value": 0,
        "gas": 1_000_000,
        "maxFeePerGas": 10**11,
        "maxPriorityFeePerGas": 10**9,
        "type": 2,
    }
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    assert receipt["status"] == 1
    return receipt


def assert_one_line_error(result, *secrets: str) -> str:
    assert result.returncode == 1, result
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for secret in secrets:
        assert secret.lower().removeprefix("0x") not in (result.stdout + result.stderr).lower()
    return lines[0]


def test_deploy_with_a_key_from_the_environment_then_register_an_identifier(hardhat, tmp_path):
    deployer, member, stranger = hardhat.accounts[0], hardhat.accounts[1], hardhat.accounts[4]
    out = tmp_path / "endpoints.json"
    result = idfuse_deploy(
        "--rpc",
        hardhat.url,
        "--key-env",
        KEY_ENV,
        "--member",
        member.address,
        "--organisation",
        "Acme Industrial",
        "--out",
        str(out),
        env={KEY_ENV: hardhat.keys[0]},
    )
    assert result.returncode == 0, result.stderr
    assert hardhat.keys[0][2:] not in result.stdout + result.stderr
    endpoints = read_endpoints(out)
    assert endpoints["rpc_url"] == hardhat.url
    assert endpoints["chain_id"] == CHAIN_ID
    contracts = endpoints["contracts"]
    assert set(contracts) == {"Consortium", "PrefixRegistry", "IdentifierRegistry"}
    for name, address in contracts.items():
        assert f"{name:20} {address}" in result.stdout
    assert deployer.address in result.stdout

    w3 = Web3(Web3.HTTPProvider(hardhat.url))
    consortium = contracts["Consortium"]
    assert call(w3, consortium, "bootstrapAdmin()", returns=("address",)) == deployer.address.lower()
    assert call(w3, consortium, "registry()", returns=("address",)) == contracts["PrefixRegistry"].lower()
    assert call(w3, consortium, "isAllowedSender(address)", ["address"], [member.address])
    assert not call(w3, consortium, "isAllowedSender(address)", ["address"], [stranger.address])

    # The deployment works: the bootstrap admin allocates "88" to the member, who registers 88/abc.
    transact(
        w3,
        deployer,
        consortium,
        calldata(
            "bootstrapAllocatePrefix(string,address,uint64)",
            ["string", "address", "uint64"],
            ["88", member.address, 0],
        ),
    )
    node = prefix_node("88")
    values = encode_values([HandleValue(index=1, type="URL", data=b"https://example.org/a")])
    receipt = transact(
        w3,
        member,
        contracts["IdentifierRegistry"],
        calldata(
            "createIdentifier(bytes32,string,bytes32,bytes)",
            ["bytes32", "string", "bytes32", "bytes"],
            [node, "abc", bytes(32), values],
        ),
    )
    assert receipt["logs"]
    stored = call(
        w3,
        contracts["IdentifierRegistry"],
        "commitmentOf(bytes32)",
        ["bytes32"],
        [handle_key(node, "abc")],
        returns=("bytes32",),
    )
    assert stored == commitment(bytes(32), values)


def test_deploy_with_a_keystore_prints_json_and_refuses_to_deploy_twice(hardhat, tmp_path):
    keystore = tmp_path / "deployer.json"
    password_file = tmp_path / "password"
    address = create_keystore(keystore, PASSWORD, hardhat.keys[2], kdf="pbkdf2", iterations=2)
    password_file.write_text(PASSWORD + "\n")
    args = (
        "--rpc",
        hardhat.url,
        "--keystore",
        str(keystore),
        "--password-file",
        str(password_file),
        "--json",
    )
    result = idfuse_deploy(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert document["deployer"] == address
    assert document["chain_id"] == CHAIN_ID
    assert [step["step"] for step in document["transactions"]] == [
        "deploy Consortium",
        "deploy PrefixRegistry",
        "deploy IdentifierRegistry",
        "bindRegistry",
    ]
    endpoints = read_endpoints(tmp_path / "endpoints.json")  # the default --out, in the cwd
    assert endpoints["contracts"] == document["contracts"]
    w3 = Web3(Web3.HTTPProvider(hardhat.url))
    for contract in document["contracts"].values():
        assert w3.eth.get_code(contract)

    again = idfuse_deploy(*args, cwd=tmp_path)
    assert "already names contracts" in assert_one_line_error(again, PASSWORD)
    forced = idfuse_deploy(*args, "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    replaced = json.loads(forced.stdout)["contracts"]
    assert set(replaced.values()).isdisjoint(document["contracts"].values())
    assert read_endpoints(tmp_path / "endpoints.json")["contracts"] == replaced


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_rpc_is_one_line(hardhat, tmp_path):
    url = f"http://127.0.0.1:{_unused_port()}"
    result = idfuse_deploy(
        "--rpc", url, "--key-env", KEY_ENV, "--out", str(tmp_path / "e.json"), env={KEY_ENV: hardhat.keys[0]}
    )
    line = assert_one_line_error(result, hardhat.keys[0])
    assert f"cannot reach a JSON-RPC node at {url}: Connection refused" in line
    assert not (tmp_path / "e.json").exists()


def test_a_missing_environment_variable_is_one_line(hardhat, tmp_path):
    result = idfuse_deploy("--rpc", hardhat.url, "--key-env", KEY_ENV, "--out", str(tmp_path / "e.json"))
    assert f"environment variable {KEY_ENV} is not set" in assert_one_line_error(result)


def test_a_malformed_key_is_one_line_and_not_echoed(hardhat, tmp_path):
    bad = "0x" + "zz" * 32
    result = idfuse_deploy(
        "--rpc", hardhat.url, "--key-env", KEY_ENV, "--out", str(tmp_path / "e.json"), env={KEY_ENV: bad}
    )
    assert "is not a private key" in assert_one_line_error(result, bad)


def test_a_wrong_password_is_one_line(hardhat, tmp_path):
    keystore = tmp_path / "deployer.json"
    create_keystore(keystore, PASSWORD, hardhat.keys[3], kdf="pbkdf2", iterations=2)
    wrong = tmp_path / "wrong"
    wrong.write_text("not the password\n")
    result = idfuse_deploy(
        "--rpc",
        hardhat.url,
        "--keystore",
        str(keystore),
        "--password-file",
        str(wrong),
        "--out",
        str(tmp_path / "e"),
    )
    line = assert_one_line_error(result, PASSWORD, "not the password", hardhat.keys[3])
    assert f"wrong password for keystore {keystore}" in line


def test_a_deployer_without_funds_is_one_line(hardhat, tmp_path):
    key = "0x" + "09" * 32
    result = idfuse_deploy(
        "--rpc", hardhat.url, "--key-env", KEY_ENV, "--out", str(tmp_path / "e.json"), env={KEY_ENV: key}
    )
    address = Account.from_key(key).address
    assert f"deployer {address} has no funds on chain {CHAIN_ID}" in assert_one_line_error(result, key)


def test_a_revert_is_one_line_naming_the_step_and_the_error(hardhat, tmp_path):
    result = idfuse_deploy(
        "--rpc",
        hardhat.url,
        "--key-env",
        KEY_ENV,
        "--voting-period",
        "60",
        "--out",
        str(tmp_path / "e.json"),
        env={KEY_ENV: hardhat.keys[3]},
    )
    line = assert_one_line_error(result, hardhat.keys[3])
    assert line == (
        "error: step 1 of 4 (deploy Consortium) would revert: ConsortiumInvalidVotingPeriod(votingPeriod=60)"
    )
    assert not (tmp_path / "e.json").exists()


def test_no_key_at_all_is_one_line(hardhat, tmp_path):
    result = idfuse_deploy("--rpc", hardhat.url, "--out", str(tmp_path / "e.json"))
    assert "no deployer key" in assert_one_line_error(result)


def test_help_names_every_option():
    result = run_idfuse("deploy", "--help")
    assert result.returncode == 0
    for option in ("--rpc", "--keystore", "--password-file", "--key-env", "--member", "--organisation"):
        assert option in result.stdout
    for option in ("--voting-period", "--out", "--json", "--force"):
        assert option in result.stdout
