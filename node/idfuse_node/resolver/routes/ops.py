"""Operations: ``/health`` (200 when the index can be read) and ``/metrics`` (Prometheus); both
say whether the chain endpoint a replica follows answers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from idfuse_node.exceptions import IdfuseNodeError
from idfuse_node.resolver import render
from idfuse_node.resolver.answers import Answer
from idfuse_node.resolver.metrics import CONTENT_TYPE
from idfuse_node.resolver.models import HealthResponse
from idfuse_node.resolver.routes.common import lag_of, respond, state_of

router = APIRouter(tags=["operations"])


@router.get(
    "/health",
    response_model=HealthResponse,
    responses={503: {"model": HealthResponse, "description": "The index cannot be read"}},
)
async def health(request: Request) -> Response:
    """200 with the indexed block and the lag behind the chain head (when known) when the index
    can be read (a replica whose chain endpoint is down still serves it: ``endpoint`` says so);
    503 otherwise."""
    state = state_of(request)
    endpoint = state.endpoint()
    try:
        checkpoint = state.lookup.checkpoint()
    except IdfuseNodeError as error:
        unreadable = {"status": f"index unreadable: {error}", "checkpoint": None, "lag": None}
        return respond(Answer.of(503, {**unreadable, "endpoint": endpoint}))
    document = {
        "status": "ok",
        "checkpoint": render.checkpoint_json(checkpoint),
        "lag": lag_of(state.head(), checkpoint),
        "endpoint": endpoint,
    }
    return respond(Answer.of(200, document))


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    """Prometheus text format 0.0.4: indexed block, lag, requests by route and status, latency."""
    state = state_of(request)
    try:
        checkpoint = state.lookup.checkpoint()
    except IdfuseNodeError:
        checkpoint = None
    head = state.head()
    endpoint = state.endpoint()
    indexed = None if checkpoint is None else float(checkpoint.number)
    lag = lag_of(head, checkpoint)
    text = state.metrics.render(
        {
            "idfuse_resolver_indexed_block": ("The last block the index holds.", indexed),
            "idfuse_resolver_chain_head": (
                "The chain head's block number.",
                None if head is None else float(head),
            ),
            "idfuse_resolver_lag_blocks": (
                "Blocks the index is behind the chain head.",
                None if lag is None else float(lag),
            ),
            "idfuse_resolver_chain_endpoint_up": (
                "1 while the chain endpoint the index follows answers, 0 while it does not.",
                None if endpoint is None else float(endpoint["reachable"]),
            ),
        }
    )
    return Response(text, media_type=CONTENT_TYPE)
