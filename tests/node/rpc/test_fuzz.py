"""Any params to any method: a result or a deliberate error, never an internal error (-32603)."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idfuse_node.rpc import Dispatcher, RpcContext
from idfuse_node.rpc.methods import all_methods
from tests.node.devchain import SENDER
from tests.node.rpc.conftest import CONTRACT

HEX = st.sampled_from(
    [
        "0x",
        "0x0",
        "0x1",
        "0x2",
        "0x01",
        "0xzz",
        "0x" + "f" * 70,
        "0x" + CONTRACT.hex(),
        "0x" + SENDER.hex(),
        "0x" + "ab" * 32,
        "0x" + "00" * 32,
        "latest",
        "earliest",
        "pending",
        "safe",
        "finalized",
        "0xfffffffffffffff",
    ]
)
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    HEX,
    st.text(max_size=5),
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "from",
                    "to",
                    "data",
                    "input",
                    "value",
                    "gas",
                    "address",
                    "topics",
                    "fromBlock",
                    "toBlock",
                    "blockHash",
                    "x",
                ]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(sorted(all_methods())), params=st.one_of(st.lists(VALUE, max_size=4), VALUE))
def test_no_params_make_an_internal_error(chain, method, params):
    dispatcher = Dispatcher(RpcContext(chain.ledger))
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    reply = json.loads(dispatcher.handle(body))
    assert "result" in reply or reply["error"]["code"] in (-32602, -32000, 3), reply
