"""The resolver's limit options, shared by ``idfuse resolver`` and ``idfuse node start``:
``--rate-limit RATE[:BURST]|off``, ``--max-body-bytes``, ``--max-connections`` and
``--trusted-proxy`` (docs/resolver.md, "Limits").

The defaults are :class:`~idfuse_node.resolver.settings.ResolverSettings`', written out here
so that the CLI does not import the resolver (FastAPI) to show its help; a test keeps them equal.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import TYPE_CHECKING, Concatenate, Final, ParamSpec

import typer

from idfuse_sdk.cli.common import with_options

if TYPE_CHECKING:
    from idfuse_node.resolver.settings import ResolverSettings

__all__ = [
    "MAX_BODY_OPTION",
    "MAX_CONNECTIONS_OPTION",
    "RATE_LIMIT_OPTION",
    "TRUSTED_PROXY_OPTION",
    "limit_settings",
    "limited",
    "parse_rate_limit",
]

P = ParamSpec("P")

DEFAULT_RATE_LIMIT: Final = "1000:2000"
DEFAULT_MAX_BODY_BYTES: Final = 65536
DEFAULT_MAX_CONNECTIONS: Final = 1024

RATE_LIMIT_OPTION = typer.Option(
    DEFAULT_RATE_LIMIT,
    "--rate-limit",
    metavar="RATE[:BURST]",
    help="Requests a second one client address may sustain, and at once after a pause (BURST, "
    "default 2 x RATE); over it: 429 with Retry-After. 'off': no rate limit.",
)
MAX_BODY_OPTION = typer.Option(
    DEFAULT_MAX_BODY_BYTES,
    "--max-body-bytes",
    min=0,
    metavar="N",
    help="Largest request body accepted (larger: 413 before the body is read).",
)
MAX_CONNECTIONS_OPTION = typer.Option(
    DEFAULT_MAX_CONNECTIONS,
    "--max-connections",
    min=0,
    metavar="N",
    help="Open connections at which the resolver answers 503 (0: no cap).",
)
TRUSTED_PROXY_OPTION = typer.Option(
    None,
    "--trusted-proxy",
    metavar="ADDR",
    help="A reverse proxy's IP address whose X-Forwarded-For names the client (repeatable).",
)


def parse_rate_limit(text: str) -> tuple[float | None, int]:
    """``RATE[:BURST]`` (``BURST`` default ``2 x RATE``, at least 1) or ``off``: the rate and
    burst for :class:`ResolverSettings` (rate ``None``: off).

    :raises typer.BadParameter: anything else.
    """
    if text.strip().lower() == "off":
        return None, 1
    rate_text, _, burst_text = text.partition(":")
    try:
        rate = float(rate_text)
        burst = int(burst_text) if burst_text else None
    except ValueError:
        message = f"--rate-limit {text!r} is not RATE[:BURST] (e.g. 1000:2000) or off"
        raise typer.BadParameter(message) from None
    if not 0 < rate < float("inf") or (burst is not None and burst < 1):
        raise typer.BadParameter(f"--rate-limit {text!r}: RATE must be positive and finite, BURST at least 1")
    return rate, max(1, int(2 * rate)) if burst is None else burst


def limit_settings(
    rate_limit: str, max_body_bytes: int, max_connections: int, trusted_proxies: list[str] | None
) -> ResolverSettings:
    """The settings the options say (everything else the defaults).

    :raises typer.BadParameter: a malformed ``--rate-limit`` or ``--trusted-proxy``.
    """
    from idfuse_node.resolver.settings import ResolverSettings

    rate, burst = parse_rate_limit(rate_limit)
    proxies = []
    for proxy in trusted_proxies or []:
        try:
            proxies.append(str(ipaddress.ip_address(proxy)))
        except ValueError:
            raise typer.BadParameter(f"--trusted-proxy {proxy!r} is not an IP address") from None
    return ResolverSettings(
        rate_limit=rate,
        rate_burst=burst,
        max_body_bytes=max_body_bytes,
        max_connections=max_connections or None,
        trusted_proxies=frozenset(proxies),
    )


_LIMIT_OPTIONS: Final = (
    ("rate_limit", str, RATE_LIMIT_OPTION),
    ("max_body_bytes", int, MAX_BODY_OPTION),
    ("max_connections", int, MAX_CONNECTIONS_OPTION),
    ("trusted_proxy", list[str] | None, TRUSTED_PROXY_OPTION),
)


def limited(command: Callable[Concatenate[ResolverSettings, P], None]) -> Callable[..., None]:
    """``command(settings, ...)`` as a typer command that also takes the limit options (after
    its own parameters) and hands it their :func:`limit_settings`, checked before it runs."""
    return with_options(command, limit_settings, _LIMIT_OPTIONS)
