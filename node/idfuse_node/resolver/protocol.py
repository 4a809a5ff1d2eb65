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

``limit_concurrency`` (``max_connections``) is uvicorn's own: past it, uvicorn answers 503
``Service Unavailable`` in plain text; the protocol counts those refusals in ``/metrics``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from idfuse_node.jsonbytes import dumps
from idfuse_node.resolver.codes import RC_PROTOCOL_ERROR
from idfuse_node.resolver.settings import ResolverSettings


def _ignore(reason: str) -> None:
    pass


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` refusing request heads over the limits (see the module)."""

    max_header_bytes: ClassVar[int] = 16384
    max_headers: ClassVar[int] = 100
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
            body = dumps({"responseCode": RC_PROTOCOL_ERROR, "message": message})
            self.transport.write(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\nconnection: close\r\n\r\n" + body
            )
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
        limit = self.limit_concurrency
        if limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit):
            type(self).on_reject("concurrency")
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
            "on_reject": staticmethod(on_reject),
        },
    )
    return {"http": protocol, "limit_concurrency": settings.max_connections}
