"""Following a referral: ask the resolver a prefix's service record names, within a hop limit
and without loops.

Each resolver that forwards a request adds one to ``X-Idfuse-Hops`` and appends itself to
``Via`` (``1.1 <resolver URL>``, as RFC 9110 lets an intermediary record itself). A resolver
refuses to forward once the hop count reaches its limit, or when it finds itself, or every
resolver it could ask, already in ``Via``: 508 Loop Detected with Handle code 6 (recursion
count too high). The answer of the resolver asked is relayed unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import httpx

from idfuse_node.resolver.codes import RC_ERROR, RC_RECURSION_COUNT_TOO_HIGH
from idfuse_node.resolver.errors import ResolverHTTPError, bad_request
from idfuse_node.resolver.lookup import Referral, normalise_url
from idfuse_node.resolver.settings import ResolverSettings

HOPS_HEADER: Final = "x-idfuse-hops"
VIA_HEADER: Final = "via"
_RELAYED: Final = frozenset({"content-type", "location"})


@dataclass(frozen=True, slots=True)
class Relayed:
    """Another resolver's answer, passed on as it came."""

    status: int
    headers: dict[str, str]
    body: bytes


def via_names(value: str) -> list[str]:
    """The intermediaries a ``Via`` header lists (the received-by part of each entry)."""
    names = []
    for entry in value.split(","):
        parts = entry.split()
        if len(parts) >= 2:
            names.append(normalise_url(parts[1]))
    return names


class Follower:
    """Forwards requests for referred prefixes with one shared HTTP client."""

    def __init__(self, settings: ResolverSettings) -> None:
        self.settings = settings
        self.instance = f"urn:uuid:{uuid.uuid4()}"
        """Stands in for this resolver in ``Via`` until its URL is known."""
        self._client: httpx.AsyncClient | None = None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.settings.referral_timeout, follow_redirects=False)
        return self._client

    async def follow(
        self, referral: Referral, path_and_query: str, headers: Mapping[str, str], self_url: str | None
    ) -> Relayed:
        """Ask the referral's resolvers in order for ``path_and_query``; relay the first answer.

        :raises ResolverHTTPError: 400 for a malformed hop header; 508 (code 6) for a loop or
            too many hops; 502/504 (code 2) when no resolver answered.
        """
        raw_hops = headers.get(HOPS_HEADER, "0")
        if not raw_hops.isascii() or not raw_hops.isdigit() or len(raw_hops) > 3:
            raise bad_request(f"{HOPS_HEADER} must be a small decimal integer")
        hops = int(raw_hops)
        me = self_url or self.instance
        visited = via_names(headers.get(VIA_HEADER, ""))
        if normalise_url(me) in visited:
            raise ResolverHTTPError(
                508, RC_RECURSION_COUNT_TOO_HIGH, f"referral loop: this resolver ({me}) was already asked"
            )
        if hops >= self.settings.max_hops:
            raise ResolverHTTPError(
                508,
                RC_RECURSION_COUNT_TOO_HIGH,
                f"referral passed {hops} resolvers; at most {self.settings.max_hops} may be followed",
            )
        candidates = [url for url in referral.resolvers if normalise_url(url) not in visited]
        if not candidates:
            raise ResolverHTTPError(
                508, RC_RECURSION_COUNT_TOO_HIGH, "referral loop: every resolver named was already asked"
            )
        via = headers.get(VIA_HEADER, "")
        forward = {
            HOPS_HEADER: str(hops + 1),
            VIA_HEADER: f"{via}, 1.1 {me}" if via else f"1.1 {me}",
            "accept": "application/json",
        }
        failure: ResolverHTTPError | None = None
        for base in candidates:
            url = base.rstrip("/") + path_and_query
            try:
                response = await self._http().get(url, headers=forward)
            except httpx.TimeoutException:
                failure = ResolverHTTPError(504, RC_ERROR, f"the resolver {base} did not answer in time")
                continue
            except (httpx.HTTPError, ValueError) as error:
                failure = ResolverHTTPError(502, RC_ERROR, f"the resolver {base} could not be asked: {error}")
                continue
            relayed = {name: value for name, value in response.headers.items() if name in _RELAYED}
            return Relayed(response.status_code, relayed, response.content)
        assert failure is not None
        raise failure
