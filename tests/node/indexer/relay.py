"""A batch registered through another contract (a relay): its records are not in the
transaction's input, so neither the index nor the SDK can read them from there."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from idfuse_sdk.deploy import create_address
from idfuse_sdk.encoding import BatchRecord, encode_batch
from tests.node.devchain import address
from tests.node.indexer.chainfixture import OWNER, RegistryChain

REGISTER_BATCH = "registerBatch(bytes32,bytes)"


def relay_init_code(target: bytes) -> bytes:
    """A contract that forwards its calldata to ``target`` (CALL with all gas) and reverts when
    the call does, written out in EVM bytecode."""
    runtime = (
        bytes.fromhex("36600060003760006000366000600073")  # calldatacopy(0, 0, size); push call args
        + target
        + bytes.fromhex("5af115602b57005b60006000fd")  # call(gas, target, ...); revert on failure
    )
    assert runtime.index(b"\x5b") == 0x2B
    # codecopy(0, 11, len); return(0, len): the runtime follows these 11 bytes
    return bytes([0x60, len(runtime), 0x80, 0x60, 0x0B, 0x60, 0x00, 0x39, 0x60, 0x00, 0xF3]) + runtime


def register_relayed(chain: RegistryChain, top: bytes, records: list[BatchRecord]) -> None:
    """Deploy a relay to the IdentifierRegistry, make it an operator of prefix node ``top`` and
    register ``records`` under it through the relay (OWNER sends everything)."""
    nonce = chain.pool.pending_nonce(address(OWNER))
    chain.send_raw(OWNER, b"", relay_init_code(chain.contracts["IdentifierRegistry"]), gas=500_000)
    relay = create_address(address(OWNER), nonce)
    chain.prefix_call(
        OWNER, "setOperator(bytes32,address,bool)", ["bytes32", "address", "bool"], [top, relay, True]
    )
    call = function_signature_to_4byte_selector(REGISTER_BATCH) + encode(
        ["bytes32", "bytes"], [top, encode_batch(top, records)]
    )
    chain.send_raw(OWNER, relay, call)
