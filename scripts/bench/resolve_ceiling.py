"""The ceiling for ``scripts/bench/resolve``: the least an ASGI app can do to resolve a handle.

``GET /api/handles/{prefix}/{suffix}``: percent-decode the path, compute the handle key
(the prefix's node cached per name, as the resolver caches prefix facts), one LevelDB ``get``
of the handle's answer part (``v6:answer:``, what the resolver reads for an unfiltered answer),
and return the stored bytes as they are. No validation, no availability or deletion checks, no
joining: what is left is uvicorn, the key and the read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

import plyvel

from idfuse_node.indexer import schema
from idfuse_node.indexer.store import BLOOM_FILTER_BITS, max_open_files
from idfuse_sdk.identifiers import handle_key, prefix_node

_PREFIX = b"/api/handles/"
_JSON = [(b"content-type", b"application/json")]


def make_app(path: str) -> Any:
    """The raw ASGI app over the LevelDB index at ``path`` (opened read-only in spirit)."""
    db = plyvel.DB(path, bloom_filter_bits=BLOOM_FILTER_BITS, max_open_files=max_open_files())  # as the store
    get = db.get
    return record_app(lambda key: get(schema.answer_key(key)), db.close)


def record_app(read: Callable[[bytes], bytes | None], close: Callable[[], None]) -> Any:
    """The raw ASGI app answering a handle with ``read(handle key)``'s bytes as they are (404
    when None); ``close`` at shutdown. ``resolve_flat.py`` serves its table through it too, so
    that the two differ in the read alone."""
    nodes: dict[str, bytes] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        raw: bytes = scope["raw_path"]
        body: bytes | None = None
        if raw.startswith(_PREFIX):
            prefix, _, suffix = unquote_to_bytes(raw[len(_PREFIX) :]).decode("utf-8").partition("/")
            node = nodes.get(prefix)
            if node is None:
                node = nodes[prefix] = prefix_node(prefix)
            body = read(handle_key(node, suffix))
        status = 200 if body is not None else 404
        body = body if body is not None else b'{"responseCode":100}'
        headers = [*_JSON, (b"content-length", str(len(body)).encode("ascii"))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app
