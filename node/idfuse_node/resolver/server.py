"""uvicorn serving the resolver in a daemon thread (127.0.0.1, ephemeral port by default)."""

from __future__ import annotations

import threading
import time
from typing import Final

import uvicorn

from idfuse_node.resolver.app import ResolverApp

DEFAULT_HOST: Final = "127.0.0.1"


class ResolverServer:
    """Serve ``app``; ``port=0`` picks a free port, and :attr:`url` says which once
    :meth:`start` returns (the app is told its own URL then, for referrals)."""

    def __init__(self, app: ResolverApp, *, host: str = DEFAULT_HOST, port: int = 0) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on", ws="none")
        self.app = app
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="idfuse-resolver", daemon=True)
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
                raise RuntimeError(f"the resolver did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        self.app.set_resolver_url(self.url)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout)
