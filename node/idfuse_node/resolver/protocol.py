"""uvicorn's httptools protocol with a bound on the request head, and the uvicorn options of
the resolver's limits.

httptools keeps a request line and header fields in memory, however long, until the head is
complete; uvicorn sets no limit on it (its ``h11_max_incomplete_event_size`` applies to h11
only). :class:`LimitedHttpToolsProtocol` counts the bytes of every read that a head spans from
start to end (the parser holds them, half a header field, until the field ends) and, once a head
is complete, its request line and header fields (skipped when the whole head came in one read
shorter than the limit: the common case costs two comparisons): past ``max_header_bytes`` or
``max_headers`` it answers **431** (JSON, code 4), closes the connection and stops reading.
Neither count exceeds the head's real size (no false refusals); a head held in memory is at most
the limit plus two reads (a read is at most 256 KiB).

The protocol also bounds connections in place of uvicorn's ``limit_concurrency``, with uvicorn's
rule: a request arriving while ``max_connections`` connections are open or requests running gets
**503** (JSON, code 3, server too busy) and ``Connection: close``; and it answers a request
httptools cannot parse with **400** (JSON, code 4) instead of uvicorn's plain text. Every
refusal is counted in ``/metrics`` by reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from idfuse_node.jsonbytes import dumps
from idfuse_node.resolver.codes import RC_PROTOCOL_ERROR, RC_SERVER_TOO_BUSY
from idfuse_node.resolver.settings import ResolverSettings


def _ignore(reason: str) -> None:
    pass


def _json(code: int, message: str) -> tuple[bytes, bytes]:
    """A refusal's body and its ``content-length`` value."""
    body = dumps({"responseCode": code, "message": message})
    return body, str(len(body)).encode("ascii")


_BUSY_BODY, _BUSY_LENGTH = _json(
    RC_SERVER_TOO_BUSY, "the resolver has too many open connections; retry shortly"
)


async def _server_busy(scope: Scope, receive: Receive, send: Send) -> None:
    """The app a request past the connection cap gets (uvicorn's ``service_unavailable``, in JSON)."""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", _BUSY_LENGTH),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": _BUSY_BODY})


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` refusing request heads over the limits (see the module)."""

    max_header_bytes: ClassVar[int] = 16384
    max_headers: ClassVar[int] = 100
    max_connections: ClassVar[int | None] = None
    on_reject: ClassVar[Callable[[str], None]] = staticmethod(_ignore)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading_head = False
        self._began = False
        self._read = 0
        self._spanned = 0
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        continuing = self._reading_head
        self._began = False
        self._read = len(data)
        HttpToolsProtocol.data_received(self, data)
        if continuing and self._reading_head and not self._began and not self._refused:
            # the head began before this read and is still incomplete: every byte is the head's
            self._spanned += len(data)
            if self._spanned > self.max_header_bytes:
                self._refuse(f"the request line and headers are longer than {self.max_header_bytes} bytes")

    def _refuse(self, message: str) -> None:
        self._refused = True
        type(self).on_reject("head_too_large")
        if self.cycle is None or self.cycle.response_complete:
            self._write_refusal(b"431 Request Header Fields Too Large", message)
        self.transport.close()

    def _write_refusal(self, status: bytes, message: str) -> None:
        body, length = _json(RC_PROTOCOL_ERROR, message)
        self.transport.write(
            b"HTTP/1.1 "
            + status
            + b"\r\ncontent-type: application/json\r\ncontent-length: "
            + length
            + b"\r\nconnection: close\r\n\r\n"
            + body
        )

    def send_400_response(self, msg: str) -> None:
        """A request httptools cannot parse: 400 in JSON (uvicorn's is plain text)."""
        type(self).on_reject("malformed_request")
        self._write_refusal(b"400 Bad Request", "malformed HTTP request")
        self.transport.close()

    def on_message_begin(self) -> None:
        if self._refused:
            return
        self._reading_head = self._began = True
        self._spanned = 0
        HttpToolsProtocol.on_message_begin(self)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        self._reading_head = False
        if len(self.headers) > self.max_headers:
            self._refuse(f"a request has at most {self.max_headers} header fields")
            return
        if not self._began or self._read > self.max_header_bytes:
            # the head may be longer than the limit: count it (a head within one short read is not)
            size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
            if size > self.max_header_bytes:
                self._refuse(f"the request line and headers are longer than {self.max_header_bytes} bytes")
                return
        limit = self.max_connections
        if limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit):
            type(self).on_reject("concurrency")
            # uvicorn starts (or queues) ``self.app`` for the request: make that the refusal
            app, self.app = self.app, _server_busy
            try:
                HttpToolsProtocol.on_headers_complete(self)
            finally:
                self.app = app
            return
        HttpToolsProtocol.on_headers_complete(self)

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            HttpToolsProtocol.on_body(self, body)

    def on_message_complete(self) -> None:
        if not self._refused:
            HttpToolsProtocol.on_message_complete(self)


def uvicorn_options(settings: ResolverSettings, on_reject: Callable[[str], None]) -> dict[str, Any]:
    """The ``uvicorn.Config`` options that apply the settings' head and connection limits;
    ``on_reject(reason)`` counts each refusal."""
    protocol = type(
        "LimitedHttpToolsProtocol",
        (LimitedHttpToolsProtocol,),
        {
            "max_header_bytes": settings.max_header_bytes,
            "max_headers": settings.max_headers,
            "max_connections": settings.max_connections,
            "on_reject": staticmethod(on_reject),
        },
    )
    return {"http": protocol}
