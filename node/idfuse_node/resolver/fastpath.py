"""A thin raw-ASGI layer in front of FastAPI for the hot path, ``GET /api/handles/{handle}``.

Resolution is answered here straight from :class:`~idfuse_node.resolver.handle_api.HandleAPI`
(no routing, no dependency injection, no pydantic per request); every other request, and
every other method, falls through to the FastAPI app, which documents this route too. The
layer also checks what every request must pass at the edge: the request target's size, the
number of query parameters, and that the path percent-decodes (once) to UTF-8.
"""

from __future__ import annotations

from typing import Final

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from idfuse_node.exceptions import IdfuseNodeError
from idfuse_node.resolver.answers import Answer, error_answer
from idfuse_node.resolver.errors import ResolverHTTPError, index_unreadable
from idfuse_node.resolver.handle_api import HANDLES_PATH, HandleAPI
from idfuse_node.resolver.inbound import check_target_size, parse_query, percent_decode
from idfuse_node.resolver.metrics import ROUTE_KEY, Metrics
from idfuse_node.resolver.settings import ResolverSettings

ROUTE: Final = "/api/handles/{handle}"
_PREFIX: Final = HANDLES_PATH.encode("ascii")


async def send_answer(send: Send, answer: Answer, *, head: bool = False) -> None:
    """Send an :class:`Answer` as one response."""
    headers = [
        (b"content-type", answer.media_type.encode("latin-1")),
        (b"content-length", str(len(answer.body)).encode("ascii")),
    ]
    headers += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in answer.headers.items()]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else answer.body})


class FastPath:
    """Answers ``GET /api/handles/{handle}`` itself; passes everything else to ``app``."""

    def __init__(
        self, app: ASGIApp, handles: HandleAPI, settings: ResolverSettings, metrics: Metrics | None = None
    ) -> None:
        self.app = app
        self.handles = handles
        self.settings = settings
        self.metrics = metrics or Metrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = scope.get("raw_path")
        query_string: bytes = scope.get("query_string", b"")
        path = raw if isinstance(raw, bytes) else None
        reason = "url_too_long"
        try:
            if path is not None:
                check_target_size(path, query_string, self.settings)
                reason = "malformed_target"
                percent_decode(path, "the path")
            reason = "malformed_target"
            parse_query(query_string, self.settings)
        except ResolverHTTPError as error:
            scope[ROUTE_KEY] = "rejected"
            self.metrics.reject(reason)
            await send_answer(send, error_answer(error, ""))
            return
        if (
            path is not None
            and scope["method"] == "GET"
            and path.startswith(_PREFIX)
            and len(path) > len(_PREFIX)
        ):
            scope[ROUTE_KEY] = ROUTE
            try:
                answer = await self.handles.get_handle(
                    path[len(_PREFIX) :], "", path.decode("latin-1"), query_string, Headers(scope=scope)
                )
            except IdfuseNodeError as error:  # what FastAPI's handler does for the other routes
                answer = error_answer(index_unreadable(error), "")
            await send_answer(send, answer)
            return
        await self.app(scope, receive, send)
