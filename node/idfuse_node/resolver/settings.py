"""The resolver's settings: limits at the edge, paging, referral following, derived values."""

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
    and ``/metrics``), or ``None`` when no chain is at hand.
    """

    resolver_url: str | None = None
    max_url_bytes: int = 2048
    """Longest raw path plus query string accepted (longer: 400)."""
    max_query_params: int = 32
    """Most query parameters accepted (more: 400)."""
    default_page_size: int = 100
    max_page_size: int = 1000
    max_page_offset: int = 10_000
    """Handle-style ``page * pageSize`` limit; deeper pages page by cursor in ``/v1``."""
    max_hops: int = DEFAULT_MAX_HOPS
    referral_timeout: float = 5.0
    """Seconds a followed referral may take."""
    derived_ttl: int = 86400
    """TTL of the derived ``HS_ADMIN`` and ``HS_SITE`` values."""
    cache_entries: int = 4096
    """Rendered Handle answers kept per checkpoint by the fast path (0: none)."""
    chain_head: Callable[[], int | None] | None = field(default=None, compare=False)
