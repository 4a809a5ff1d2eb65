"""The Handle REST API routes. ``GET /api/handles/{handle}`` is normally answered by the fast
path (:mod:`idfuse_node.resolver.fastpath`) before FastAPI sees it; this route documents it and
serves it when the fast path is off. Both call :class:`~idfuse_node.resolver.handle_api.HandleAPI`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from idfuse_node.resolver.handle_api import HANDLES_PATH, write_refused
from idfuse_node.resolver.models import ErrorResponse, HandleListResponse, HandleResponse, PrefixListResponse
from idfuse_node.resolver.routes.common import ERRORS, REFERRALS, raw_path, respond, state_of

router = APIRouter(tags=["Handle REST API"])

_WRITE: dict[int | str, dict[str, Any]] = {
    405: {"model": ErrorResponse, "description": "Read-only: handles are written on chain (responseCode 5)"}
}


@router.get(
    "/api/handles/{handle:path}",
    response_model=HandleResponse,
    responses={200: {"description": "responseCode 1, or 200 when no value matched the filters"}}
    | ERRORS
    | REFERRALS
    | {401: {"model": ErrorResponse, "description": "publicOnly=false (responseCode 402)"}},
)
async def get_handle(
    request: Request,
    handle: str,
    type: Annotated[
        list[str] | None, Query(description="Value type; a type ending in '.' matches its sub-types")
    ] = None,
    index: Annotated[list[int] | None, Query(ge=0, le=2**32 - 1, description="Value index")] = None,
    follow: bool = Query(False, description="Follow a referral to the resolver that serves the prefix"),
) -> Response:
    """Resolve a handle: its values (with the derived HS_ADMIN and HS_SITE), each with its provenance."""
    state = state_of(request)
    path = raw_path(request)
    raw_handle = path[len(HANDLES_PATH) :] if "raw_path" in request.scope else None
    answer = await state.handles.get_handle(
        raw_handle,
        handle,
        path.decode("latin-1"),
        request.scope.get("query_string", b""),
        dict(request.headers),
    )
    return respond(answer)


@router.get(
    "/api/handles",
    response_model=HandleListResponse,
    responses=ERRORS | REFERRALS,
)
async def list_handles(
    request: Request,
    prefix: str = Query(..., description="The prefix whose handles to list"),
    page: int | None = Query(None, ge=0, description="0-based page number"),
    pageSize: int | None = Query(None, ge=1, description="Handles a page (capped)"),  # noqa: N803
) -> Response:
    """List a prefix's live handles, a page at a time (totalCount is a string, as Handle writes it)."""
    state = state_of(request)
    answer = await state.handles.list_handles(
        raw_path(request).decode("latin-1"), request.scope.get("query_string", b""), dict(request.headers)
    )
    return respond(answer)


@router.get("/api/prefixes", response_model=PrefixListResponse, responses=ERRORS)
async def list_prefixes(
    request: Request,
    page: int | None = Query(None, ge=0, description="0-based page number"),
    pageSize: int | None = Query(None, ge=1, description="Prefixes a page (capped)"),  # noqa: N803
) -> Response:
    """List every registered prefix name, a page at a time."""
    state = state_of(request)
    return respond(
        state.handles.list_prefixes(
            raw_path(request).decode("latin-1"), request.scope.get("query_string", b"")
        )
    )


def _refuse(handle: str) -> Response:
    return respond(write_refused(handle))


@router.put("/api/handles/{handle:path}", status_code=405, responses=_WRITE | ERRORS)
async def put_handle(handle: str) -> Response:
    """Refused: this resolver is read-only; handles are written on chain through the registry."""
    return _refuse(handle)


@router.post("/api/handles/{handle:path}", status_code=405, responses=_WRITE | ERRORS)
async def post_handle(handle: str) -> Response:
    """Refused: this resolver is read-only; handles are written on chain through the registry."""
    return _refuse(handle)


@router.delete("/api/handles/{handle:path}", status_code=405, responses=_WRITE | ERRORS)
async def delete_handle(handle: str) -> Response:
    """Refused: this resolver is read-only; handles are written on chain through the registry."""
    return _refuse(handle)
