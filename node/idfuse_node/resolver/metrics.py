"""Prometheus metrics in the text exposition format 0.0.4, written out by hand (no dependency).

Requests are counted by route template (``/api/handles/{handle}``, never the handle itself, so
the label set stays bounded), method and status; their latency goes into one histogram per
route. Gauges for the indexed block and the lag behind the chain head are read at scrape time.
"""

from __future__ import annotations

import bisect
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
ROUTE_KEY: Final = "idfuse.route"
"""Scope key where a route that Starlette does not match (the fast path) names its template."""


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class _Histogram:
    __slots__ = ("count", "counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.count = 0
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.count += 1
        self.total += seconds


class Metrics:
    """The counters and histograms; :meth:`render` writes the exposition text."""

    def __init__(self) -> None:
        self.requests: defaultdict[tuple[str, str, int], int] = defaultdict(int)
        self.latency: defaultdict[str, _Histogram] = defaultdict(_Histogram)
        self.rejections: defaultdict[str, int] = defaultdict(int)
        """Requests refused at the edge, by reason (``rate_limited``, ``body_too_large``, ...)."""

    def reject(self, reason: str) -> None:
        """Count a request refused at the edge (the limits, the protocol, the target checks)."""
        self.rejections[reason] += 1

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests[(route, method, status)] += 1
        self.latency[route].observe(seconds)

    def render(self, gauges: dict[str, tuple[str, float | None]]) -> str:
        """The exposition text; ``gauges`` maps a name to (help, value or None to omit)."""
        lines: list[str] = []
        for name, (help_text, value) in gauges.items():
            if value is None:
                continue
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value:g}"]
        lines += [
            "# HELP idfuse_resolver_requests_total Requests answered, by route template, method and status.",
            "# TYPE idfuse_resolver_requests_total counter",
        ]
        for (route, method, status), count in sorted(self.requests.items()):
            lines.append(
                f'idfuse_resolver_requests_total{{route="{_label(route)}",method="{_label(method)}",'
                f'status="{status}"}} {count}'
            )
        lines += [
            "# HELP idfuse_resolver_rejections_total Requests refused at the edge, by reason.",
            "# TYPE idfuse_resolver_rejections_total counter",
        ]
        for reason, count in sorted(self.rejections.items()):
            lines.append(f'idfuse_resolver_rejections_total{{reason="{_label(reason)}"}} {count}')
        lines += [
            "# HELP idfuse_resolver_request_duration_seconds Time to answer a request, by route template.",
            "# TYPE idfuse_resolver_request_duration_seconds histogram",
        ]
        for route, histogram in sorted(self.latency.items()):
            label = _label(route)
            cumulative = 0
            for bound, count in zip((*BUCKETS, float("inf")), histogram.counts, strict=True):
                cumulative += count
                le = "+Inf" if bound == float("inf") else f"{bound:g}"
                name = "idfuse_resolver_request_duration_seconds_bucket"
                lines.append(f'{name}{{route="{label}",le="{le}"}} {cumulative}')
            lines.append(
                f'idfuse_resolver_request_duration_seconds_sum{{route="{label}"}} {histogram.total:.6f}'
            )
            lines.append(
                f'idfuse_resolver_request_duration_seconds_count{{route="{label}"}} {histogram.count}'
            )
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    """Times and counts every HTTP request the wrapped app answers."""

    def __init__(
        self, app: ASGIApp, metrics: Metrics, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = self.clock()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.observe(route_of(scope), scope["method"], status, self.clock() - start)


def route_of(scope: dict[str, Any] | Scope) -> str:
    """The route template that answered (``unmatched`` for none)."""
    named = scope.get(ROUTE_KEY)
    if isinstance(named, str):
        return named
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
