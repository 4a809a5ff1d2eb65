"""What every router shares: the app's state, raw-path access, and documented error answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from fastapi import Request
from fastapi.responses import Response

from idfuse_node.indexer.records import Checkpoint
from idfuse_node.resolver import render
from idfuse_node.resolver.answers import Answer
from idfuse_node.resolver.handle_api import HandleAPI
from idfuse_node.resolver.lookup import Lookup
from idfuse_node.resolver.metrics import Metrics
from idfuse_node.resolver.models import ErrorResponse


@dataclass
class ResolverState:
    """Everything a route needs, kept on ``app.state.resolver``."""

    lookup: Lookup
    handles: HandleAPI
    metrics: Metrics

    def head(self) -> int | None:
        """The chain head's number from the settings' ``chain_head``, None when unknown or failing."""
        source = self.lookup.settings.chain_head
        if source is None:
            return None
        try:
            return source()
        except Exception:
            return None

    def endpoint(self) -> dict[str, Any] | None:
        """Whether the chain endpoint the index follows answers (``reachable``, and since when
        it does not: ``unreachable_since``), None when no endpoint is followed here."""
        source = self.lookup.settings.unreachable_since
        if source is None:
            return None
        since = source()
        return {
            "reachable": since is None,
            "unreachable_since": None if since is None else render.iso_time(int(since)),
        }


def lag_of(head: int | None, checkpoint: Checkpoint | None) -> int | None:
    """Blocks the index is behind ``head`` (None when either is unknown)."""
    return None if head is None or checkpoint is None else max(head - checkpoint.number, 0)


def state_of(request: Request) -> ResolverState:
    state: ResolverState = request.app.state.resolver
    return state


def raw_path(request: Request) -> bytes:
    """The path as received (percent-encoded), or the decoded one re-encoded as UTF-8."""
    raw = request.scope.get("raw_path")
    if isinstance(raw, bytes):
        return raw
    return str(request.scope["path"]).encode("utf-8")


def respond(answer: Answer) -> Response:
    return Response(
        answer.body, status_code=answer.status, headers=answer.headers, media_type=answer.media_type
    )


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    400: _error("Malformed or over-long request (responseCode 4) or handle (102), or not served here (301)"),
    404: _error("Not found (responseCode 100), with the reason"),
    413: _error("Request body over the limit (responseCode 4), refused before it is read"),
    429: _error("Over this client's rate limit (responseCode 3); Retry-After says when to retry"),
}
REFERRALS: Final[dict[int | str, dict[str, Any]]] = {
    307: _error("Referral (responseCode 302): Location names the resolver that serves the prefix"),
    502: _error("A followed referral's resolver could not be asked (responseCode 2)"),
    504: _error("A followed referral's resolver did not answer in time (responseCode 2)"),
    508: _error("Referral loop or hop limit (responseCode 6)"),
}
