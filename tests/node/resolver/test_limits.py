"""Per-client rate limiting and request-size limits, exactly with a fake clock and over real HTTP
(127.0.0.1, ephemeral ports; a second client address is 127.0.0.2, or ``X-Forwarded-For`` from
a trusted proxy)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

import httpx
import pytest
import typer

from idfuse_node.cli.limits import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_RATE_LIMIT,
    limit_settings,
    parse_rate_limit,
)
from idfuse_node.datadir import DataDir
from idfuse_node.indexer.reader import IndexReader
from idfuse_node.indexer.store import LevelDBIndexStore, MemoryIndexStore
from idfuse_node.resolver import ResolverServer, ResolverSettings, create_app
from idfuse_node.resolver.codes import RC_PROTOCOL_ERROR, RC_SERVER_TOO_BUSY
from idfuse_node.resolver.limits import RateLimiter, forwarded_client
from tests.e2e.processes import IdfuseProcess, run_idfuse
from tests.node.resolver.indexdata import Built, populate
from tests.waiting import eventually


class FakeClock:
    """Seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def serve(clock: FakeClock, **settings: object) -> tuple[ResolverServer, Built]:
    store = MemoryIndexStore()
    built = populate(store)
    app = create_app(IndexReader(store), settings=ResolverSettings(**settings))  # type: ignore[arg-type]
    assert app.limits.limiter is not None
    app.limits.limiter.clock = clock
    server = ResolverServer(app)
    server.start()
    return server, built


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limited(clock: FakeClock) -> Iterator[tuple[ResolverServer, Built]]:
    server, built = serve(clock, rate_limit=2.0, rate_burst=5, trusted_proxies=frozenset({"127.0.0.1"}))
    yield server, built
    server.stop()


def a_handle(built: Built) -> str:
    return next(iter(built.handles))


def rejections(http: httpx.Client, reason: str) -> int:
    text = http.get("/metrics").text
    line = f'idfuse_resolver_rejections_total{{reason="{reason}"}} '
    return next((int(row[len(line) :]) for row in text.splitlines() if row.startswith(line)), 0)


# -- the token bucket, exactly ---------------------------------------------------------------


def test_bucket_allows_the_burst_then_refuses_until_a_token_is_back(clock: FakeClock) -> None:
    limiter = RateLimiter(4.0, 3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(0.25)
    assert limiter.take("b") == 0.0  # another client has its own bucket
    clock.now += 0.25
    assert limiter.take("a") == 0.0
    assert limiter.take("a") == pytest.approx(0.25)
    clock.now += 100  # refills to the burst, no further
    assert [limiter.take("a") for _ in range(4)][-1] == pytest.approx(0.25)


def test_buckets_are_bounded_and_the_least_recently_seen_go_first(clock: FakeClock) -> None:
    limiter = RateLimiter(1.0, 1, max_clients=3, clock=clock)
    for client in ("a", "b", "c"):
        limiter.take(client)
    assert limiter.take("a") > 0  # a is now the most recent; b the least
    for n in range(1000):
        limiter.take(f"flood{n}")
        assert len(limiter) <= 3
    limiter = RateLimiter(1.0, 1, max_clients=3, clock=clock)
    for client in ("a", "b", "c"):
        limiter.take(client)
    limiter.take("a")
    limiter.take("d")  # evicts b, keeps a (refused, still empty)
    assert limiter.take("a") > 0
    assert limiter.take("b") == 0.0


def test_limiter_refuses_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0, 1)
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(1, 0)


@pytest.mark.parametrize(
    ("header", "client"),
    [
        ("10.0.0.1", "10.0.0.1"),
        ("10.0.0.9, 10.0.0.1", "10.0.0.1"),  # the right-most entry the trusted proxy added
        ("10.0.0.9, 10.0.0.1, 127.0.0.1", "10.0.0.1"),  # trusted proxies are skipped
        ("127.0.0.1", "127.0.0.1"),  # only proxies: the left-most
        ("10.0.0.1, junk", "127.0.0.1"),  # a malformed entry: nothing to its left is trusted
        ("", "127.0.0.1"),
        (" 2001:DB8::1 ", "2001:db8::1"),
    ],
)
def test_forwarded_client(header: str, client: str) -> None:
    assert forwarded_client("127.0.0.1", header, frozenset({"127.0.0.1"})) == client


# -- over real HTTP --------------------------------------------------------------------------


def test_a_client_over_its_rate_gets_429_while_another_is_served(
    limited: tuple[ResolverServer, Built], clock: FakeClock
) -> None:
    server, built = limited
    path = f"/api/handles/{a_handle(built)}"
    other = httpx.HTTPTransport(local_address="127.0.0.2")
    with (
        httpx.Client(base_url=server.url, timeout=10) as http,
        httpx.Client(base_url=server.url, timeout=10, transport=other) as second,
    ):
        assert [http.get(path).status_code for _ in range(5)] == [200] * 5
        refused = http.get(path)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/json"
        assert refused.headers["retry-after"] == "1"  # 0.5 s rounded up to whole seconds
        assert refused.json()["responseCode"] == RC_SERVER_TOO_BUSY
        assert "too many requests" in refused.json()["message"]
        assert http.get("/v1/checkpoint").status_code == 429  # every route, not only the fast path
        assert http.put(path, content=b"{}").status_code == 429
        assert second.get(path).status_code == 200  # 127.0.0.2 has its own bucket
        assert http.get("/health").status_code == 200  # exempt
        assert rejections(http, "rate_limited") == 3
        clock.now += 0.5  # one token back
        assert http.get(path).status_code == 200
        assert http.get(path).status_code == 429


def test_forwarded_for_is_the_client_only_from_a_trusted_proxy(limited: tuple[ResolverServer, Built]) -> None:
    server, built = limited
    path = f"/api/handles/{a_handle(built)}"
    untrusted = httpx.HTTPTransport(local_address="127.0.0.2")
    with (
        httpx.Client(base_url=server.url, timeout=10) as proxy,
        httpx.Client(base_url=server.url, timeout=10, transport=untrusted) as direct,
    ):
        first = [proxy.get(path, headers={"x-forwarded-for": "10.0.0.1"}).status_code for _ in range(6)]
        assert first == [200] * 5 + [429]
        assert proxy.get(path, headers={"x-forwarded-for": "10.0.0.2"}).status_code == 200
        # 127.0.0.2 is no trusted proxy: its header is ignored, it is limited as itself
        spoofed = [direct.get(path, headers={"x-forwarded-for": f"10.1.0.{n}"}).status_code for n in range(6)]
        assert spoofed == [200] * 5 + [429]


def test_a_flood_never_gets_a_server_error_and_the_buckets_stay_bounded(clock: FakeClock) -> None:
    server, built = serve(
        clock, rate_limit=1.0, rate_burst=20, rate_limit_clients=64, trusted_proxies=frozenset({"127.0.0.1"})
    )
    handles = list(built.handles)
    paths = [f"/api/handles/{handle}" for handle in handles] + ["/v1/checkpoint", "/api/prefixes"]
    limiter = server.app.limits.limiter
    assert limiter is not None

    def worker(worker_id: int) -> list[int]:
        statuses = []
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for n in range(400):
                # one hot client, and a stream of addresses seen once (more than the table holds)
                forwarded = "10.9.9.9" if n % 2 else f"10.{worker_id}.{n // 256}.{n % 256}"
                answer = http.get(paths[n % len(paths)], headers={"x-forwarded-for": forwarded})
                statuses.append(answer.status_code)
        return statuses

    try:
        with ThreadPoolExecutor(8) as pool:
            statuses = [status for part in pool.map(worker, range(8)) for status in part]
        assert len(statuses) == 3200
        assert all(status < 500 for status in statuses), sorted(set(statuses))
        assert statuses.count(429) >= 1600 - 20  # the hot client got its burst, no more (clock frozen)
        assert len(limiter) <= 64
        with httpx.Client(base_url=server.url, timeout=10) as http:
            hot = {"x-forwarded-for": "10.9.9.9"}
            assert http.get(paths[0], headers=hot).status_code == 429
            clock.now += 1.0  # the window passes: one request a second again
            assert http.get(paths[0], headers=hot).status_code == 200
            assert rejections(http, "rate_limited") == statuses.count(429) + 1
    finally:
        server.stop()


# -- request sizes ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sized() -> Iterator[ResolverServer]:
    store = MemoryIndexStore()
    populate(store)
    settings = ResolverSettings(max_body_bytes=1000, max_header_bytes=4096, max_headers=20, rate_limit=None)
    server = ResolverServer(create_app(IndexReader(store), settings=settings))
    server.start()
    yield server
    server.stop()


def exchange(server: ResolverServer, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """Send ``head`` (and ``body``) on a raw connection; the status and everything read until
    the server closes (a reset after the answer is the server refusing to read more)."""
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        with suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head + body)
        received = b""
        with suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                received += chunk
    assert received.startswith(b"HTTP/1.1 "), received[:200]
    return int(received[9:12]), received


def test_an_oversized_body_gets_413_before_it_is_sent(sized: ResolverServer) -> None:
    with httpx.Client(base_url=sized.url, timeout=10) as http:
        before = rejections(http, "body_too_large")
    head = b"PUT /api/handles/20.500/x HTTP/1.1\r\nhost: a\r\ncontent-length: 1000000000\r\n\r\n"
    # Only the head is sent: the answer comes without the server waiting for the gigabyte.
    status, received = exchange(sized, head, b"x" * 100)
    assert status == 413
    assert b"connection: close" in received.lower()
    document = httpx.Response(200, content=received.partition(b"\r\n\r\n")[2]).json()
    assert document["responseCode"] == RC_PROTOCOL_ERROR
    assert "1000 bytes" in document["message"]
    with httpx.Client(base_url=sized.url, timeout=10) as http:
        assert rejections(http, "body_too_large") == before + 1
        assert http.put("/api/handles/20.500/x", content=b"x" * 1000).status_code == 405  # at the limit
        assert http.post("/api/handles/20.500/x", content=b"x" * 1001).status_code == 413


def test_a_body_of_unknown_length_gets_411(sized: ResolverServer) -> None:
    head = b"POST /api/handles/20.500/x HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n"
    status, received = exchange(sized, head, b"5\r\nhello\r\n")
    assert status == 411
    assert b'"responseCode":4' in received.replace(b" ", b"")


def test_oversized_targets_and_heads_are_refused(sized: ResolverServer) -> None:
    with httpx.Client(base_url=sized.url, timeout=10) as http:
        before = rejections(http, "head_too_large")
        long_target = http.get("/api/handles/20.500/" + "a" * 2100)
        assert long_target.status_code == 400
        assert long_target.json()["responseCode"] == RC_PROTOCOL_ERROR
        assert http.get("/api/handles/20.500/x?" + "&".join(["a=1"] * 33)).status_code == 400
        assert rejections(http, "url_too_long") == 1
        assert rejections(http, "malformed_target") == 1
    status, received = exchange(sized, b"GET /api/handles/" + b"a" * 5000 + b" HTTP/1.1\r\nhost: a\r\n\r\n")
    assert (status, b"connection: close" in received) == (431, True)
    status, _ = exchange(sized, b"GET /health HTTP/1.1\r\nhost: a\r\nx-big: " + b"b" * 5000 + b"\r\n\r\n")
    assert status == 431
    many = b"".join(b"x-%d: 1\r\n" % n for n in range(21))
    status, received = exchange(sized, b"GET /health HTTP/1.1\r\nhost: a\r\n" + many + b"\r\n")
    assert status == 431
    assert b"at most 20 header fields" in received
    with httpx.Client(base_url=sized.url, timeout=10) as http:
        assert rejections(http, "head_too_large") == before + 3
        assert http.get("/health", headers={f"x-{n}": "1" for n in range(15)}).status_code == 200


def test_a_head_that_never_ends_is_cut_off(sized: ResolverServer) -> None:
    """Header bytes streamed without end: the server answers 431 and closes once past the limit
    instead of buffering them (the client's writes then fail)."""
    refused = False
    received = b""
    with socket.create_connection((sized.host, sized.port), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nhost: a\r\nx-endless: ")
        try:
            for _ in range(10_000):  # up to 40 MB
                sock.sendall(b"c" * 4096)
        except (BrokenPipeError, ConnectionResetError):
            refused = True
        with suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                received += chunk
    assert refused
    assert received == b"" or received.startswith(b"HTTP/1.1 431")


def test_a_request_httptools_cannot_parse_gets_a_json_400(sized: ResolverServer) -> None:
    with httpx.Client(base_url=sized.url, timeout=10) as http:
        before = rejections(http, "malformed_request")
    status, received = exchange(sized, b"GET /health HTTP/1.1\r\nho st: a\r\n\r\n")
    assert status == 400
    assert b"content-type: application/json" in received.lower()
    document = httpx.Response(200, content=received.partition(b"\r\n\r\n")[2]).json()
    assert document == {"responseCode": RC_PROTOCOL_ERROR, "message": "malformed HTTP request"}
    with httpx.Client(base_url=sized.url, timeout=10) as http:
        assert rejections(http, "malformed_request") == before + 1


def test_connections_past_the_cap_get_503() -> None:
    store = MemoryIndexStore()
    populate(store)
    server = ResolverServer(create_app(IndexReader(store), settings=ResolverSettings(max_connections=3)))
    server.start()
    try:
        sockets = [socket.create_connection((server.host, server.port), timeout=10) for _ in range(3)]
        try:
            # uvicorn counts open connections: with 3 open (the cap), a request is refused (asked on
            # the last one: the server accepts in order, so the others are in its table by then)
            status, received = exchange_on(sockets[-1], b"GET /v1/checkpoint HTTP/1.1\r\nhost: a\r\n\r\n")
            assert status == 503
            assert b"connection: close" in received.lower()
            document = httpx.Response(200, content=received.partition(b"\r\n\r\n")[2]).json()
            assert document["responseCode"] == RC_SERVER_TOO_BUSY
            assert "too many open connections" in document["message"]
        finally:
            for sock in sockets:
                sock.close()
        with httpx.Client(base_url=server.url, timeout=10) as http:

            def metrics() -> httpx.Response | None:
                answer = http.get("/metrics")
                return answer if answer.status_code == 200 else None

            # the closed sockets leave the server's table asynchronously
            answer = eventually(
                metrics, "/metrics answered once the sockets closed", timeout=10, interval=0.05
            )
            assert 'idfuse_resolver_rejections_total{reason="concurrency"}' in answer.text
    finally:
        server.stop()


def exchange_on(sock: socket.socket, request: bytes) -> tuple[int, bytes]:
    sock.sendall(request)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return int(received[9:12]), received


# -- the CLI options -------------------------------------------------------------------------


def test_cli_defaults_are_the_settings_defaults() -> None:
    assert limit_settings(DEFAULT_RATE_LIMIT, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONNECTIONS, None) == (
        ResolverSettings()
    )


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("1000:2000", (1000.0, 2000)), ("50", (50.0, 100)), ("0.5", (0.5, 1)), ("OFF", (None, 1))],
)
def test_rate_limit_option(text: str, parsed: tuple[float | None, int]) -> None:
    assert parse_rate_limit(text) == parsed


@pytest.mark.parametrize("text", ["", "fast", "0", "-1:5", "10:0", "10:x", "inf"])
def test_rate_limit_option_refuses_nonsense(text: str) -> None:
    with pytest.raises(typer.BadParameter, match=f"^--rate-limit {text!r}"):
        parse_rate_limit(text)


def test_trusted_proxy_must_be_an_address() -> None:
    settings = limit_settings("off", 10, 0, ["::1", "10.0.0.1"])
    assert settings.trusted_proxies == frozenset({"::1", "10.0.0.1"})
    assert (settings.rate_limit, settings.max_connections) == (None, None)
    with pytest.raises(typer.BadParameter, match="not an IP address"):
        limit_settings("off", 10, 0, ["proxy.example"])


def test_idfuse_resolver_applies_its_limit_options(tmp_path: Path) -> None:
    root = tmp_path / "node"
    root.mkdir(mode=0o700)
    with LevelDBIndexStore(DataDir(root).index_db) as store:
        built = populate(store)
    args = ["resolver", "--data-dir", str(root), "--port", "0", "--rate-limit", "0.01:3"]
    process = IdfuseProcess([*args, "--max-body-bytes", "10"], root / "endpoints.json", tmp_path, "resolver")
    try:
        url = process.wait_ready("resolver_url")["resolver_url"]
        with httpx.Client(base_url=url, timeout=10) as http:
            path = f"/api/handles/{a_handle(built)}"
            assert http.put(path, content=b"x" * 11).status_code == 413
            assert [http.get(path).status_code for _ in range(3)] == [
                200,
                200,
                429,
            ]  # burst 3, the PUT took 1
            assert 90 <= int(http.get(path).headers["retry-after"]) <= 100  # a token in 100 s
    finally:
        process.kill()
    result = run_idfuse("resolver", "--data-dir", str(root), "--rate-limit", "fast")
    assert result.returncode == 2
    assert "--rate-limit 'fast' is not RATE[:BURST]" in " ".join(result.stderr.split())
