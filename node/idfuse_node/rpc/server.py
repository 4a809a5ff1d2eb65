"""The JSON-RPC endpoint: an ASGI app with ``POST /`` (the calls) and ``GET /openapi.json`` (its
OpenAPI document), and :class:`RpcServer`, which serves it with uvicorn in a background thread
(127.0.0.1 by default)."""

from __future__ import annotations

import json
from typing import Final

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from idfuse_node.rpc.context import RpcContext
from idfuse_node.rpc.dispatch import MAX_BATCH, MAX_BODY_BYTES, Dispatcher, error_body
from idfuse_node.rpc.errors import INVALID_REQUEST, RpcError
from idfuse_node.rpc.methods import all_params
from idfuse_node.rpc.openapi import OPENAPI_PATH, document
from idfuse_node.serving import DEFAULT_HOST, ThreadedServer

JSON: Final = "application/json"


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or None once it grows past ``limit`` bytes (the rest is not read)."""
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > limit:
            return None
    return bytes(chunks)


def make_app(context: RpcContext) -> Starlette:
    """The ASGI app serving ``context``."""
    dispatcher = Dispatcher(context)
    spec = json.dumps(
        document(dispatcher.methods, all_params(), version=context.client_version, max_batch=MAX_BATCH)
    ).encode()

    async def endpoint(request: Request) -> Response:
        try:
            body = await _read_limited(request, MAX_BODY_BYTES)
        except ClientDisconnect:
            return Response(status_code=400)
        if body is None:
            error = RpcError(INVALID_REQUEST, f"request body is larger than {MAX_BODY_BYTES} bytes")
            return Response(error_body(error), status_code=413, media_type=JSON)
        reply = await run_in_threadpool(dispatcher.handle, body)
        if reply is None:
            return Response(status_code=204)
        return Response(reply, media_type=JSON)

    async def openapi(request: Request) -> Response:
        return Response(spec, media_type=JSON)

    async def http_error(request: Request, error: Exception) -> Response:
        """404 and 405 (another path or HTTP method) as a JSON-RPC error object, as every answer is."""
        assert isinstance(error, HTTPException)
        refusal = RpcError(INVALID_REQUEST, f"{error.detail}: JSON-RPC calls are POST /")
        return Response(
            error_body(refusal), status_code=error.status_code, headers=error.headers, media_type=JSON
        )

    return Starlette(
        routes=[Route("/", endpoint, methods=["POST"]), Route(OPENAPI_PATH, openapi, methods=["GET"])],
        exception_handlers={HTTPException: http_error},
    )


class RpcServer(ThreadedServer):
    """The JSON-RPC endpoint of ``context`` served by uvicorn in a daemon thread. ``port=0``
    picks a free port; :attr:`url` says which once :meth:`start` returns."""

    def __init__(self, context: RpcContext, *, host: str = DEFAULT_HOST, port: int = 0) -> None:
        super().__init__(
            make_app(context), host=host, port=port, name="idfuse-rpc", what="the JSON-RPC server"
        )
