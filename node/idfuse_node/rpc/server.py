"""The JSON-RPC endpoint: an ASGI app with one route, ``POST /``, and :class:`RpcServer`,
which serves it with uvicorn in a background thread (127.0.0.1 by default)."""

from __future__ import annotations

import threading
import time
from typing import Final

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from idfuse_node.rpc.context import RpcContext
from idfuse_node.rpc.dispatch import MAX_BODY_BYTES, Dispatcher, error_body
from idfuse_node.rpc.errors import INVALID_REQUEST, RpcError

DEFAULT_HOST: Final = "127.0.0.1"
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

    return Starlette(routes=[Route("/", endpoint, methods=["POST"])])


class RpcServer:
    """uvicorn serving :func:`make_app` in a daemon thread. ``port=0`` picks a free port;
    :attr:`url` says which once :meth:`start` returns."""

    def __init__(self, context: RpcContext, *, host: str = DEFAULT_HOST, port: int = 0) -> None:
        config = uvicorn.Config(
            make_app(context), host=host, port=port, log_level="warning", lifespan="off", ws="none"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="idfuse-rpc", daemon=True)
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        """Start serving; return once the socket is bound.

        :raises RuntimeError: uvicorn did not start within ``timeout`` seconds (port taken).
        """
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the JSON-RPC server did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout)
