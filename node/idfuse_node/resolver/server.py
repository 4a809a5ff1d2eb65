"""uvicorn serving the resolver in a daemon thread (127.0.0.1, ephemeral port by default)."""

from __future__ import annotations

from idfuse_node.resolver.app import ResolverApp
from idfuse_node.resolver.protocol import uvicorn_options
from idfuse_node.serving import DEFAULT_HOST, ThreadedServer


class ResolverServer(ThreadedServer):
    """Serve ``app``; ``port=0`` picks a free port, and :attr:`url` says which once
    :meth:`start` returns (the app is told its own URL then, for referrals). The app's settings
    bound request heads and connections (:mod:`idfuse_node.resolver.protocol`)."""

    def __init__(self, app: ResolverApp, *, host: str = DEFAULT_HOST, port: int = 0) -> None:
        super().__init__(
            app,
            host=host,
            port=port,
            name="idfuse-resolver",
            what="the resolver",
            lifespan="on",
            **uvicorn_options(app.settings, app.metrics.reject),
        )
        self.app = app

    def start(self, timeout: float = 10.0) -> None:
        """Start serving; return once the socket is bound.

        :raises RuntimeError: uvicorn did not start within ``timeout`` seconds (port taken).
        """
        super().start(timeout)
        self.app.set_resolver_url(self.url)
