"""The resolver's refusals: one exception carrying an HTTP status, a Handle response code and a
message, raised at the edge and rendered as JSON by one handler."""

from __future__ import annotations

import logging
from typing import Any

from idfuse_node.exceptions import IdfuseNodeError
from idfuse_node.resolver.codes import RC_ERROR, RC_INVALID_HANDLE, RC_PROTOCOL_ERROR

log = logging.getLogger("idfuse.resolver")


class ResolverHTTPError(Exception):
    """A request the resolver answers with an error: ``status`` (HTTP), ``code`` (Handle
    ``responseCode``), ``message``, and extra top-level members (``handle``, ``referral``).

    Raised by the request parsers and the lookup; never escapes the app (it becomes JSON).
    """

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        redirect_base: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.redirect_base = redirect_base
        """For a referral: the resolver base URL the ``Location`` header points into."""
        self.extra = extra
        self.referral: Any = None
        """For a referral: the :class:`~idfuse_node.resolver.lookup.Referral` to follow."""

    def location(self, path_and_query: str) -> str | None:
        """The ``Location`` of a referral: the same request target at the other resolver."""
        if self.redirect_base is None:
            return None
        return self.redirect_base.rstrip("/") + path_and_query

    def body(self) -> dict[str, Any]:
        """The JSON body: ``responseCode``, ``message`` and the extra members."""
        return {"responseCode": self.code, **self.extra, "message": self.message}


def bad_request(message: str, **extra: Any) -> ResolverHTTPError:
    """400 with Handle code 4 (protocol error): malformed query or path encoding."""
    return ResolverHTTPError(400, RC_PROTOCOL_ERROR, message, **extra)


def invalid_handle(message: str, **extra: Any) -> ResolverHTTPError:
    """400 with Handle code 102 (invalid handle): the handle breaks the identifier rules."""
    return ResolverHTTPError(400, RC_INVALID_HANDLE, message, **extra)


def index_unreadable(error: IdfuseNodeError) -> ResolverHTTPError:
    """503 with Handle code 2 (error): the index cannot be read (a damaged or failing store).

    ``error`` names server paths and tells the operator what to do, so it goes to the log; the
    client is told only that the index cannot be read.
    """
    log.error("a request could not read the index: %s", error)
    return ResolverHTTPError(503, RC_ERROR, "the index cannot be read (storage unavailable); try again later")
