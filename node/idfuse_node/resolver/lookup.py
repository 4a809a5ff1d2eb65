"""Resolution over the index: a prefix's availability and referral, and a handle's Handle answer.

:class:`Lookup` is the one place that decides what a name resolves to. A prefix is
*available* when it is registered, its effective status is ``active`` and its effective expiry
(if any) is after the indexed block's time; otherwise its handles are not found, and the answer
says why. A prefix whose service record names other resolvers (not this one) or another chain
or registry is *referred* (docs/resolver.md, "Referrals"). Prefix facts are cached per indexed
block: they change only when the checkpoint does; so are their derived ``HS_ADMIN`` and
``HS_SITE`` values, rendered. A live handle's unfiltered answer is joined from the answer part
the index keeps for it (``v6:answer:``, :mod:`~idfuse_node.indexer.answerpart`), those derived
values and the checkpoint; the handle's record (``v6:handle:``) is read only when there is no
part (deleted, absent, or rendered per request) or the query is filtered. An optional answer
cache (``ResolverSettings.cache_entries``, off by default) keeps answers per indexed block,
keyed by the handle as asked and checked against the exact bytes they were made from (read on
every request): a hit skips parsing the handle and finding its key, never the read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Final

from idfuse_node.indexer import answerpart, schema
from idfuse_node.indexer.reader import IndexReader
from idfuse_node.indexer.records import Checkpoint, HandleRecord, PrefixRecord, ServiceRecord
from idfuse_node.jsonbytes import dumps
from idfuse_node.resolver import render
from idfuse_node.resolver.codes import (
    RC_HANDLE_NOT_FOUND,
    RC_SERVER_NOT_RESP,
    RC_SERVICE_REFERRAL,
)
from idfuse_node.resolver.errors import ResolverHTTPError
from idfuse_node.resolver.fastrender import joined_answer, stored_answer
from idfuse_node.resolver.inbound import HandleQuery
from idfuse_node.resolver.settings import ResolverSettings
from idfuse_sdk.identifiers import checked_handle_key, prefix_node
from idfuse_sdk.types import Prefix

MAX_CACHED_PREFIXES: Final = 65536
MAX_DERIVED_TIMES: Final = 4096
"""Most value times a prefix keeps its derived values rendered for, per checkpoint."""


def normalise_url(url: str) -> str:
    """A resolver URL compared as the base it names: no trailing ``/``, scheme and host lower-cased."""
    scheme, sep, rest = url.strip().partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}{sep}{host.lower()}{slash}{path}".rstrip("/")


def _handle_key(prefix: PrefixRecord, suffix: str) -> bytes:
    """The handle key of ``suffix`` under ``prefix``; the suffix as
    :func:`~idfuse_node.resolver.inbound.parse_handle_text` returns it (checked already)."""
    return checked_handle_key(bytes.fromhex(prefix.node[2:]), suffix.encode("utf-8"))


class _Answers:
    """Rendered answers of unfiltered resolutions at one checkpoint: by handle text, the key
    and the stored bytes (answer part or record) they were made from and the JSON body; and the texts by
    the path as received. Bounded: when full, the oldest entry of each map makes room (under
    handles drawn uniformly from N > the bound, a steady bound/N of answers are hits; emptying
    the whole cache when full, as it once did, averaged half that)."""

    __slots__ = ("at", "by_raw", "by_text", "limit")

    def __init__(self, at: Checkpoint | None, limit: int) -> None:
        self.at = at
        self.limit = limit
        # OrderedDict: dropping the oldest is O(1) (a dict's first key is found by scanning
        # past every slot its earlier deletions left empty)
        self.by_text: OrderedDict[str, tuple[bytes, bytes, bytes]] = OrderedDict()
        self.by_raw: OrderedDict[bytes, str] = OrderedDict()

    def reuse(self, text: str, source: bytes) -> bytes | None:
        """The answer kept for ``text`` if it was made from exactly ``source``."""
        cached = self.by_text.get(text)
        return cached[2] if cached is not None and cached[1] == source else None

    def remember(self, text: str, raw: bytes | None, entry: tuple[bytes, bytes, bytes]) -> None:
        # Only the event loop's thread renders answers (the Handle API is async).
        if self.limit <= 0:
            return
        if text not in self.by_text and len(self.by_text) >= self.limit:
            self.by_text.popitem(last=False)
        self.by_text[text] = entry
        if raw is not None:
            if raw not in self.by_raw and len(self.by_raw) >= self.limit:
                self.by_raw.popitem(last=False)
            self.by_raw[raw] = text


@dataclass(frozen=True, slots=True)
class _CheckpointView:
    """A checkpoint as answers carry it: its JSON document and that document's bytes."""

    checkpoint: Checkpoint | None
    document: dict[str, Any] | None
    raw: bytes

    @classmethod
    def of(cls, checkpoint: Checkpoint | None) -> _CheckpointView:
        document = render.checkpoint_json(checkpoint)
        return cls(checkpoint, document, dumps(document))


@dataclass(frozen=True, slots=True)
class Referral:
    """Where a prefix's handles live instead: other resolvers, and the chain and registry."""

    prefix: str
    resolvers: tuple[str, ...]
    chain_id: int
    registry: str
    other_chain: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "prefix": self.prefix,
            "resolvers": list(self.resolvers),
            "chain_id": self.chain_id,
            "registry": self.registry,
        }


@dataclass(frozen=True, slots=True)
class PrefixState:
    """What resolution needs to know about one prefix at one indexed block."""

    record: PrefixRecord | None
    unavailable: str | None
    """Why its handles are not found (None when they may be)."""
    referral: Referral | None
    local_service: ServiceRecord | None
    """The service record when it names this resolver and chain (it becomes ``HS_SITE``)."""
    derived: dict[int, tuple[bytes, bytes]] = field(default_factory=dict, compare=False)
    """``HS_ADMIN`` and ``HS_SITE`` (or nothing) rendered, by the time they carry."""


class Lookup:
    """Reads for one request at a time; prefix facts cached until the checkpoint moves.

    Thread-safe: the cache is swapped whole under a lock when the checkpoint changes.
    """

    def __init__(self, reader: IndexReader, settings: ResolverSettings) -> None:
        self.reader = reader
        self.settings = settings
        self._self_url = None if settings.resolver_url is None else normalise_url(settings.resolver_url)
        self._lock = threading.Lock()
        self._at: Checkpoint | None = None
        self._at_raw: bytes | None = None
        self._view = _CheckpointView(None, None, b"null")
        """The checkpoint with its JSON and bytes, swapped as one (a request that read another
        checkpoint renders its own)."""
        self._prefixes: dict[str, PrefixState] = {}
        self._answers: _Answers = _Answers(None, settings.cache_entries)
        self._registries: frozenset[str] = frozenset()
        self._chain_id: int | None = None

    def set_resolver_url(self, url: str) -> None:
        """Tell the lookup its own URL once the server has bound its port."""
        self._self_url = normalise_url(url)
        with self._lock:
            self._prefixes = {}
            self._answers = _Answers(self._at, self.settings.cache_entries)

    @property
    def resolver_url(self) -> str | None:
        return self._self_url

    def checkpoint(self) -> Checkpoint | None:
        """The indexed block (re-reads it, and drops cached prefix facts and answers when it moved)."""
        raw = self.reader.store.get(schema.CHECKPOINT_KEY)
        if raw is not None and raw == self._at_raw:
            return self._at
        checkpoint = None if raw is None else Checkpoint.from_bytes(raw)
        if checkpoint != self._at or self._at_raw is None:
            chain = self.reader.chain()
            with self._lock:
                self._at = checkpoint
                self._at_raw = raw
                self._view = _CheckpointView.of(checkpoint)
                self._prefixes = {}
                self._answers = _Answers(checkpoint, self.settings.cache_entries)
                if chain is not None:
                    self._chain_id = chain.chain_id
                    self._registries = frozenset(address.lower() for address in chain.contracts.values())
        return checkpoint

    def prefix_state(self, name: Prefix, checkpoint: Checkpoint | None) -> PrefixState:
        """Availability and referral of the prefix ``name`` (valid) at ``checkpoint``."""
        key = name.lower()
        state = self._prefixes.get(key)
        if state is None:
            state = self._compute(name, checkpoint)
            if len(self._prefixes) < MAX_CACHED_PREFIXES:
                self._prefixes[key] = state
        return state

    def _compute(self, name: Prefix, checkpoint: Checkpoint | None) -> PrefixState:
        record = self.reader.prefix(prefix_node(name))
        if record is None:
            return PrefixState(None, f"prefix {name} is not registered on this chain", None, None)
        if record.effective_status != "active":
            source = record.effective_from or record.prefix
            why = f"prefix {record.prefix} is {record.effective_status}"
            if source.lower() != record.prefix.lower():
                why += f" (its ancestor {source} is {record.effective_status})"
            return PrefixState(record, why, None, None)
        now = 0 if checkpoint is None else checkpoint.timestamp
        if record.effective_expiry != 0 and record.effective_expiry <= now:
            why = f"prefix {record.prefix} expired at {render.iso_time(record.effective_expiry)}"
            if record.expiry != record.effective_expiry:
                why += " (an ancestor's expiry)"
            return PrefixState(record, why, None, None)
        service = record.service
        if service is None:
            return PrefixState(record, None, None, None)
        other_chain = self._chain_id is not None and (
            service.chain_id != self._chain_id or service.registry.lower() not in self._registries
        )
        named = tuple(url for url in service.resolvers if url.strip())
        others = tuple(url for url in named if normalise_url(url) != self._self_url)
        if other_chain or (named and len(others) == len(named)):
            referral = Referral(record.prefix, others, service.chain_id, service.registry, other_chain)
            return PrefixState(record, None, referral, None)
        return PrefixState(record, None, None, service)

    def available_prefix(self, name: Prefix, checkpoint: Checkpoint | None) -> PrefixState:
        """The prefix's state when its handles may be served here.

        :raises ResolverHTTPError: 404 (code 100) when unavailable; a referral (see
            :func:`referral_error`) when referred.
        """
        state = self.prefix_state(name, checkpoint)
        if state.unavailable is not None:
            raise ResolverHTTPError(
                404, RC_HANDLE_NOT_FOUND, state.unavailable, checkpoint=render.checkpoint_json(checkpoint)
            )
        if state.referral is not None:
            raise referral_error(state.referral, checkpoint)
        return state

    def live_handle(
        self, text: str, prefix: Prefix, suffix: str, state: PrefixState, checkpoint: Checkpoint | None
    ) -> HandleRecord:
        """The live record of ``prefix/suffix``.

        :raises ResolverHTTPError: 404 (code 100) when absent or deleted.
        """
        assert state.record is not None
        raw = self._handle_bytes(state.record, suffix)
        return self._live(text, None if raw is None else HandleRecord.from_bytes(raw), checkpoint)

    def _handle_bytes(self, prefix: PrefixRecord, suffix: str) -> bytes | None:
        return self.reader.store.get(schema.HANDLE_PREFIX + _handle_key(prefix, suffix))

    def _live(self, text: str, record: HandleRecord | None, checkpoint: Checkpoint | None) -> HandleRecord:
        if record is None or record.deleted:
            why = "handle not found" if record is None else "handle was deleted"
            extra: dict[str, Any] = {"handle": text, "checkpoint": render.checkpoint_json(checkpoint)}
            if record is not None:
                extra["provenance"] = render.provenance_json(record.provenance)
            raise ResolverHTTPError(404, RC_HANDLE_NOT_FOUND, why, **extra)
        return record

    def handle_answer(
        self,
        text: str,
        prefix: Prefix,
        suffix: str,
        query: HandleQuery,
        checkpoint: Checkpoint | None,
        raw: bytes | None = None,
    ) -> bytes:
        """The JSON body of the Handle REST answer (200) for ``GET /api/handles/{text}`` at
        ``checkpoint`` (as :meth:`checkpoint` read it for this request); ``raw`` is the path's
        handle as received, remembered for :meth:`cached_answer`.

        :raises ResolverHTTPError: not found, unavailable or referred.
        """
        try:
            state = self.available_prefix(prefix, checkpoint)
        except ResolverHTTPError as error:
            error.extra.setdefault("handle", text)
            raise
        assert state.record is not None
        handle_key = _handle_key(state.record, suffix)
        unfiltered = not query.types and not query.indexes
        answers = self._answers
        cacheable = answers.limit > 0 and answers.at is checkpoint and unfiltered
        if unfiltered:
            key = schema.ANSWER_PREFIX + handle_key
            part = self.reader.store.get(key)
            if part is not None:
                body = answers.reuse(text, part) if cacheable else None
                if body is not None:
                    return body
                body = self._kept_answer(text, part, state, checkpoint)
                if body is not None:
                    if cacheable:
                        answers.remember(text, raw, (key, part, body))
                    return body
        key = schema.HANDLE_PREFIX + handle_key
        stored = self.reader.store.get(key)
        body = answers.reuse(text, stored) if cacheable and stored is not None else None
        if body is not None:
            return body
        body = self._answer_body(text, stored, state, checkpoint, query)
        if cacheable and stored is not None:
            answers.remember(text, raw, (key, stored, body))
        return body

    def cached_answer(self, raw: bytes, checkpoint: Checkpoint | None) -> bytes | None:
        """The answer last rendered for the unfiltered ``GET /api/handles/{raw}`` (the path's
        handle as received), if the checkpoint (as :meth:`checkpoint` read it for this request)
        has not moved and what it was made from (the handle's answer part or record) is
        unchanged (it is read again); otherwise None, and the caller resolves as usual."""
        answers = self._answers
        if answers.limit <= 0 or answers.at is not checkpoint:
            return None
        text = answers.by_raw.get(raw)
        cached = None if text is None else answers.by_text.get(text)
        if cached is None or self.reader.store.get(cached[0]) != cached[1]:
            return None
        return cached[2]

    def _kept_answer(
        self, text: str, stored: bytes, state: PrefixState, checkpoint: Checkpoint | None
    ) -> bytes | None:
        """The unfiltered answer joined from the answer part ``stored`` the index keeps for
        the handle (:mod:`~idfuse_node.indexer.answerpart`), the prefix's derived values and
        the checkpoint; None when the part is not as the index writes it."""
        part = answerpart.parse(stored)
        if part is None:
            return None
        stamp = part.newest
        if stamp is None:
            stamp = 0 if checkpoint is None else checkpoint.timestamp
        derived = state.derived.get(stamp)
        if derived is None:
            derived = self._derived(state, stamp)
        admin, site = derived
        return joined_answer(part, text, admin, site, self._view_of(checkpoint).raw)

    def _view_of(self, checkpoint: Checkpoint | None) -> _CheckpointView:
        view = self._view
        return view if view.checkpoint is checkpoint else _CheckpointView.of(checkpoint)

    def _derived(self, state: PrefixState, stamp: int) -> tuple[bytes, bytes]:
        """``HS_ADMIN`` and ``HS_SITE`` (empty when the prefix has no local service) carrying
        ``stamp``, rendered, and kept with the prefix's state."""
        assert state.record is not None
        ttl = self.settings.derived_ttl
        admin = dumps(render.admin_value(state.record, ttl, stamp))
        site = b""
        if state.local_service is not None:
            site = dumps(render.site_value(state.record, state.local_service, ttl, stamp))
        if len(state.derived) >= MAX_DERIVED_TIMES:
            state.derived.clear()
        state.derived[stamp] = (admin, site)
        return admin, site

    def _answer_body(
        self,
        text: str,
        stored: bytes | None,
        state: PrefixState,
        checkpoint: Checkpoint | None,
        query: HandleQuery,
    ) -> bytes:
        """The answer's body: rendered straight from ``stored`` (:mod:`.fastrender`), or, when that
        declines (absent, deleted or malformed), by the strict path, which answers or raises."""
        assert state.record is not None
        frame = render.AnswerFrame(
            state.record,
            state.local_service,
            self.settings.derived_ttl,
            0 if checkpoint is None else checkpoint.timestamp,
            self._view_of(checkpoint).document,
            query.types,
            query.indexes,
        )
        body = None if stored is None else stored_answer(stored, text, frame)
        if body is None:
            record = self._live(text, None if stored is None else HandleRecord.from_bytes(stored), checkpoint)
            body = dumps(render.handle_answer(record, text, frame))
        return body


def referral_error(referral: Referral, checkpoint: Checkpoint | None) -> ResolverHTTPError:
    """The answer for a referred prefix: 307 to the first other resolver (Handle code 302,
    service referral), or 400 with code 301 (server not responsible) when the service record
    names another chain but no resolver to ask."""
    extra: dict[str, Any] = {"referral": referral.to_json(), "checkpoint": render.checkpoint_json(checkpoint)}
    if referral.resolvers:
        error = ResolverHTTPError(
            307,
            RC_SERVICE_REFERRAL,
            f"prefix {referral.prefix} is served by {referral.resolvers[0]}",
            redirect_base=referral.resolvers[0],
            **extra,
        )
    else:
        error = ResolverHTTPError(
            400,
            RC_SERVER_NOT_RESP,
            f"prefix {referral.prefix} lives on chain {referral.chain_id} (registry {referral.registry}),"
            " which this resolver does not index, and names no resolver",
            **extra,
        )
    error.referral = referral
    return error
