"""Per-client rate limiting and request-body limits, as a raw-ASGI layer in front of the app.

A client is the remote IP address; behind a reverse proxy listed in the settings'
``trusted_proxies`` it is the right-most ``X-Forwarded-For`` address that is not itself a
trusted proxy (the header of any other peer is ignored: a client cannot choose its own key).
Each client has a token bucket (``rate_limit`` tokens a second, at most ``rate_burst``); the
buckets live in an LRU table of at most ``rate_limit_clients`` entries, so a flood from many
addresses cannot grow memory without bound (an evicted client starts again with a full bucket,
which is what an idle one would have had anyway). ``/health`` and ``/metrics`` are exempt.

Refusals, each JSON ``{responseCode, message}`` and counted in ``/metrics`` by reason:

- over the rate: **429**, code 3 (server too busy), ``Retry-After`` in whole seconds;
- ``Content-Length`` over ``max_body_bytes``: **413**, code 4, ``Connection: close``, sent
  before a byte of the body is read;
- a body of unknown length (``Transfer-Encoding``): **411**, code 4, ``Connection: close``
  (no route takes a body; writes go to the registry contracts).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from idfuse_node.jsonbytes import dumps
from idfuse_node.resolver.codes import RC_PROTOCOL_ERROR, RC_SERVER_TOO_BUSY
from idfuse_node.resolver.metrics import ROUTE_KEY, Metrics
from idfuse_node.resolver.settings import ResolverSettings

EXEMPT_PATHS: Final = frozenset({"/health", "/metrics"})
"""Paths the rate limit does not apply to (monitoring must see an overloaded resolver)."""


class RateLimiter:
    """Token buckets by client key, at most ``max_clients`` of them (least recently seen
    evicted first).

    :param rate: Tokens added a second (the sustained requests a second of one client).
    :param burst: The bucket's size (requests a client may send at once after a pause).
    :param clock: Seconds, monotonic; injectable for exact tests.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_clients: int = 65536,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1 or max_clients < 1:
            raise ValueError("rate must be positive, burst and max_clients at least 1")
        self.rate = float(rate)
        self.burst = float(burst)
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()

    def __len__(self) -> int:
        """How many clients have a bucket now (at most ``max_clients``)."""
        return len(self._buckets)

    def take(self, client: str) -> float:
        """Take one token from ``client``'s bucket: 0.0 when there was one, else the seconds
        until there will be one (the request is refused and nothing is taken)."""
        now = self.clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= self.max_clients:
                self._buckets.popitem(last=False)
            self._buckets[client] = [self.burst - 1.0, now]
            return 0.0
        self._buckets.move_to_end(client)
        tokens = bucket[0] + (now - bucket[1]) * self.rate
        if tokens > self.burst:
            tokens = self.burst
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0.0
        bucket[0] = tokens
        return (1.0 - tokens) / self.rate


def forwarded_client(peer: str, forwarded_for: str, trusted: frozenset[str]) -> str:
    """The client behind trusted proxies: the right-most ``X-Forwarded-For`` entry that is not
    a trusted proxy (the left-most when all are); ``peer`` when the header names no address."""
    client = peer
    for entry in reversed(forwarded_for.split(",")):
        try:
            address = str(ipaddress.ip_address(entry.strip()))
        except ValueError:
            return client  # a malformed entry: trust nothing to its left
        client = address
        if address not in trusted:
            return address
    return client


async def _refuse(
    send: Send, status: int, code: int, message: str, headers: list[tuple[bytes, bytes]]
) -> None:
    body = dumps({"responseCode": code, "message": message})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class LimitsMiddleware:
    """Refuses what is over the client's rate or the body limit before ``app`` sees it."""

    def __init__(
        self,
        app: ASGIApp,
        settings: ResolverSettings,
        metrics: Metrics,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = settings.max_body_bytes
        self.trusted = frozenset(str(ipaddress.ip_address(proxy)) for proxy in settings.trusted_proxies)
        self.limiter: RateLimiter | None = None
        """The buckets (``None`` when rate limiting is off)."""
        if settings.rate_limit:
            self.limiter = RateLimiter(
                settings.rate_limit,
                settings.rate_burst,
                max_clients=settings.rate_limit_clients,
                clock=clock,
            )

    def client_of(self, scope: Scope) -> str:
        """The key of the request's client (see the module's docstring)."""
        peer = scope.get("client")
        host = peer[0] if peer else ""
        if host in self.trusted:
            values = [
                value.decode("latin-1") for name, value in scope["headers"] if name == b"x-forwarded-for"
            ]
            if values:
                return forwarded_client(host, ",".join(values), self.trusted)
        return str(host)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limiter = self.limiter
        if limiter is not None and scope["path"] not in EXEMPT_PATHS:
            wait = limiter.take(self.client_of(scope))
            if wait:
                scope[ROUTE_KEY] = "rejected"
                self.metrics.reject("rate_limited")
                retry = str(max(1, math.ceil(wait)))
                message = f"too many requests from this client; retry after {retry} s"
                await _refuse(send, 429, RC_SERVER_TOO_BUSY, message, [(b"retry-after", retry.encode())])
                return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.max_body:
                    scope[ROUTE_KEY] = "rejected"
                    self.metrics.reject("body_too_large")
                    message = f"a request body is at most {self.max_body} bytes"
                    await _refuse(send, 413, RC_PROTOCOL_ERROR, message, [(b"connection", b"close")])
                    return
            elif name == b"transfer-encoding":
                scope[ROUTE_KEY] = "rejected"
                self.metrics.reject("body_length_unknown")
                message = "a request body needs a Content-Length (no route here takes a body)"
                await _refuse(send, 411, RC_PROTOCOL_ERROR, message, [(b"connection", b"close")])
                return
        await self.app(scope, receive, send)
