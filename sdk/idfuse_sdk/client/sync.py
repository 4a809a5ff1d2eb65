"""The synchronous client: web3.py's ``HTTPProvider`` for JSON-RPC and ``httpx.Client`` for the
resolver carry out the flows of :class:`~idfuse_sdk.client.base.BaseIdfuseClient`."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from typing import Any, Self, TypeVar

import httpx
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import Web3Exception
from web3.middleware import ExtraDataToPOAMiddleware

from idfuse_sdk.client.base import copy_docs, transport_reason
from idfuse_sdk.client.ops import Flow, HttpGet, HttpResponse, OnChain, Op, Rpc, Sleep
from idfuse_sdk.client.results import (
    BatchResult,
    IdentifierResult,
    PrefixInfo,
    PrefixResult,
    ProposalResult,
    Resolution,
    TemplateResult,
    TxResult,
    VoteResult,
)
from idfuse_sdk.client.routing import DEFAULT_ROUTE_TTL, Chain, RoutingClient
from idfuse_sdk.client.verification import TrustAnchor, VerificationReport
from idfuse_sdk.encoding import BatchRecord, HandleValue, TemplateField
from idfuse_sdk.exceptions import ClientError, ConnectionFailedError

__all__ = ["IdfuseClient"]

T = TypeVar("T")


class IdfuseClient(RoutingClient):
    """A blocking idfuse client for one chain and, optionally, its resolver.

    ``IdfuseClient(rpc_url, contracts={"Consortium": …, "PrefixRegistry": …,
    "IdentifierRegistry": …}, resolver_url=None, account=None)``; or
    :meth:`from_endpoints` with a node's data directory. Without an account it only reads.
    Every write waits for its receipt (on QBFT, inclusion is finality) and returns a typed
    result; every failure is an :class:`~idfuse_sdk.exceptions.ClientError`.
    """

    def __init__(
        self,
        rpc_url: str,
        *,
        contracts: dict[str, str],
        resolver_url: str | None = None,
        account: LocalAccount | None = None,
        timeout: float = 60.0,
        poll_interval: float = 0.05,
        http_timeout: float = 10.0,
        trust_anchor: TrustAnchor | None = None,
        chains: Mapping[int, Chain] | None = None,
        route_ttl: float = DEFAULT_ROUTE_TTL,
    ) -> None:
        super().__init__(
            rpc_url,
            contracts=contracts,
            resolver_url=resolver_url,
            account=account,
            timeout=timeout,
            poll_interval=poll_interval,
            http_timeout=http_timeout,
            trust_anchor=trust_anchor,
            chains=chains,
            route_ttl=route_ttl,
        )
        self.web3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": http_timeout}))
        self._http = httpx.Client(timeout=http_timeout, follow_redirects=True)

    def close(self) -> None:
        """Close the HTTP connections (the held chains' too)."""
        for sibling in self._siblings():
            sibling.close()
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def connect(self) -> int:
        """Ask the node its chain id (and fee model, extraData length); return the chain id.

        :raises ConnectionFailedError: the node cannot be reached.
        """
        self._run(self._connect())
        assert self.chain_id is not None
        return self.chain_id

    def _run(self, flow: Flow[T]) -> T:
        answer: Any = None
        failure: ClientError | None = None
        while True:
            try:
                op = flow.send(answer) if failure is None else flow.throw(failure)
            except StopIteration as stop:
                self._add_poa_middleware()
                return stop.value  # type: ignore[no-any-return]
            answer, failure = None, None
            try:
                answer = self._do(op)
            except ConnectionFailedError as error:
                failure = error

    def _add_poa_middleware(self) -> None:
        """Once the chain is known to have a long extraData, let ``self.web3`` read its blocks."""
        if self.long_extra_data and not self._poa_added:
            with suppress(ValueError):  # already there
                self.web3.middleware_onion.inject(ExtraDataToPOAMiddleware, name="idfuse_poa", layer=0)
            self._poa_added = True

    def _do(self, op: Op) -> Any:
        if isinstance(op, OnChain):
            target = self.held(op.chain_id)
            answer = target._do(op.op)
            target._add_poa_middleware()
            return answer
        if isinstance(op, Rpc):
            try:
                return self.web3.provider.make_request(op.method, op.params)  # type: ignore[arg-type]
            except (OSError, Web3Exception, ValueError) as error:
                raise ConnectionFailedError(
                    f"cannot reach the JSON-RPC node at {self.rpc_url}: {transport_reason(error)}"
                ) from None
        if isinstance(op, HttpGet):
            try:
                response = self._http.get(op.url, params=list(op.params))
            except httpx.HTTPError as error:
                raise ConnectionFailedError(f"cannot reach {op.url}: {transport_reason(error)}") from None
            try:
                body = response.json()
            except ValueError:
                body = None
            return HttpResponse(response.status_code, body)
        assert isinstance(op, Sleep)
        time.sleep(op.seconds)
        return None

    def propose_top_level_prefix(
        self, label: str, owner: str | bytes | None = None, expiry: int = 0
    ) -> ProposalResult:
        return self._run(self.flow_propose_top_level_prefix(label, owner, expiry))

    def propose_prefix_status(self, prefix: str, status: str) -> ProposalResult:
        return self._run(self.flow_propose_prefix_status(prefix, status))

    def propose_add_member(self, account: str | bytes, organisation: str, role: str) -> ProposalResult:
        return self._run(self.flow_propose_add_member(account, organisation, role))

    def vote(self, proposal_id: int, support: bool = True) -> VoteResult:
        return self._run(self.flow_vote(proposal_id, support))

    def bootstrap_allocate_prefix(
        self, label: str, owner: str | bytes | None = None, expiry: int = 0
    ) -> PrefixResult:
        return self._run(self.flow_bootstrap_allocate_prefix(label, owner, expiry))

    def bootstrap_add_member(self, account: str | bytes, organisation: str, role: str) -> TxResult:
        return self._run(self.flow_bootstrap_add_member(account, organisation, role))

    def register_child(
        self, parent: str, label: str, owner: str | bytes | None = None, expiry: int = 0
    ) -> PrefixResult:
        return self._run(self.flow_register_child(parent, label, owner, expiry))

    def transfer_prefix(self, prefix: str, new_owner: str | bytes) -> PrefixResult:
        return self._run(self.flow_transfer_prefix(prefix, new_owner))

    def cancel_transfer(self, prefix: str) -> PrefixResult:
        return self._run(self.flow_cancel_transfer(prefix))

    def accept_prefix(self, prefix: str) -> PrefixResult:
        return self._run(self.flow_accept_prefix(prefix))

    def set_operator(self, prefix: str, operator: str | bytes, approved: bool = True) -> PrefixResult:
        return self._run(self.flow_set_operator(prefix, operator, approved))

    def set_service(
        self, prefix: str, resolvers: Sequence[str], chain_id: int = 0, registry: str | bytes | None = None
    ) -> PrefixResult:
        return self._run(self.flow_set_service(prefix, resolvers, chain_id, registry))

    def set_status(self, prefix: str, status: str) -> PrefixResult:
        return self._run(self.flow_set_status(prefix, status))

    def renew(self, prefix: str, expiry: int) -> PrefixResult:
        return self._run(self.flow_renew(prefix, expiry))

    def prefix(self, prefix: str) -> PrefixInfo:
        return self._run(self.flow_prefix(prefix))

    def template(self, prefix: str, name: str, version: int) -> tuple[TemplateField, ...] | None:
        return self._run(self.flow_template(prefix, name, version))

    def bootstrap_admin(self) -> str | None:
        return self._run(self.flow_bootstrap_admin())

    def is_operator(self, prefix: str, operator: str | bytes) -> bool:
        return self._run(self.flow_is_operator(prefix, operator))

    def register_template(
        self, prefix: str, name: str, version: int, fields: Sequence[TemplateField]
    ) -> TemplateResult:
        return self._run(self.flow_register_template(prefix, name, version, fields))

    def create_identifier(
        self, handle: str, values: Iterable[HandleValue], template: bytes | tuple[str, int] | None = None
    ) -> IdentifierResult:
        return self._run(self.flow_create_identifier(handle, values, template))

    def update_identifier(
        self, handle: str, upserts: Iterable[HandleValue] = (), removals: Iterable[int] = ()
    ) -> IdentifierResult:
        return self._run(self.flow_update_identifier(handle, upserts, removals))

    def delete_identifier(self, handle: str) -> IdentifierResult:
        return self._run(self.flow_delete_identifier(handle))

    def register_batch(self, prefix: str, records: Iterable[BatchRecord]) -> BatchResult:
        return self._run(self.flow_register_batch(prefix, records))

    def commitment_of(self, handle: str) -> bytes:
        return self._run(self.flow_commitment_of(handle))

    def version_of(self, handle: str) -> int:
        return self._run(self.flow_version_of(handle))

    def resolve(
        self, handle: str, types: Sequence[str] | None = None, indexes: Sequence[int] | None = None
    ) -> Resolution:
        return self._run(self.flow_resolve(handle, types, indexes))

    def suspend(self, prefix: str) -> PrefixResult:
        """Suspend a child prefix (by its parent's owner): ``set_status(prefix, "suspended")``."""
        return self.set_status(prefix, "suspended")

    def resume(self, prefix: str) -> PrefixResult:
        """Reactivate a suspended child prefix: ``set_status(prefix, "active")``."""
        return self.set_status(prefix, "active")

    def verify(self, handle: str, block: int | str = "latest") -> VerificationReport:
        return self._run(self.flow_verify(handle, block))

    def verify_prefix(self, prefix: str, block: int | str = "latest") -> VerificationReport:
        return self._run(self.flow_verify_prefix(prefix, block))

    def serving_chain(self, subject: str) -> int:
        """The id of the chain that serves ``subject`` (a handle or a prefix): the home chain's
        unless its or an ancestor's service record on the home chain names a held chain.

        :raises RoutingError: the record names a chain not held (``UnknownChainError``) or a
            registry other than the held chain's.
        :raises ConnectionFailedError: a JSON-RPC node cannot be reached.
        """
        return self._run(self.flow_serving_chain(subject))

    def pinned_trust_anchor(self) -> TrustAnchor:
        """The trust anchor verification uses, pinned from the genesis block on first use.

        :raises TrustAnchorError: the genesis block is not QBFT's or not the pinned one.
        :raises ConnectionFailedError: the JSON-RPC node cannot be reached.
        """
        return self._run(self.flow_trust_anchor())


copy_docs(IdfuseClient)
