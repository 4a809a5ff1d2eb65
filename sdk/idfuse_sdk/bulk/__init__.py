"""Bulk registration from CSV or JSONL through ``registerBatch``: chunked, journalled,
resumable; see docs/sdk.md ("Bulk registration")."""

from idfuse_sdk.bulk.runner import (
    DEFAULT_CHUNK_SIZE,
    BulkProgress,
    BulkReport,
    ChunkReport,
    abulk_register,
    bulk_flow,
    bulk_register,
)
from idfuse_sdk.bulk.source import SourceRecord, read_source

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "BulkProgress",
    "BulkReport",
    "ChunkReport",
    "SourceRecord",
    "abulk_register",
    "bulk_flow",
    "bulk_register",
    "read_source",
]
