"""The resolver's settings: limits at the edge, paging, referral following, derived values.

The defaults of the limits (docs/resolver.md, "Limits") are for a public resolver: a client
may resolve 1,000 identifiers a second, 2,000 at once; a benchmark from one address passes a
higher ``rate_limit`` (``scripts/bench/resolve_serve.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

DEFAULT_MAX_HOPS: Final = 4
"""How many resolvers a followed referral may pass through (``X-Idfuse-Hops``)."""


@dataclass(frozen=True, slots=True)
class ResolverSettings:
    """What :func:`idfuse_node.resolver.create_app` needs besides the index.

    ``resolver_url`` is this resolver's own base URL (``http://host:port``): it is how the
    resolver recognises itself in a service record and in the ``Via`` header of a followed
    referral; ``None`` until known (a random instance name stands in for loop detection).
    ``chain_head`` returns the chain's head block number (for ``lag`` in ``/v1/checkpoint``
    and ``/metrics``), or ``None`` when no chain is at hand. ``unreachable_since`` is set when
    the index follows a chain endpoint in this process (a replica): it returns when
    (``time.time()``) the endpoint stopped answering, ``None`` while it answers; ``/health``,
    ``/v1/checkpoint`` and ``/metrics`` then say whether it does.
    """

    resolver_url: str | None = None
    max_url_bytes: int = 2048
    """Longest raw path plus query string accepted (longer: 400)."""
    max_query_params: int = 32
    """Most query parameters accepted (more: 400)."""
    rate_limit: float | None = 1000.0
    """Requests a second one client may sustain (over: 429); ``None`` or 0: no rate limit."""
    rate_burst: int = 2000
    """Requests one client may send at once after a pause (its token bucket's size)."""
    rate_limit_clients: int = 65536
    """Most clients with a token bucket at once (least recently seen evicted first)."""
    trusted_proxies: frozenset[str] = frozenset()
    """Peer addresses whose ``X-Forwarded-For`` names the client (none: the peer is the client)."""
    max_body_bytes: int = 65536
    """Largest ``Content-Length`` accepted (larger: 413 before the body is read)."""
    max_header_bytes: int = 16384
    """Largest request line plus headers (larger: 431, connection closed, while still arriving)."""
    max_headers: int = 100
    """Most header fields in a request (more: 431)."""
    max_connections: int | None = 1024
    """Requests past this many open connections or running requests get 503, code 3 (uvicorn's
    ``limit_concurrency`` rule, applied by :mod:`~idfuse_node.resolver.protocol`; ``None``: no cap)."""
    default_page_size: int = 100
    max_page_size: int = 1000
    max_page_offset: int = 10_000
    """Handle-style ``page * pageSize`` limit; deeper pages page by cursor in ``/v1``."""
    max_hops: int = DEFAULT_MAX_HOPS
    referral_timeout: float = 5.0
    """Seconds a followed referral may take."""
    derived_ttl: int = 86400
    """TTL of the derived ``HS_ADMIN`` and ``HS_SITE`` values."""
    cache_entries: int = 0
    """Unfiltered Handle answers cached per checkpoint, each reused while what it was made
    from (the handle's answer part, or its record) is unchanged; when full, the oldest makes
    room (0, the default: none). The index keeps every live handle's answer rendered already
    (``v6:answer:``), so a cached answer saves only parsing the part and joining it; worth it
    for a few very hot handles on an index that rarely moves."""
    chain_head: Callable[[], int | None] | None = field(default=None, compare=False)
    unreachable_since: Callable[[], float | None] | None = field(default=None, compare=False)
