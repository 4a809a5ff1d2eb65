"""Any params to any method: a result or a deliberate error, never an internal error (-32603); any
body over HTTP: never a 5xx, always a well-formed JSON-RPC answer, and the chain does not change."""

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idfuse_node.ledger.chain import Ledger
from idfuse_node.ledger.txpool import TxPool
from idfuse_node.rpc import Dispatcher, RpcContext, RpcServer
from idfuse_node.rpc.methods import all_methods
from tests.node.devchain import GENESIS, SENDER, SENDER_KEY, VALIDATOR, VALIDATOR_KEY, raw_tx
from tests.node.rpc.conftest import CONTRACT, STRANGER

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
    st.floats(allow_nan=False, allow_infinity=False),
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


# --- over real HTTP: arbitrary bodies to a served node with a transaction pool ------------------

ERROR_CODES = {-32700, -32600, -32601, -32602, -32603, 3, *range(-32099, -31999)}
REFUSED_TXS = [
    raw_tx(SENDER_KEY, 0, to=STRANGER),  # a sender outside the allowlist
    raw_tx(VALIDATOR_KEY, 0, to=STRANGER, chain_id=1),  # another chain
    raw_tx(VALIDATOR_KEY, 0, to=STRANGER, gas=20_000),  # below the intrinsic gas
    raw_tx(VALIDATOR_KEY, 0, to=STRANGER)[:-5],  # truncated
    b"\x02" + bytes(200),
]
RAW = st.sampled_from(["0x" + tx.hex() for tx in REFUSED_TXS])
IDS = st.one_of(
    st.integers(-(2**200), 2**200),
    st.text(max_size=8),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)
JUNK = st.recursive(
    SCALAR | RAW,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
)
REQUEST = st.fixed_dictionaries(
    {},
    optional={
        "jsonrpc": st.sampled_from(["2.0", "2.0", "2.0", "1.0", "2", 2.0, None]),
        "id": IDS,
        "method": st.sampled_from(sorted(all_methods())) | st.text(max_size=12) | JUNK,
        "params": st.one_of(st.lists(VALUE | RAW, max_size=4), VALUE, JUNK),
        "extra": JUNK,
    },
)
JSON_BODY = st.one_of(
    REQUEST,
    st.lists(REQUEST | JUNK, max_size=5),
    JUNK,
    st.builds(
        lambda raw: {"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": [raw]}, RAW
    ),
).map(lambda body: json.dumps(body).encode())
BODY = st.one_of(
    JSON_BODY,
    JSON_BODY.flatmap(lambda body: st.integers(0, max(len(body) - 1, 0)).map(lambda cut: body[:cut])),
    st.binary(max_size=64),
    st.integers(1, 200_000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.just(b'{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"' + b"\xff\xfe}"),
)


@pytest.fixture(scope="module")
def pooled(tmp_path_factory):
    """A served ledger whose pool admits only the validator; nothing ever builds a block."""
    ledger = Ledger.open(tmp_path_factory.mktemp("fuzz-ledger"), GENESIS, VALIDATOR_KEY)
    pool = TxPool(ledger, None)
    server = RpcServer(RpcContext(ledger, pool))
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            yield ledger, pool, client
    finally:
        server.stop()
        ledger.close()


def check_reply(reply: object, request: object) -> None:
    """``reply`` is a well-formed JSON-RPC response: a result, or an error in the spec's ranges."""
    assert isinstance(reply, dict), reply
    assert reply.get("jsonrpc") == "2.0", reply
    assert ("result" in reply) != ("error" in reply), reply
    if "error" in reply:
        error = reply["error"]
        assert set(error) <= {"code", "message", "data"}, error
        assert error["code"] in ERROR_CODES, error
        assert error["code"] != -32603, error
        assert isinstance(error["message"], str), error
        assert error["message"], error
    request_id = request.get("id") if isinstance(request, dict) else None
    well_formed = isinstance(request, dict) and request.get("jsonrpc") == "2.0"
    if well_formed and isinstance(request_id, str | int | float) and not isinstance(request_id, bool):
        assert reply["id"] == request_id, (reply, request_id)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODY)
def test_any_body_over_http_gets_a_json_rpc_answer_and_changes_nothing(pooled, body):
    ledger, pool, client = pooled
    head, balance = ledger.head(), ledger.state().get_balance(SENDER)
    response = client.post("/", content=body, headers={"content-type": "application/json"})
    assert response.status_code in (200, 204), (response.status_code, response.text)
    try:
        request = json.loads(body)
    except (ValueError, RecursionError):
        request = None
    if response.status_code == 204:
        assert response.content == b""
    else:
        reply = response.json()
        if isinstance(reply, list):
            assert isinstance(request, list)
            assert 0 < len(reply) <= len(request)
            for item in reply:
                check_reply(item, None)
        else:
            check_reply(reply, request)
    assert ledger.head() == head
    assert ledger.state().get_balance(SENDER) == balance
    assert len(pool) == 0
    assert pool.pending_nonce(VALIDATOR) == 0
