"""``create_app``: the resolver as one ASGI app over an :class:`IndexReader`.

Layers, outermost first: metrics (every request timed and counted) → limits (per-client rate,
request body size: :mod:`~idfuse_node.resolver.limits`) → the fast path (edge checks, and
``GET /api/handles/{handle}``) → FastAPI (every other route, the OpenAPI
document, and the mapping of refusals to JSON in one place below).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from idfuse_node.exceptions import IdfuseNodeError
from idfuse_node.indexer.reader import IndexReader
from idfuse_node.resolver.answers import Answer, error_answer
from idfuse_node.resolver.codes import (
    RC_HANDLE_NOT_FOUND,
    RC_INVALID_HANDLE,
    RC_OPERATION_NOT_SUPPORTED,
    RC_PROTOCOL_ERROR,
)
from idfuse_node.resolver.errors import ResolverHTTPError, index_unreadable
from idfuse_node.resolver.fastpath import FastPath
from idfuse_node.resolver.handle_api import HandleAPI, target
from idfuse_node.resolver.limits import LimitsMiddleware
from idfuse_node.resolver.lookup import Lookup
from idfuse_node.resolver.metrics import Metrics, MetricsMiddleware
from idfuse_node.resolver.referral import Follower
from idfuse_node.resolver.routes import handles, ops, v1
from idfuse_node.resolver.routes.common import ResolverState, raw_path, respond
from idfuse_node.resolver.settings import ResolverSettings
from idfuse_sdk import __version__
from idfuse_sdk.exceptions import ValidationError

_HTTP_CODES = {404: RC_HANDLE_NOT_FOUND, 405: RC_OPERATION_NOT_SUPPORTED}


def _answer(status: int, code: int, message: str) -> Response:
    return respond(Answer.of(status, {"responseCode": code, "message": message}))


def _install_error_handlers(api: FastAPI) -> None:
    async def resolver_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, ResolverHTTPError)
        path = target(raw_path(request).decode("latin-1"), request.scope.get("query_string", b""))
        return respond(error_answer(error, path))

    async def validation_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem.get('loc', ()))}: {problem.get('msg', 'invalid')}"
            for problem in error.errors()[:5]
        )
        return _answer(400, RC_PROTOCOL_ERROR, f"malformed request: {problems}")

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        code = _HTTP_CODES.get(error.status_code, RC_PROTOCOL_ERROR)
        response = _answer(error.status_code, code, str(error.detail))
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        return response

    async def identifier_error(request: Request, error: Exception) -> Response:
        return _answer(400, RC_INVALID_HANDLE, str(error))

    async def index_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, IdfuseNodeError)
        return respond(error_answer(index_unreadable(error), ""))

    api.add_exception_handler(ResolverHTTPError, resolver_error)
    api.add_exception_handler(RequestValidationError, validation_error)
    api.add_exception_handler(StarletteHTTPException, http_error)
    api.add_exception_handler(ValidationError, identifier_error)
    api.add_exception_handler(IdfuseNodeError, index_error)


class ResolverApp:
    """The ASGI app :func:`create_app` returns; ``fastapi`` is the inner app (its ``openapi()``
    is the document), ``lookup``, ``metrics``, ``settings`` and ``limits`` its state."""

    def __init__(
        self, api: FastAPI, state: ResolverState, follower: Follower, settings: ResolverSettings
    ) -> None:
        self.fastapi = api
        self.state = state
        self.lookup = state.lookup
        self.metrics = state.metrics
        self.settings = settings
        self._follower = follower
        self.limits = LimitsMiddleware(
            FastPath(api, state.handles, settings, state.metrics), settings, state.metrics
        )
        self._asgi = MetricsMiddleware(self.limits, state.metrics)

    def set_resolver_url(self, url: str) -> None:
        """This resolver's own base URL (known once the server has bound its port)."""
        self.lookup.set_resolver_url(url)

    def openapi(self) -> dict[str, Any]:
        return self.fastapi.openapi()

    async def aclose(self) -> None:
        """Close the HTTP client used to follow referrals."""
        await self._follower.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await self._asgi(scope, receive, send)


def create_app(reader: IndexReader, *, settings: ResolverSettings | None = None) -> ResolverApp:
    """The resolver over ``reader``: Handle REST API, ``/v1``, ``/health`` and ``/metrics``.

    :param reader: The index to serve (the app never writes it).
    :param settings: Limits, paging, referral following; defaults when omitted.
    """
    settings = settings or ResolverSettings()
    lookup = Lookup(reader, settings)
    follower = Follower(settings)
    state = ResolverState(lookup, HandleAPI(lookup, follower), Metrics())
    api = FastAPI(
        title="idfuse resolver",
        version=__version__,
        description=(
            "Resolves idfuse identifiers from the index of the registry chain: the Handle REST API "
            "(so Handle clients work unchanged) and a native /v1 API; every answer carries its "
            "on-chain provenance. See docs/resolver.md."
        ),
    )
    api.state.resolver = state
    api.include_router(handles.router)
    api.include_router(v1.router)
    api.include_router(ops.router)
    _install_error_handlers(api)
    return ResolverApp(api, state, follower, settings)
