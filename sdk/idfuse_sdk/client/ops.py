"""The I/O a client flow asks its front end for, as plain data.

A flow (:mod:`idfuse_sdk.client.base`) is a generator: it yields one of these operations and
is sent back the answer, or has a :class:`~idfuse_sdk.exceptions.ConnectionFailedError` thrown
in when the transport failed. The sync front end answers with blocking calls, the async one
with ``await``; the logic exists once.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["Flow", "HttpGet", "HttpResponse", "OnChain", "Op", "Rpc", "Sleep"]

T = TypeVar("T")


@dataclass(frozen=True)
class Rpc:
    """A JSON-RPC request; answered with the whole response object (``result`` or ``error``)."""

    method: str
    params: list[Any]


@dataclass(frozen=True)
class HttpGet:
    """A GET to the resolver; answered with an :class:`HttpResponse`."""

    url: str
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class HttpResponse:
    """A resolver's answer: the status and the JSON body (None when it is not JSON)."""

    status: int
    body: Any


@dataclass(frozen=True)
class Sleep:
    """Wait this many seconds (receipt polling); answered with None."""

    seconds: float


@dataclass(frozen=True)
class OnChain:
    """Carry ``op`` out on the transport of the held chain ``chain_id`` (a client holding
    several chains, :mod:`idfuse_sdk.client.routing`); answered as ``op`` is."""

    chain_id: int
    op: Op


Op = Rpc | HttpGet | Sleep | OnChain
Flow = Generator[Op, Any, T]
"""A client operation written once: yields :data:`Op`, returns ``T``."""
