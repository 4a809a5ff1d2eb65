"""A ledger on LevelDB with a few blocks, served over HTTP by the real JSON-RPC server."""

from dataclasses import dataclass

import pytest
from eth_abi import encode
from eth_utils import keccak

from idfuse_node.ledger.chain import Ledger
from idfuse_node.rpc import RpcContext, RpcServer
from idfuse_sdk.contracts.artifacts import load
from tests.node.devchain import GENESIS, SENDER, SENDER_KEY, T0, VALIDATOR_KEY, signed_tx

MEMBER = b"\x22" * 20
STRANGER = b"\x33" * 20
CONSORTIUM = load("Consortium")
CONTRACT = keccak(b"\xd6\x94" + SENDER + b"\x80")[12:]


@dataclass
class Chain:
    ledger: Ledger
    url: str
    deploy_hash: bytes
    add_member_hash: bytes
    transfer_hash: bytes


def raw_transaction(ledger, nonce, **fields):
    """A signed EIP-1559 transaction from the sender, signed as a wallet does, decoded by py-evm."""
    return signed_tx(ledger, SENDER_KEY, nonce, **fields)


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
