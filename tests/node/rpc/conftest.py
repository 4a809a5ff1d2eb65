"""A ledger on LevelDB with a few blocks, served over HTTP by the real JSON-RPC server."""

from dataclasses import dataclass

import pytest
from eth_abi import encode
from eth_account import Account
from eth_keys import keys
from eth_utils import keccak, to_checksum_address, to_wei

from idfuse_node.ledger.chain import Ledger
from idfuse_node.ledger.genesis import GenesisConfig
from idfuse_node.rpc import RpcContext, RpcServer
from idfuse_sdk.contracts.artifacts import load

CHAIN_ID = 1337
T0 = 1_700_000_000
VALIDATOR_KEY = keys.PrivateKey(b"\x07" * 32)
VALIDATOR = VALIDATOR_KEY.public_key.to_canonical_address()
SENDER_KEY = keys.PrivateKey(b"\x01" * 32)
SENDER = SENDER_KEY.public_key.to_canonical_address()
MEMBER = b"\x22" * 20
STRANGER = b"\x33" * 20
GENESIS = GenesisConfig(
    chain_id=CHAIN_ID, validators=(VALIDATOR,), alloc={SENDER: to_wei(1000, "ether")}, timestamp=T0
)
CONSORTIUM = load("Consortium")
CONTRACT = keccak(b"\xd6\x94" + SENDER + b"\x80")[12:]


@dataclass
class Chain:
    ledger: Ledger
    url: str
    deploy_hash: bytes
    add_member_hash: bytes
    transfer_hash: bytes


def raw_transaction(ledger, nonce, *, to=None, value=0, data=b"", gas=21_000):
    """A signed EIP-1559 transaction, signed by eth-account as a wallet does, decoded by py-evm."""
    fields = {
        "type": 2,
        "chainId": CHAIN_ID,
        "nonce": nonce,
        "maxPriorityFeePerGas": 2,
        "maxFeePerGas": 10**10,
        "gas": gas,
        "value": value,
        "data": data,
    }
    if to is not None:
        fields["to"] = to_checksum_address(to)
    raw = Account.sign_transaction(fields, SENDER_KEY.to_bytes()).raw_transaction
    return ledger.chain.get_vm().get_transaction_builder().decode(bytes(raw))


@pytest.fixture(scope="package")
def chain(tmp_path_factory):
    ledger = Ledger.open(tmp_path_factory.mktemp("ledger"), GENESIS, VALIDATOR_KEY)
    init_code = bytes.fromhex(CONSORTIUM.bytecode[2:]) + encode(
        ["address", "string", "uint8", "uint64"], [SENDER, "Org", 1, 3600]
    )
    deploy = raw_transaction(ledger, 0, data=init_code, gas=5_000_000)
    ledger.build_block([deploy], timestamp=T0 + 1)
    add = keccak(b"bootstrapAddMember(address,string,uint8)")[:4] + encode(
        ["address", "string", "uint8"], [MEMBER, "Member org", 1]
    )
    add_member = raw_transaction(ledger, 1, to=CONTRACT, data=add, gas=1_000_000)
    transfer = raw_transaction(ledger, 2, to=STRANGER, value=5)
    ledger.build_block([add_member, transfer], timestamp=T0 + 2)
    ledger.build_block([], timestamp=T0 + 3)
    server = RpcServer(RpcContext(ledger))
    server.start()
    try:
        yield Chain(ledger, server.url, deploy.hash, add_member.hash, transfer.hash)
    finally:
        server.stop()
        ledger.close()
