"""The Handle REST API (HANDLE.NET Technical Manual, "JSON REST API") over the index.

``GET /api/handles/{handle}`` with ``type=`` / ``index=`` filters, ``GET /api/handles?prefix=``
(paged listing, ``totalCount`` as a string as Handle writes it) and ``GET /api/prefixes``. The
answers are built here as bytes so that the raw-ASGI fast path and the FastAPI routes (which
document them in OpenAPI) serve exactly the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from idfuse_node.indexer.records import Checkpoint
from idfuse_node.resolver.answers import Answer, error_answer
from idfuse_node.resolver.codes import RC_OPERATION_NOT_SUPPORTED, RC_SUCCESS
from idfuse_node.resolver.errors import ResolverHTTPError, bad_request
from idfuse_node.resolver.inbound import (
    HandleQuery,
    check_target_size,
    parse_handle_query,
    parse_handle_text,
    parse_page,
    parse_prefix_text,
    parse_query,
    percent_decode,
)
from idfuse_node.resolver.lookup import Lookup
from idfuse_node.resolver.referral import Follower
from idfuse_node.resolver.render import checkpoint_json

HANDLES_PATH: Final = "/api/handles/"
WRITE_REFUSED: Final = (
    "this resolver is read-only: idfuse handles are written on chain, through the registry "
    "contracts (IdentifierRegistry.createIdentifier/updateIdentifier/deleteIdentifier, "
    "registerBatch); use the idfuse SDK or the `idfuse` CLI, which send those transactions"
)


def target(path: str, query_string: bytes) -> str:
    """The request target to repeat at another resolver (path as received, and the query)."""
    return path + ("?" + query_string.decode("latin-1") if query_string else "")


def single_values(pairs: list[tuple[str, str]], names: frozenset[str]) -> dict[str, str]:
    """The query's named parameters, each at most once (others are ignored, as Handle does).

    :raises ResolverHTTPError: a parameter is repeated.
    """
    found: dict[str, str] = {}
    for name, value in pairs:
        if name in names:
            if name in found:
                raise bad_request(f"query parameter {name} is given more than once")
            found[name] = value
    return found


class HandleAPI:
    """The Handle REST answers; every method returns an :class:`Answer`, never raises."""

    def __init__(self, lookup: Lookup, follower: Follower) -> None:
        self.lookup = lookup
        self.follower = follower
        self.settings = lookup.settings

    async def get_handle(
        self,
        raw_handle: bytes | None,
        decoded: str,
        raw_path: str,
        query_string: bytes,
        headers: Mapping[str, str],
    ) -> Answer:
        """``GET /api/handles/{handle}``: ``raw_handle`` is the path after ``/api/handles/`` as
        received (percent-decoded here, once), or None when only the server-decoded ``decoded`` is
        known."""
        checkpoint: Checkpoint | None = None
        read = False  # the checkpoint is read once a request, here or after the handle is parsed
        if raw_handle is not None and not query_string:
            checkpoint, read = self.lookup.checkpoint(), True
            cached = self.lookup.cached_answer(raw_handle, checkpoint)
            if cached is not None:
                return Answer(200, cached)
        path_and_query = target(raw_path, query_string)
        query = HandleQuery()
        try:
            check_target_size(raw_path.encode("latin-1", "replace"), query_string, self.settings)
            text = decoded if raw_handle is None else percent_decode(raw_handle, "the handle")
            query = parse_handle_query(parse_query(query_string, self.settings))
            prefix, suffix = parse_handle_text(text)
            if not read:
                checkpoint = self.lookup.checkpoint()
            return Answer(200, self.lookup.handle_answer(text, prefix, suffix, query, checkpoint, raw_handle))
        except ResolverHTTPError as error:
            return await self.refer_or_fail(error, query.follow, path_and_query, headers)

    async def refer_or_fail(
        self, error: ResolverHTTPError, follow: bool, path_and_query: str, headers: Mapping[str, str]
    ) -> Answer:
        """Follow a referral when asked to (and possible), else render the error."""
        if follow and error.referral is not None and error.referral.resolvers:
            try:
                relayed = await self.follower.follow(
                    error.referral, path_and_query, headers, self.lookup.resolver_url
                )
            except ResolverHTTPError as failure:
                return error_answer(failure, path_and_query)
            media = relayed.headers.pop("content-type", "application/json")
            return Answer(relayed.status, relayed.body, relayed.headers, media)
        return error_answer(error, path_and_query)

    async def list_handles(self, raw_path: str, query_string: bytes, headers: Mapping[str, str]) -> Answer:
        """``GET /api/handles?prefix=P&page=N&pageSize=M``: the prefix's live handles, a page."""
        path_and_query = target(raw_path, query_string)
        follow = False
        try:
            check_target_size(raw_path.encode("latin-1", "replace"), query_string, self.settings)
            params = single_values(
                parse_query(query_string, self.settings), frozenset({"prefix", "page", "pageSize", "follow"})
            )
            follow = params.get("follow") == "true"
            if "prefix" not in params:
                raise bad_request("listing handles needs a prefix: /api/handles?prefix=PREFIX")
            prefix = parse_prefix_text(params["prefix"])
            page = parse_page(params.get("page"), params.get("pageSize"), self.settings)
            checkpoint = self.lookup.checkpoint()
            state = self.lookup.available_prefix(prefix, checkpoint)
            assert state.record is not None
            node = bytes.fromhex(state.record.node[2:])
            handles: list[str] = []
            skipped = 0
            after: str | None = None
            while len(handles) < page.size:
                batch = self.lookup.reader.handles_under(node, after=after, limit=1000)
                for record in batch:
                    if record.deleted:
                        continue
                    if skipped < page.offset:
                        skipped += 1
                    elif len(handles) < page.size:
                        handles.append(record.handle)
                if len(batch) < 1000:
                    break
                after = batch[-1].suffix
            body = {
                "responseCode": RC_SUCCESS,
                "prefix": prefix,
                "totalCount": str(self.lookup.reader.handle_count(node)),
                "page": page.page,
                "pageSize": page.size,
                "handles": handles,
                "checkpoint": checkpoint_json(checkpoint),
            }
            return Answer.of(200, body)
        except ResolverHTTPError as error:
            return await self.refer_or_fail(error, follow, path_and_query, headers)

    def list_prefixes(self, raw_path: str, query_string: bytes) -> Answer:
        """``GET /api/prefixes?page=N&pageSize=M``: every registered prefix name, a page."""
        try:
            check_target_size(raw_path.encode("latin-1", "replace"), query_string, self.settings)
            params = single_values(parse_query(query_string, self.settings), frozenset({"page", "pageSize"}))
            page = parse_page(params.get("page"), params.get("pageSize"), self.settings)
            checkpoint = self.lookup.checkpoint()
            names: list[str] = []
            skipped = 0
            after: str | None = None
            while len(names) < page.size:
                batch = self.lookup.reader.prefixes(after=after, limit=1000)
                for record in batch:
                    if skipped < page.offset:
                        skipped += 1
                    elif len(names) < page.size:
                        names.append(record.prefix)
                if len(batch) < 1000:
                    break
                after = batch[-1].prefix
            body = {
                "responseCode": RC_SUCCESS,
                "totalCount": str(self.lookup.reader.counts().prefixes),
                "page": page.page,
                "pageSize": page.size,
                "prefixes": names,
                "checkpoint": checkpoint_json(checkpoint),
            }
            return Answer.of(200, body)
        except ResolverHTTPError as error:
            return error_answer(error, target(raw_path, query_string))


def write_refused(handle: str | None) -> Answer:
    """PUT, POST or DELETE on ``/api/handles``: 405, Handle code 5 (operation not supported)."""
    body: dict[str, object] = {"responseCode": RC_OPERATION_NOT_SUPPORTED}
    if handle is not None:
        body["handle"] = handle
    body["message"] = WRITE_REFUSED
    return Answer.of(405, body, {"allow": "GET"})
