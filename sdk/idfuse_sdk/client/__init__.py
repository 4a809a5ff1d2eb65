"""The idfuse client: enterprise writes, reads and resolution over JSON-RPC and the resolver.

``IdfuseClient`` (blocking) and ``AsyncIdfuseClient`` (asyncio) share every flow of
:class:`~idfuse_sdk.client.base.BaseIdfuseClient`; see docs/sdk.md.
"""

from idfuse_sdk.client.accounts import Account
from idfuse_sdk.client.async_client import AsyncIdfuseClient
from idfuse_sdk.client.results import (
    IdentifierResult,
    PrefixInfo,
    PrefixResult,
    ProposalResult,
    Provenance,
    Resolution,
    ResolvedValue,
    TemplateResult,
    TxResult,
    VoteResult,
)
from idfuse_sdk.client.routing import Chain
from idfuse_sdk.client.sync import IdfuseClient

__all__ = [
    "Account",
    "AsyncIdfuseClient",
    "Chain",
    "IdentifierResult",
    "IdfuseClient",
    "PrefixInfo",
    "PrefixResult",
    "ProposalResult",
    "Provenance",
    "Resolution",
    "ResolvedValue",
    "TemplateResult",
    "TxResult",
    "VoteResult",
]
