"""registered_keys (and so bulk_register's skip list) leaves out a batch relayed by another
contract, as the index does: its records are not in the transaction's input."""

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from idfuse_sdk.client import IdfuseClient
from idfuse_sdk.deploy import create_address
from idfuse_sdk.encoding import BatchRecord, HandleValue, encode_batch
from idfuse_sdk.identifiers import handle_key
from tests.node.devchain import address
from tests.node.indexer.chainfixture import OWNER, registry_chain  # noqa: F401
from tests.node.indexer.test_relayed_batch import _relay_init_code

V1 = HandleValue(index=1, type="URL", data=b"https://example.org/r")
REGISTER_BATCH = "registerBatch(bytes32,bytes)"


def test_registered_keys_leave_out_a_relayed_batch(registry_chain):  # noqa: F811
    chain = registry_chain
    top = chain.allocate("88")
    registry = chain.contracts["IdentifierRegistry"]
    nonce = chain.pool.pending_nonce(address(OWNER))
    chain.send_raw(OWNER, b"", _relay_init_code(registry), gas=500_000)
    relay = create_address(address(OWNER), nonce)
    chain.prefix_call(
        OWNER, "setOperator(bytes32,address,bool)", ["bytes32", "address", "bool"], [top, relay, True]
    )
    relayed = encode_batch(top, [BatchRecord("r1", (V1,)), BatchRecord("r2", (V1,))])
    chain.send_raw(
        OWNER,
        relay,
        function_signature_to_4byte_selector(REGISTER_BATCH) + encode(["bytes32", "bytes"], [top, relayed]),
    )
    direct = encode_batch(top, [BatchRecord("d1", (V1,))])
    chain.transact(OWNER, "IdentifierRegistry", REGISTER_BATCH, ["bytes32", "bytes"], [top, direct])

    contracts = {name: chain.address_of(name) for name in chain.contracts}
    with IdfuseClient(chain.url, contracts=contracts) as client:
        assert client._run(client.flow_registered_keys("88")) == {handle_key("88", "d1")}
