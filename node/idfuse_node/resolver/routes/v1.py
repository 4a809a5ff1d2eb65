"""The native ``/v1`` API: identifiers, prefixes, owners, templates, batches and their proofs,
history, and the checkpoint. Every answer carries provenance and the indexed block."""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from idfuse_node.exceptions import IndexCorruptError
from idfuse_node.indexer.reader import history_position
from idfuse_node.indexer.records import Checkpoint, HandleRecord, HistoryEntry, PrefixRecord
from idfuse_node.resolver import render
from idfuse_node.resolver.answers import Answer
from idfuse_node.resolver.codes import RC_HANDLE_NOT_FOUND
from idfuse_node.resolver.errors import ResolverHTTPError
from idfuse_node.resolver.handle_api import target
from idfuse_node.resolver.inbound import (
    parse_address,
    parse_cursor,
    parse_handle_text,
    parse_hex32,
    parse_limit,
    parse_prefix_text,
    parse_uint,
    percent_decode,
)
from idfuse_node.resolver.models import (
    BatchResponse,
    CheckpointResponse,
    HistoryResponse,
    IdentifierPage,
    IdentifierResponse,
    PrefixPage,
    PrefixResponse,
    ProofResponse,
    TemplateList,
    TemplateResponse,
)
from idfuse_node.resolver.routes.common import (
    ERRORS,
    REFERRALS,
    ResolverState,
    lag_of,
    raw_path,
    respond,
    state_of,
)
from idfuse_sdk.identifiers import handle_key, prefix_node

router = APIRouter(prefix="/v1", tags=["native API"])

IDENTIFIERS: Final = b"/v1/identifiers/"
HISTORY: Final = b"/history"
LIMIT = Query(None, description="Entries a page (default 100, at most 1000)")


def _not_found(message: str, checkpoint: Checkpoint | None, **extra: Any) -> ResolverHTTPError:
    return ResolverHTTPError(
        404, RC_HANDLE_NOT_FOUND, message, checkpoint=render.checkpoint_json(checkpoint), **extra
    )


def _ok(document: dict[str, Any], checkpoint: Checkpoint | None) -> Response:
    document["checkpoint"] = render.checkpoint_json(checkpoint)
    return respond(Answer.of(200, document))


def _identifier_json(record: HandleRecord) -> dict[str, Any]:
    document = record.to_json()
    for stored_only in ("deleted", "event", "timestamp"):  # the last change's: see its history
        document.pop(stored_only)
    document["values"] = [render.native_value_json(value) for value in record.values]
    document["created"] = render.provenance_json(record.created)
    document["provenance"] = render.provenance_json(record.provenance)
    return document


def _history_json(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "event": entry.event,
        "timestamp": render.iso_time(entry.timestamp),
        "provenance": render.provenance_json(entry.provenance),
        "detail": entry.detail,
    }


def _prefix(state: ResolverState, text: str) -> tuple[PrefixRecord, Checkpoint | None]:
    name = parse_prefix_text(text)
    checkpoint = state.lookup.checkpoint()
    record = state.lookup.reader.prefix(prefix_node(name))
    if record is None:
        raise _not_found(f"prefix {name} is not registered on this chain", checkpoint)
    return record, checkpoint


def _node(record: PrefixRecord) -> bytes:
    return bytes.fromhex(record.node[2:])


def _handle_from_path(request: Request, history: bool) -> str:
    """The handle in ``/v1/identifiers/{handle}[/history]``, percent-decoded once from the raw path."""
    path = raw_path(request)
    if "raw_path" not in request.scope:
        tail = str(request.path_params["handle"])
        return tail
    tail_raw = path[len(IDENTIFIERS) :]
    if history:
        tail_raw = tail_raw[: -len(HISTORY)]
    return percent_decode(tail_raw, "the handle")


@router.get(
    "/identifiers/{handle:path}/history",
    response_model=HistoryResponse,
    responses=ERRORS,
)
async def identifier_history(
    request: Request,
    handle: str,
    after: str | None = Query(None, description="A previous page's next: block.log.record"),
    limit: str | None = LIMIT,
) -> Response:
    """A handle's changes, oldest first (deleted handles and those of unavailable prefixes too)."""
    if not raw_path(request).endswith(HISTORY):  # ".../%2Fhistory" names a handle ending in /history
        return await identifier(request, handle)
    state = state_of(request)
    text = _handle_from_path(request, history=True)
    prefix, suffix = parse_handle_text(text)
    cursor = parse_cursor(after, 3)
    size = parse_limit(limit, state.lookup.settings)
    checkpoint = state.lookup.checkpoint()
    key = handle_key(prefix, suffix)
    entries = state.lookup.reader.handle_history(
        key, after=None if cursor is None else (cursor[0], cursor[1], cursor[2]), limit=size
    )
    if not entries and cursor is None:
        raise _not_found("handle not found", checkpoint, handle=text)
    following = None
    if len(entries) == size:
        following = ".".join(str(part) for part in history_position(entries[-1]))
    return _ok({"entries": [_history_json(entry) for entry in entries], "next": following}, checkpoint)


@router.get(
    "/identifiers/{handle:path}",
    response_model=IdentifierResponse,
    responses=ERRORS | REFERRALS,
)
async def identifier(
    request: Request,
    handle: str,
    follow: bool = Query(False, description="Follow a referral to the resolver that serves the prefix"),
) -> Response:
    """A live handle's record: every stored value (with permissions), its prefix's owner, provenance."""
    state = state_of(request)
    path_and_query = target(raw_path(request).decode("latin-1"), request.scope.get("query_string", b""))
    try:
        text = _handle_from_path(request, history=False)
        prefix, suffix = parse_handle_text(text)
        checkpoint = state.lookup.checkpoint()
        prefix_state = state.lookup.available_prefix(prefix, checkpoint)
        record = state.lookup.live_handle(text, prefix, suffix, prefix_state, checkpoint)
    except ResolverHTTPError as error:
        wants = request.query_params.get("follow") == "true"
        return respond(await state.handles.refer_or_fail(error, wants, path_and_query, dict(request.headers)))
    assert prefix_state.record is not None
    document = {
        "identifier": _identifier_json(record),
        "prefix_owner": prefix_state.record.owner,
        "provenance": render.provenance_json(record.provenance),
    }
    return _ok(document, checkpoint)


@router.get("/prefixes/{prefix}", response_model=PrefixResponse, responses=ERRORS)
async def prefix_record(request: Request, prefix: str) -> Response:
    """A prefix: owner, own and effective status and expiry, operators, service record."""
    state = state_of(request)
    record, checkpoint = _prefix(state, prefix)
    now = 0 if checkpoint is None else checkpoint.timestamp
    document = {
        "prefix": render.prefix_json(record, now=now),
        "handle_count": state.lookup.reader.handle_count(_node(record)),
        "provenance": render.provenance_json(record.provenance),
    }
    return _ok(document, checkpoint)


def _prefix_page(records: list[PrefixRecord], size: int, now: int, cursor: str) -> dict[str, Any]:
    following = None
    if len(records) == size:
        following = records[-1].node if cursor == "node" else records[-1].prefix
    return {"prefixes": [render.prefix_json(record, now=now) for record in records], "next": following}


@router.get("/prefixes/{prefix}/children", response_model=PrefixPage, responses=ERRORS)
async def prefix_children(
    request: Request,
    prefix: str,
    after: str | None = Query(None, description="A previous page's next (a node id)"),
    limit: str | None = LIMIT,
) -> Response:
    """The direct sub-prefixes of a prefix, in node order."""
    state = state_of(request)
    record, checkpoint = _prefix(state, prefix)
    cursor = None if after is None else parse_hex32(after, "after")
    size = parse_limit(limit, state.lookup.settings)
    children = state.lookup.reader.children(_node(record), after=cursor, limit=size)
    now = 0 if checkpoint is None else checkpoint.timestamp
    return _ok(_prefix_page(children, size, now, "node"), checkpoint)


@router.get("/prefixes/{prefix}/identifiers", response_model=IdentifierPage, responses=ERRORS)
async def prefix_identifiers(
    request: Request,
    prefix: str,
    after: str | None = Query(None, description="A previous page's next (a suffix)"),
    limit: str | None = LIMIT,
) -> Response:
    """The live handles of a prefix in suffix order (whatever the prefix's status)."""
    state = state_of(request)
    record, checkpoint = _prefix(state, prefix)
    size = parse_limit(limit, state.lookup.settings)
    if after is not None and not 0 < len(after.encode("utf-8", "surrogatepass")) <= 255:
        raise ResolverHTTPError(400, 4, "after must be a suffix of 1 to 255 bytes")
    handles = state.lookup.reader.handles_under(_node(record), after=after, limit=size)
    following = handles[-1].suffix if len(handles) == size else None
    identifiers = [_identifier_json(handle) for handle in handles if not handle.deleted]
    return _ok({"identifiers": identifiers, "next": following}, checkpoint)


@router.get("/prefixes/{prefix}/history", response_model=HistoryResponse, responses=ERRORS)
async def prefix_history(
    request: Request,
    prefix: str,
    after: str | None = Query(None, description="A previous page's next: block.log"),
    limit: str | None = LIMIT,
) -> Response:
    """A prefix's changes, oldest first."""
    state = state_of(request)
    record, checkpoint = _prefix(state, prefix)
    cursor = parse_cursor(after, 2)
    size = parse_limit(limit, state.lookup.settings)
    entries = state.lookup.reader.prefix_history(
        _node(record), after=None if cursor is None else (cursor[0], cursor[1]), limit=size
    )
    following = None
    if len(entries) == size:
        following = ".".join(str(part) for part in history_position(entries[-1])[:2])
    return _ok({"entries": [_history_json(entry) for entry in entries], "next": following}, checkpoint)


@router.get("/prefixes/{prefix}/templates", response_model=TemplateList, responses=ERRORS)
async def prefix_templates(request: Request, prefix: str) -> Response:
    """Every template registered under a prefix."""
    state = state_of(request)
    record, checkpoint = _prefix(state, prefix)
    templates = state.lookup.reader.templates_of(_node(record))
    return _ok({"templates": [_template_json(template) for template in templates]}, checkpoint)


def _template_json(template: Any) -> dict[str, Any]:
    document: dict[str, Any] = template.to_json()
    document["provenance"] = render.provenance_json(template.provenance)
    return document


@router.get("/owners/{address}/prefixes", response_model=PrefixPage, responses=ERRORS)
async def owner_prefixes(
    request: Request,
    address: str,
    after: str | None = Query(None, description="A previous page's next (a node id)"),
    limit: str | None = LIMIT,
) -> Response:
    """The prefixes an address owns, in node order."""
    state = state_of(request)
    owner = parse_address(address)
    cursor = None if after is None else parse_hex32(after, "after")
    size = parse_limit(limit, state.lookup.settings)
    checkpoint = state.lookup.checkpoint()
    records = state.lookup.reader.owner_prefixes(owner, after=cursor, limit=size)
    now = 0 if checkpoint is None else checkpoint.timestamp
    return _ok(_prefix_page(records, size, now, "node"), checkpoint)


@router.get("/templates/{template_id}", response_model=TemplateResponse, responses=ERRORS)
async def template(request: Request, template_id: str) -> Response:
    """A template: its prefix, name, version and fields."""
    state = state_of(request)
    identifier = parse_hex32(template_id, "template id")
    checkpoint = state.lookup.checkpoint()
    record = state.lookup.reader.template(identifier)
    if record is None:
        raise _not_found("template not found", checkpoint)
    document = {"template": _template_json(record), "provenance": render.provenance_json(record.provenance)}
    return _ok(document, checkpoint)


def _batch(state: ResolverState, batch_id: str) -> tuple[Any, int, Checkpoint | None]:
    number = parse_uint(batch_id, "batch id")
    checkpoint = state.lookup.checkpoint()
    info = state.lookup.reader.batch(number)
    if info is None:
        raise _not_found(f"batch {number} not found", checkpoint)
    return info, number, checkpoint


@router.get("/batches/{batch_id}", response_model=BatchResponse, responses=ERRORS)
async def batch(request: Request, batch_id: str) -> Response:
    """A batch: its prefix, registrant, Merkle root, record count, accepted and duplicate records."""
    state = state_of(request)
    info, _, checkpoint = _batch(state, batch_id)
    document: dict[str, Any] = info.to_json()
    document["provenance"] = render.provenance_json(info.provenance)
    return _ok({"batch": document, "provenance": document["provenance"]}, checkpoint)


@router.get("/batches/{batch_id}/proof/{record_index}", response_model=ProofResponse, responses=ERRORS)
async def batch_proof(request: Request, batch_id: str, record_index: str) -> Response:
    """A batch record's Merkle proof, leaf and root (verify with idfuse_sdk.merkle.verify)."""
    state = state_of(request)
    info, number, checkpoint = _batch(state, batch_id)
    position = parse_uint(record_index, "record index", bits=32)
    proof = state.lookup.reader.batch_proof(number, position)
    if proof is None:
        raise _not_found(f"batch {number} has no record {position}", checkpoint)
    leaf = state.lookup.reader.batch_node(number, 0, position)
    if leaf is None:  # the record is in the batch, so its leaf must be stored
        raise IndexCorruptError(f"merkle leaf {position} of batch {number} is missing")
    document = {
        "batch_id": number,
        "record_index": position,
        "leaf": "0x" + leaf.hex(),
        "proof": ["0x" + node.hex() for node in proof],
        "root": info.root,
        "provenance": render.provenance_json(info.provenance),
    }
    return _ok(document, checkpoint)


@router.get("/checkpoint", response_model=CheckpointResponse)
async def checkpoint(request: Request) -> Response:
    """The indexed block, the chain binding, the lag behind the chain head when known, and
    whether the chain endpoint a replica follows answers."""
    state = state_of(request)
    current = state.lookup.checkpoint()
    chain = state.lookup.reader.chain()
    head = state.head()
    lag = lag_of(head, current)
    counts = state.lookup.reader.counts()
    document = {
        "chain": None if chain is None else chain.to_json(),
        "head": head,
        "lag": lag,
        "counts": counts.to_json(),
        "endpoint": state.endpoint(),
    }
    return _ok(document, current)
