"""Pydantic models of every answer, so that the OpenAPI document describes what is served.

The answers themselves are rendered by :mod:`idfuse_node.resolver.render` (bytes, for speed);
these models are their schema. Extra members are allowed where Handle allows them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ProvenanceModel(_Open):
    """Where on chain a fact came from."""

    chain_id: int
    registry: str
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    batch_id: int | None = None
    record_index: int | None = None


class CheckpointModel(_Open):
    """The indexed block an answer was read at."""

    block_number: int
    block_hash: str
    timestamp: str


class ValueData(_Open):
    format: str = Field(description="string, base64, hex, admin or site")
    value: str | dict[str, Any]


class HandleValueModel(_Open):
    """A value in Handle's shape, plus its provenance."""

    index: int
    type: str
    data: ValueData
    ttl: int
    timestamp: str = Field(description="ISO 8601, UTC")
    provenance: ProvenanceModel


class HandleResponse(_Open):
    """``GET /api/handles/{handle}``: responseCode 1 (values) or 200 (no value matched)."""

    responseCode: int  # noqa: N815 - Handle's member name
    handle: str
    values: list[HandleValueModel]
    provenance: ProvenanceModel
    created: ProvenanceModel
    checkpoint: CheckpointModel | None


class ReferralModel(_Open):
    prefix: str
    resolvers: list[str]
    chain_id: int
    registry: str


class ErrorResponse(_Open):
    """Every refusal: a Handle ``responseCode`` and a ``message`` (and, when known, the handle,
    the indexed block, and a referral)."""

    responseCode: int  # noqa: N815
    message: str
    handle: str | None = None
    checkpoint: CheckpointModel | None = None
    referral: ReferralModel | None = None
    provenance: ProvenanceModel | None = None


class HandleListResponse(_Open):
    """``GET /api/handles?prefix=``: a page of the prefix's handles."""

    responseCode: int  # noqa: N815
    prefix: str
    totalCount: str  # noqa: N815 - Handle writes it as a string
    page: int
    pageSize: int  # noqa: N815
    handles: list[str]
    checkpoint: CheckpointModel | None


class PrefixListResponse(_Open):
    """``GET /api/prefixes``: a page of registered prefix names."""

    responseCode: int  # noqa: N815
    totalCount: str  # noqa: N815
    page: int
    pageSize: int  # noqa: N815
    prefixes: list[str]
    checkpoint: CheckpointModel | None


class NativeValue(HandleValueModel):
    permissions: int
    data_hex: str


class ServiceModel(_Open):
    resolvers: list[str]
    chain_id: int
    registry: str


class PrefixModel(_Open):
    """A prefix as the index records it."""

    prefix: str
    node: str
    parent: str
    owner: str
    pending_owner: str | None
    status: str
    effective_status: str
    effective_from: str | None
    expiry: int
    effective_expiry: int
    expired: bool
    operators: list[str]
    service: ServiceModel | None
    metadata_hash: str
    created: ProvenanceModel
    provenance: ProvenanceModel


class PrefixResponse(_Open):
    prefix: PrefixModel
    handle_count: int
    provenance: ProvenanceModel
    checkpoint: CheckpointModel | None


class IdentifierModel(_Open):
    handle: str
    prefix: str
    suffix: str
    handle_key: str
    prefix_node: str
    template: str
    values: list[NativeValue]
    version: int
    commitment: str
    source: str
    created: ProvenanceModel
    provenance: ProvenanceModel


class IdentifierResponse(_Open):
    identifier: IdentifierModel
    prefix_owner: str
    provenance: ProvenanceModel
    checkpoint: CheckpointModel | None


class HistoryEntryModel(_Open):
    event: str
    timestamp: str
    provenance: ProvenanceModel
    detail: dict[str, Any]


class HistoryResponse(_Open):
    """A page of changes, oldest first; ``next`` is the ``after`` of the next page (None: last)."""

    entries: list[HistoryEntryModel]
    next: str | None
    checkpoint: CheckpointModel | None


class PrefixPage(_Open):
    prefixes: list[PrefixModel]
    next: str | None
    checkpoint: CheckpointModel | None


class IdentifierPage(_Open):
    identifiers: list[IdentifierModel]
    next: str | None
    checkpoint: CheckpointModel | None


class TemplateFieldModel(_Open):
    value_type: str
    format: str
    required: bool
    min_length: int
    max_length: int


class TemplateModel(_Open):
    template_id: str
    prefix_node: str
    prefix: str
    name: str
    version: int
    fields: list[TemplateFieldModel]
    provenance: ProvenanceModel


class TemplateResponse(_Open):
    template: TemplateModel
    provenance: ProvenanceModel
    checkpoint: CheckpointModel | None


class TemplateList(_Open):
    templates: list[TemplateModel]
    checkpoint: CheckpointModel | None


class BatchModel(_Open):
    batch_id: int
    prefix_node: str
    prefix: str
    registrant: str
    root: str
    count: int
    records_hash: str
    accepted: int
    duplicates: list[str]
    provenance: ProvenanceModel


class BatchResponse(_Open):
    batch: BatchModel
    provenance: ProvenanceModel
    checkpoint: CheckpointModel | None


class ProofResponse(_Open):
    """A batch record's Merkle proof: fold ``parent(h, sibling)`` from ``leaf`` to ``root``."""

    batch_id: int
    record_index: int
    leaf: str
    proof: list[str]
    root: str
    provenance: ProvenanceModel
    checkpoint: CheckpointModel | None


class ChainModel(_Open):
    chain_id: int
    contracts: dict[str, str]


class EndpointModel(_Open):
    """Whether the chain endpoint the index follows (a replica's) answers, and since when not."""

    reachable: bool
    unreachable_since: str | None


class CheckpointResponse(_Open):
    """The indexed block, the chain the index follows, and how far behind the head it is."""

    checkpoint: CheckpointModel | None
    chain: ChainModel | None
    head: int | None
    lag: int | None
    counts: dict[str, int]
    endpoint: EndpointModel | None


class HealthResponse(_Open):
    status: str
    checkpoint: CheckpointModel | None
    lag: int | None
    endpoint: EndpointModel | None
