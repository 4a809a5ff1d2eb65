"""JSON-RPC framing and error codes over raw HTTP: every failure is a JSON-RPC error, never a 500."""

import json

import httpx
import pytest

from idfuse_node.rpc.dispatch import MAX_BODY_BYTES, MAX_DEPTH


def post(chain, payload, **kwargs):
    if isinstance(payload, (dict, list)):
        response = httpx.post(chain.url, json=payload, **kwargs)
    else:
        response = httpx.post(chain.url, content=payload, **kwargs)
    assert response.status_code < 500
    return response


def rpc(chain, method, params=None, request_id=1):
    body = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        body["params"] = params
    return post(chain, body).json()


def error_of(reply):
    assert "result" not in reply, reply
    return reply["error"]["code"], reply["error"]["message"]


def test_single_call_echoes_its_id(chain):
    assert rpc(chain, "eth_chainId", [], request_id="abc") == {
        "jsonrpc": "2.0",
        "id": "abc",
        "result": "0x539",
    }
    assert rpc(chain, "eth_blockNumber")["result"] == "0x3"


@pytest.mark.parametrize(
    "request_id",
    [2**64, -(2**70), 10**30, 1.5, 1e300, -0.0, "名前", "\u2028", 0],
)
def test_any_json_id_is_echoed_exactly(chain, request_id):
    """Responses are written by orjson, which stops at 64-bit integers: larger ids fall back
    to the standard library, and floats and non-ASCII strings come back as sent."""
    body = b'{"jsonrpc":"2.0","id":%s,"method":"eth_chainId"}' % json.dumps(request_id).encode()
    reply = post(chain, body)
    assert reply.json() == {"jsonrpc": "2.0", "id": request_id, "result": "0x539"}


def test_malformed_json_is_a_parse_error(chain):
    reply = post(chain, b'{"jsonrpc": "2.0", "method": ').json()
    assert reply["id"] is None
    assert error_of(reply)[0] == -32700


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "empty batch"),
        (b"42", "JSON object"),
        ({"jsonrpc": "1.0", "id": 1, "method": "eth_chainId"}, "jsonrpc"),
        ({"jsonrpc": "2.0", "id": 1, "method": 5}, "method"),
        ({"jsonrpc": "2.0", "id": [1], "method": "eth_chainId"}, "id"),
    ],
)
def test_invalid_requests(chain, payload, message):
    code, text = error_of(post(chain, payload).json())
    assert code == -32600
    assert message in text


def test_unknown_method(chain):
    assert error_of(rpc(chain, "eth_mine")) == (-32601, "the method eth_mine does not exist/is not available")


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        ("eth_getBalance", ["0x1234", "latest"], "address must be 20 bytes"),
        ("eth_getBalance", ["nothex", "latest"], "0x-prefixed"),
        ("eth_getBalance", ["0x" + "11" * 20, "newest"], "block must be a block number or one of"),
        ("eth_getBalance", ["0x" + "11" * 20, "0x01"], "leading zeros"),
        ("eth_getBalance", [], "expected 1 to 2 params"),
        ("eth_getBalance", {"address": "0x"}, "params must be an array"),
        ("eth_getBlockByNumber", ["latest", "yes"], "fullTransactions must be true or false"),
        ("eth_getBlockByHash", ["0x12", False], "blockHash must be 32 bytes"),
        ("eth_getStorageAt", ["0x" + "11" * 20, "0x" + "1" * 65, "latest"], "1 to 64 hex digits"),
        ("eth_call", [{"to": "0x" + "11" * 20, "gass": "0x1"}, "latest"], "unknown fields: gass"),
        ("eth_call", [{"to": "0x" + "11" * 20, "data": "0x123"}, "latest"], "even number"),
        ("eth_call", [{"to": "0x" + "11" * 20, "gas": "0xffffffffffff"}], "above the block gas limit"),
        ("eth_getLogs", [{"fromBlock": "0x0", "toBlock": "0x2710"}], "at most 10000"),
        ("eth_getLogs", [{"fromBlock": "0x2", "toBlock": "0x1"}], "after toBlock"),
        ("eth_getLogs", [{"topics": "0x00"}], "topics must be an array"),
        ("eth_getLogs", [{"blockHash": "0x" + "00" * 32, "fromBlock": "0x0"}], "not both"),
        ("eth_getProof", ["0x" + "11" * 20, "0x00", "latest"], "storageKeys must be an array"),
        ("eth_feeHistory", ["0x0", "latest", []], "blockCount must be 1 to 1024"),
        ("eth_feeHistory", ["0x1", "latest", [50, 10]], "ascending"),
        ("eth_sendRawTransaction", ["0xzz"], "hex digits"),
    ],
)
def test_invalid_params(chain, method, params, message):
    code, text = error_of(rpc(chain, method, params))
    assert code == -32602
    assert message in text


def test_a_missing_block_is_a_server_error_or_null(chain):
    assert error_of(rpc(chain, "eth_getBalance", ["0x" + "11" * 20, "0x64"])) == (-32000, "header not found")
    assert rpc(chain, "eth_getBlockByNumber", ["0x64", False])["result"] is None
    assert rpc(chain, "eth_getBlockByHash", ["0x" + "ab" * 32, False])["result"] is None
    assert rpc(chain, "eth_getTransactionByHash", ["0x" + "ab" * 32])["result"] is None
    assert rpc(chain, "eth_getTransactionReceipt", ["0x" + "ab" * 32])["result"] is None


def test_revert_is_code_3_with_the_revert_data(chain):
    from eth_abi import encode
    from eth_utils import keccak

    from tests.node.rpc.conftest import CONTRACT, MEMBER, STRANGER

    data = keccak(b"bootstrapAddMember(address,string,uint8)")[:4] + encode(
        ["address", "string", "uint8"], [MEMBER, "x", 1]
    )
    call = {"from": "0x" + STRANGER.hex(), "to": "0x" + CONTRACT.hex(), "data": "0x" + data.hex()}
    expected = (
        "0x" + (keccak(b"ConsortiumNotBootstrapAdmin(address)")[:4] + encode(["address"], [STRANGER])).hex()
    )
    for method in ("eth_call", "eth_estimateGas"):
        reply = rpc(chain, method, [call, "latest"])
        assert reply["error"] == {"code": 3, "message": "execution reverted", "data": expected}


def test_send_raw_transaction_without_a_pool_is_a_server_error(chain):
    code, text = error_of(rpc(chain, "eth_sendRawTransaction", ["0x02"]))
    assert code == -32000
    assert "no transaction pool" in text


def test_batch_answers_each_call_and_skips_notifications(chain):
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"},
        {"jsonrpc": "2.0", "method": "eth_chainId"},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_nope"},
        {"jsonrpc": "2.0", "id": 3, "method": "eth_getBalance", "params": ["0x12"]},
        7,
    ]
    replies = post(chain, batch).json()
    assert [r["id"] for r in replies] == [1, 2, 3, None]
    assert replies[0]["result"] == "0x539"
    assert [r["error"]["code"] for r in replies[1:]] == [-32601, -32602, -32600]


def test_notifications_only_get_no_body(chain):
    response = post(chain, {"jsonrpc": "2.0", "method": "eth_chainId"})
    assert response.status_code == 204
    assert response.content == b""


def test_oversize_body_is_refused_with_a_json_rpc_error(chain):
    body = b'{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "pad": "' + b"a" * MAX_BODY_BYTES + b'"}'
    response = post(chain, body)
    assert response.status_code == 413
    code, text = error_of(response.json())
    assert code == -32600
    assert "larger than 8388608 bytes" in text


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 900, 5000])
def test_deep_nesting_is_refused_alike_at_any_depth(chain, depth):
    # One answer whatever the stack of the thread that parses: 900 levels parse in some
    # threads and not in others, 5000 in none; either way the request is refused as too deep.
    for body in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth):
        reply = post(chain, body).json()
        assert isinstance(reply, dict), reply
        code, text = error_of(reply)
        assert code == -32600, reply
        assert f"at most {MAX_DEPTH}" in text or f"more than {MAX_DEPTH}" in text
        assert reply["id"] is None


def test_nesting_at_the_limit_is_a_request(chain):
    params = [{"x": 1}]
    for _ in range(MAX_DEPTH - 3):
        params = [params]
    code, text = error_of(rpc(chain, "eth_chainId", params))
    assert code == -32602  # too many parameters: the body was read and the call ran
    nested = [{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}]
    assert post(chain, nested).json()[0]["result"] == "0x539"
    reply = post(
        chain,
        b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":'
        + b"[" * MAX_DEPTH
        + b"]" * MAX_DEPTH
        + b"}",
    ).json()
    code, text = error_of(reply)
    assert (code, text) == (-32600, f"request nests {MAX_DEPTH + 1} levels deep, at most {MAX_DEPTH}")


def test_get_is_not_allowed(chain):
    assert httpx.get(chain.url).status_code == 405


def test_the_served_method_set():
    from idfuse_node.rpc.methods import all_methods

    assert sorted(all_methods()) == sorted(
        [
            "web3_clientVersion",
            "net_version",
            "eth_chainId",
            "eth_blockNumber",
            "eth_syncing",
            "eth_getBalance",
            "eth_getTransactionCount",
            "eth_getCode",
            "eth_getStorageAt",
            "eth_call",
            "eth_estimateGas",
            "eth_gasPrice",
            "eth_maxPriorityFeePerGas",
            "eth_feeHistory",
            "eth_sendRawTransaction",
            "eth_getTransactionByHash",
            "eth_getTransactionReceipt",
            "eth_getBlockByNumber",
            "eth_getBlockByHash",
            "eth_getBlockTransactionCountByNumber",
            "eth_getBlockTransactionCountByHash",
            "eth_getLogs",
            "eth_getProof",
            "qbft_getValidatorsByBlockNumber",
            "qbft_getPendingVotes",
        ]
    )
