"""uvicorn serving an ASGI app in a background thread: how the node runs each of its HTTP
services (JSON-RPC, resolver) beside the others in one process."""

from __future__ import annotations

import threading
import time
from typing import Any, Final, Literal

import uvicorn
from starlette.types import ASGIApp

DEFAULT_HOST: Final = "127.0.0.1"


class ThreadedServer:
    """Serve ``app`` with uvicorn in a daemon thread named ``name``. ``port=0`` picks a free
    port; :attr:`url` says which once :meth:`start` returns.

    :param what: What the server is, for error messages ("the resolver").
    :param options: More ``uvicorn.Config`` options (the resolver's limits).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        name: str,
        what: str,
        lifespan: Literal["on", "off"] = "off",
        **options: Any,
    ) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan=lifespan, ws="none", **options
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=name, daemon=True)
        self._what = what
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
                raise RuntimeError(f"{self._what} did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout)
