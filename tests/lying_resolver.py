"""An HTTP server in front of a real resolver that claims another owner for every prefix: what
``verify`` must catch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx

from tests.httpserver import serving


@contextmanager
def lying_resolver(upstream: str, owner: str) -> Iterator[str]:
    """The URL of a server passing every request to ``upstream`` with ``owner`` as the owner of
    any prefix it answers with; shut down on the way out."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            answer = httpx.get(upstream + self.path, timeout=10)
            body = answer.content
            if self.path.startswith("/v1/prefixes/") and answer.status_code == 200:
                record = answer.json()
                record["prefix"]["owner"] = owner
                body = json.dumps(record).encode()
            self.send_response(answer.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    with serving(Handler) as url:
        yield url
