"""The ledger's JSON-RPC endpoint fuzzed by schemathesis from its OpenAPI document (made from the
method table; the one ``GET /openapi.json`` serves): a served ledger with a transaction pool on
127.0.0.1. Every answer: no server error, JSON (unless 204), conforming to the document, never
an internal error (-32603); and the chain, its state and the pool stay as they were.

The document is loaded at import (``from_fixture`` fails under pytest 9: it reads
``request.node._nodeid``); each case is sent to the served node with ``case.call(base_url=...)``."""

from __future__ import annotations

import json

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from idfuse_node.ledger.txpool import TxPool
from idfuse_node.rpc import RpcContext, RpcServer
from idfuse_node.rpc.context import CLIENT_VERSION
from idfuse_node.rpc.dispatch import MAX_BATCH
from idfuse_node.rpc.methods import all_methods, all_params
from idfuse_node.rpc.openapi import document
from tests.longrun import long_run
from tests.node.devchain import SENDER

EXAMPLES = long_run(150, 2000)


@pytest.fixture(scope="module")
def served(chain):
    """The package's ledger (three blocks: a contract, a member, a transfer) served again, with a
    pool that nothing gets into."""
    pool = TxPool(chain.ledger, None)
    server = RpcServer(RpcContext(chain.ledger, pool))
    server.start()
    try:
        yield chain.ledger, pool, server.url
    finally:
        server.stop()


DOCUMENT = document(all_methods(), all_params(), version=CLIENT_VERSION, max_batch=MAX_BATCH)
schema = schemathesis.openapi.from_dict(DOCUMENT)


def strict_json(content: bytes) -> object:
    """``content`` parsed as JSON proper: NaN and Infinity, which Python reads, are refused."""

    def refuse(name: str) -> object:
        raise AssertionError(f"{name} in a response: not JSON")

    return json.loads(content, parse_constant=refuse)


def responses_of(body: object) -> list[dict]:
    """The response objects of a 200 answer (one, or one per call of a batch)."""
    return body if isinstance(body, list) else [body]  # type: ignore[list-item]


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_rpc_conforms_and_changes_nothing(served, case):
    ledger, pool, url = served
    head, balance = ledger.head(), ledger.state().get_balance(SENDER)
    response = case.call(base_url=url)
    assert response.status_code < 500, response.text
    if response.status_code != 204:
        body = strict_json(response.content)
        if response.status_code == 200:
            for reply in responses_of(body):
                error = reply.get("error") if isinstance(reply, dict) else None
                assert error is None or error["code"] != -32603, (case.body, reply)
    # A schema-valid request may still be refused with a JSON-RPC error (a block count over
    # 1,024 in hex, a raw transaction that does not decode), and a JSON-RPC server answers an
    # invalid one with an error object in a 200, not with a 4xx.
    case.validate_response(response, excluded_checks=[positive_data_acceptance, negative_data_rejection])
    assert ledger.head() == head
    assert ledger.state().get_balance(SENDER) == balance
    assert len(pool) == 0


def test_every_served_method_has_its_params_declared():
    assert set(all_params()) == set(all_methods())


def test_the_served_document_is_the_fuzzed_one_and_names_every_method(served):
    _, _, url = served
    served_document = httpx.get(f"{url}/openapi.json").json()
    assert served_document == DOCUMENT
    requests = served_document["components"]["schemas"]["Request"]["anyOf"]
    named = {entry["$ref"].removeprefix("#/components/schemas/Request.") for entry in requests}
    assert named == set(all_methods())
    balance = served_document["components"]["schemas"]["Request.eth_getBalance"]["properties"]["params"]
    assert balance["minItems"] == 1
    assert balance["maxItems"] == 2
    assert [item["title"] for item in balance["prefixItems"]] == ["address", "block"]


def test_another_path_or_http_method_is_answered_with_a_json_rpc_error(served):
    """Found by schemathesis: 404 and 405 were plain text ("Method Not Allowed")."""
    _, _, url = served
    for response, status in ((httpx.get(url), 405), (httpx.post(f"{url}/rpc", json={}), 404)):
        assert response.status_code == status
        assert response.headers["content-type"] == "application/json"
        reply = response.json()
        assert reply["jsonrpc"] == "2.0"
        assert reply["error"]["code"] == -32600
        assert "POST /" in reply["error"]["message"]
    assert httpx.put(url).headers["allow"] == "POST"


def post(url: str, content: bytes) -> httpx.Response:
    return httpx.post(url, content=content, headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"jsonrpc": "2.0", "id": NaN, "method": "eth_chainId"}', -32700),
        (b'{"jsonrpc": "2.0", "id": Infinity, "method": "eth_chainId"}', -32700),
        (b'[{"jsonrpc": "2.0", "id": -Infinity, "method": "eth_chainId"}]', -32700),
        (b'{"jsonrpc": "2.0", "id": 1e400, "method": "eth_chainId"}', -32600),
        (b'{"jsonrpc": "2.0", "id": -1e400, "method": "eth_chainId"}', -32600),
    ],
)
def test_non_finite_ids_are_refused_not_echoed(served, body, code):
    """Python's json reads NaN and Infinity (and 1e400 as inf); echoed in ``id``, they made a
    response no JSON parser reads."""
    _, _, url = served
    response = post(url, body)
    assert response.status_code == 200
    reply = strict_json(response.content)
    assert reply["id"] is None
    assert reply["error"]["code"] == code


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("eth_getBlockByNumber", ["0x1_0", False]),
        ("eth_getBlockByNumber", ["0x-1", False]),
        ("eth_getBalance", ["0x" + "ab " * 19 + "ab", "latest"]),
        ("eth_getBlockByHash", ["0x" + "ab" * 31 + " a", False]),
        ("eth_getStorageAt", ["0x" + "00" * 20, "0x_1"]),
        ("eth_sendRawTransaction", ["0xab cd"]),
        ("eth_sendRawTransaction", ["0xab cd ef"]),  # even length: the spaces show as missing bytes
        ("eth_call", [{"to": "0x" + "00" * 20, "value": "0x+1"}]),
    ],
)
def test_hex_parameters_take_hex_digits_only(served, method, params):
    """``int(digits, 16)`` reads ``1_0`` as 16 and ``bytes.fromhex`` skips spaces: such values
    were accepted though the document's patterns refuse them."""
    _, _, url = served
    reply = httpx.post(url, json={"jsonrpc": "2.0", "id": 7, "method": method, "params": params}).json()
    assert reply["error"]["code"] == -32602, reply
    assert "hex digits" in reply["error"]["message"]


def test_a_huge_bad_parameter_is_not_echoed_whole(served):
    _, _, url = served
    bad = "0x" + "ab" * 200_000 + "zz"
    reply = httpx.post(
        url, json={"jsonrpc": "2.0", "id": 7, "method": "eth_sendRawTransaction", "params": [bad]}
    ).json()
    assert reply["error"]["code"] == -32602
    assert "hex digits" in reply["error"]["message"]
    assert len(reply["error"]["message"]) < 200
