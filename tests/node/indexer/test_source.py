"""ChainSource against the real ledger over JSON-RPC, and against endpoints that misbehave."""
# ruff: noqa: SIM117  (a ChainSource and its expected refusal read better as two blocks)

import itertools
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from idfuse_node.exceptions import ChainSourceError
from idfuse_node.indexer.source import ChainSource, LogAnswers
from idfuse_node.rpc import RpcServer
from idfuse_sdk.encoding import HandleValue
from tests.node.devchain import CHAIN_ID
from tests.node.indexer.chainfixture import registry_chain, running_chain  # noqa: F401

FAST = {"retries": 3, "backoff": 0.001, "max_backoff": 0.01, "timeout": 5.0}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_chain_facts_headers_and_transactions(registry_chain):  # noqa: F811
    chain = registry_chain
    top = chain.allocate("88")
    tx_hash = chain.create(top, "x", [HandleValue(index=1, type="URL", data=b"u")])
    with ChainSource(chain.url, batch_size=2, **FAST) as source:
        assert source.chain_id() == CHAIN_ID
        head = source.head_number()
        assert head == chain.ledger.head().block_number
        assert source.finalized_number() == head
        headers = source.headers(0, head)
        assert [h.number for h in headers] == list(range(head + 1))
        for before, after in itertools.pairwise(headers):
            assert after.parent_hash == before.hash
        assert headers[-1].hash == bytes(chain.ledger.head().hash)
        with pytest.raises(ChainSourceError, match="not found"):
            source.headers(head, head + 1)
        tx = source.transactions([tx_hash])[tx_hash]
        assert tx.to == chain.address_of("IdentifierRegistry")
        assert tx.input[:4].hex() == "20e0b9d1" or len(tx.input) > 4
        assert tx.block_number is not None
        with pytest.raises(ChainSourceError, match="not found"):
            source.transactions([b"\x01" * 32])


def test_logs_split_ranges_the_endpoint_refuses(tmp_path):
    with running_chain(tmp_path) as chain:
        top = chain.allocate("88")
        for i in range(4):
            chain.create(top, f"s{i}", [HandleValue(index=1, type="URL", data=b"u")])
        chain.register_child("88", "c1")
        chain.register_child("88", "c2")
        # whole-history logs: more than 3 in several blocks (bootstrap block alone has 3)
        chain.context.max_log_results = 3
        with ChainSource(chain.url, max_range=64, grow_after=1, **FAST) as source:
            head = source.head_number()
            logs = source.logs(2, head, chain.contracts.values())
            assert source.range_size < 64
            chain.context.max_log_results = 10_000
            with ChainSource(chain.url, **FAST) as whole:
                expected = whole.logs(2, head, chain.contracts.values())
            assert logs == expected
            assert len(logs) >= 7
            ranges = list(source.ranges(0, head))
            assert ranges[0][0] == 0
            assert ranges[-1][1] == head
            assert all(b - a + 1 <= source.range_size for a, b in ranges)


def test_a_single_block_over_the_limit_is_an_error(tmp_path):
    with running_chain(tmp_path, max_log_results=1) as chain, ChainSource(chain.url, **FAST) as source:
        with pytest.raises(ChainSourceError, match=r"eth_getLogs.*-32005"):
            source.logs(1, 1, chain.contracts.values())


def test_nothing_listening_gives_up_after_the_retries():
    source = ChainSource(f"http://127.0.0.1:{_free_port()}", **FAST)
    with pytest.raises(ChainSourceError, match=r"eth_chainId.*4 attempts"):
        source.chain_id()
    source.close()


def test_an_endpoint_that_comes_back_is_followed(registry_chain):  # noqa: F811
    chain = registry_chain
    port = chain.server.port
    chain.server.stop()
    restarted = {}

    def restart():
        server = RpcServer(chain.context, port=port)
        server.start()
        restarted["server"] = server

    timer = threading.Timer(0.3, restart)
    timer.start()
    try:
        with ChainSource(f"http://127.0.0.1:{port}", retries=20, backoff=0.05, max_backoff=0.2) as source:
            assert source.chain_id() == CHAIN_ID
    finally:
        timer.join()
        if "server" in restarted:
            restarted["server"].stop()
        chain.server = RpcServer(chain.context)  # the fixture stops it; a fresh one is harmless
        chain.server.start()


class _Canned(BaseHTTPRequestHandler):
    replies: list  # (status, body bytes), one per request, the last repeated

    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        request = json.loads(self.rfile.read(length))
        status, body = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if callable(body):
            body = body(request)
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def canned():
    servers = []

    def serve(*replies):
        handler = type("Handler", (_Canned,), {"replies": list(replies)})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def _reply(result):
    return lambda request: json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": result}).encode()


def _error(code, message):
    return lambda request: json.dumps(
        {"jsonrpc": "2.0", "id": request["id"], "error": {"code": code, "message": message}}
    ).encode()


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        ((200, b"not json"), "not JSON"),
        ((200, b"[1, 2"), "not JSON"),
        ((200, _reply(12)), "hex quantity"),
        ((200, _reply("0xzz")), "hex quantity"),
        ((200, _reply(None)), "hex quantity"),
        ((200, b'{"jsonrpc": "2.0", "id": 999, "result": "0x1"}'), "id"),
        ((200, b'{"id": 1, "result": "0x1"}'), "JSON-RPC 2.0"),
        ((200, _error(-32601, "the method eth_chainId does not exist")), "-32601"),
        ((404, b"nope"), "HTTP 404"),
    ],
)
def test_malformed_answers_are_chain_source_errors(canned, reply, match):
    with ChainSource(canned(reply), **FAST) as source, pytest.raises(ChainSourceError, match=match):
        source.chain_id()


@pytest.mark.parametrize(
    ("block", "match"),
    [
        ({"number": "0x1", "hash": "0x12", "parentHash": "0x" + "00" * 32, "timestamp": "0x1"}, "32 bytes"),
        ({"number": "0x1", "hash": "0x" + "11" * 32, "timestamp": "0x1"}, "parentHash"),
        ("block", "must be an object"),
        (
            {"number": "0x2", "hash": "0x" + "11" * 32, "parentHash": "0x" + "00" * 32, "timestamp": "0x1"},
            "got block 2",
        ),
    ],
)
def test_malformed_headers(canned, block, match):
    url = canned(
        (
            200,
            lambda batch: json.dumps(
                [{"jsonrpc": "2.0", "id": c["id"], "result": block} for c in batch]
            ).encode(),
        )
    )
    with ChainSource(url, **FAST) as source, pytest.raises(ChainSourceError, match=match):
        source.headers(1, 1)


def test_malformed_logs(canned):
    log = {
        "address": "0x" + "11" * 19,
        "topics": [],
        "data": "0x",
        "blockNumber": "0x1",
        "blockHash": "0x" + "22" * 32,
        "transactionHash": "0x" + "33" * 32,
        "transactionIndex": "0x0",
        "logIndex": "0x0",
    }
    with ChainSource(canned((200, _reply([log]))), **FAST) as source:
        with pytest.raises(ChainSourceError, match="20 bytes"):
            source.logs(1, 1, ["0x" + "11" * 20])
    log["address"] = "0x" + "11" * 20
    log["blockNumber"] = "0x5"
    with ChainSource(canned((200, _reply([log]))), **FAST) as source:
        with pytest.raises(ChainSourceError, match="outside"):
            source.logs(1, 1, ["0x" + "11" * 20])


def test_transient_failures_are_retried(canned):
    url = canned((503, b"busy"), (200, _error(-32603, "internal")), (200, _reply("0x539")))
    with ChainSource(url, **FAST) as source:
        assert source.chain_id() == 1337
    url = canned((503, b"busy"))
    with ChainSource(url, **FAST) as source:
        with pytest.raises(ChainSourceError, match=r"HTTP 503.*4 attempts"):
            source.chain_id()


def test_finalized_unsupported_is_none(canned):
    with ChainSource(canned((200, _error(-32602, "invalid block tag finalized"))), **FAST) as source:
        assert source.finalized_number() is None
    with ChainSource(canned((200, _reply(None))), **FAST) as source:
        assert source.finalized_number() is None


def test_transactions_with_looks_ahead_over_raw_logs_and_passes_over_malformed_ones():
    registry, other = "0x" + "ab" * 20, "0x" + "cd" * 20
    topic, another = b"\x01" * 32, b"\x02" * 32

    def log(address, first, tx):
        return {"address": address, "topics": ["0x" + first.hex(), "0x" + "00" * 32], "transactionHash": tx}

    tx_a, tx_b, tx_c = ("0x" + byte * 32 for byte in ("a1", "b2", "c3"))
    answers = LogAnswers(
        frozenset(),
        (
            (1, 2, [log(registry, topic, tx_a), log(registry, another, tx_c), log(other, topic, tx_c)]),
            (
                3,
                4,
                [
                    log(registry.upper().replace("0X", "0x"), topic, tx_b.upper().replace("0X", "0x")),
                    log(registry, topic, tx_a),  # a second batch of the same transaction
                    {"address": registry, "topics": [], "transactionHash": tx_c},
                    {"address": registry, "topics": ["0x" + topic.hex()]},
                    {"address": registry, "topics": ["0x" + topic.hex()], "transactionHash": "0xzz"},
                    {"address": None, "topics": ["0x" + topic.hex()], "transactionHash": tx_c},
                    "not a log",
                ],
            ),
        ),
    )
    assert answers.transactions_with(registry, topic) == [bytes.fromhex(tx_a[2:]), bytes.fromhex(tx_b[2:])]
    assert answers.transactions_with(registry, b"\x03" * 32) == []
