"""registered_keys (and so bulk_register's skip list) leaves out a batch relayed by another
contract, as the index does: its records are not in the transaction's input."""

from idfuse_sdk.client import IdfuseClient
from idfuse_sdk.encoding import BatchRecord, HandleValue, encode_batch
from idfuse_sdk.identifiers import handle_key
from tests.node.indexer.chainfixture import OWNER, registry_chain  # noqa: F401
from tests.node.indexer.relay import REGISTER_BATCH, register_relayed

V1 = HandleValue(index=1, type="URL", data=b"https://example.org/r")


def test_registered_keys_leave_out_a_relayed_batch(registry_chain):  # noqa: F811
    chain = registry_chain
    top = chain.allocate("88")
    register_relayed(chain, top, [BatchRecord("r1", (V1,)), BatchRecord("r2", (V1,))])
    direct = encode_batch(top, [BatchRecord("d1", (V1,))])
    chain.transact(OWNER, "IdentifierRegistry", REGISTER_BATCH, ["bytes32", "bytes"], [top, direct])

    contracts = {name: chain.address_of(name) for name in chain.contracts}
    with IdfuseClient(chain.url, contracts=contracts) as client:
        assert client._run(client.flow_registered_keys("88")) == {handle_key("88", "d1")}
