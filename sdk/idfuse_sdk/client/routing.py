"""A client that holds several chains: each prefix's subtree goes to the chain that serves it.

The client's own chain (``rpc_url``, ``contracts``) is its *home* chain; ``chains=`` adds others
by chain id (:class:`Chain`). For a handle or a prefix, :class:`RoutingClient` reads the
``PrefixRegistry`` service record of the prefix and then of each ancestor, nearest first, on
the home chain; the first that names a chain (a nonzero ``chainId`` and its
``IdentifierRegistry``) decides. Naming the home chain and its registry keeps the subtree home;
naming a held chain and that chain's registry sends every read, write, ``resolve`` and
``verify`` of the subtree there, carried out by a plain client of that chain (its own
resolver, nonces and trust anchor). Any other record raises a
:class:`~idfuse_sdk.exceptions.RoutingError`. Only the home chain's records route: a held
chain's own service records are not followed.

Each prefix's service record is cached for ``route_ttl`` seconds (60 by default; 0 reads it
on every call); :meth:`RoutingClient.forget_routes` empties the cache, and ``set_service``
through the client forgets the prefix it changed. A client without other chains routes
nothing and reads no service record: it behaves exactly as a one-chain client.

The routed flows run another chain's client's flows with their operations wrapped in
:class:`~idfuse_sdk.client.ops.OnChain`, which the front end hands to that client's transport.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any, Final, Self, TypeVar, cast

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from idfuse_sdk.client.base import read_endpoints_file
from idfuse_sdk.client.ops import Flow, OnChain
from idfuse_sdk.client.verification import AuditingClient, TrustAnchor
from idfuse_sdk.exceptions import (
    ChainMismatchError,
    ClientError,
    ConnectionFailedError,
    RoutingError,
    UnknownChainError,
    ValidationError,
)
from idfuse_sdk.identifiers import parse_handle, prefix_node, validate_prefix

__all__ = ["DEFAULT_ROUTE_TTL", "Chain", "RoutingClient"]

DEFAULT_ROUTE_TTL: Final = 60.0
"""Seconds a prefix's service record is cached for routing."""

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Flow[Any]])


@dataclass(frozen=True)
class Chain:
    """Another chain a client holds: its JSON-RPC URL, its three contracts, optionally its
    resolver (for ``resolve`` and ``verify`` of the prefixes it serves) and the trust anchor
    to verify its blocks with (pinned from its genesis on first use when None)."""

    rpc_url: str
    contracts: Mapping[str, str]
    resolver_url: str | None = None
    trust_anchor: TrustAnchor | None = None

    @classmethod
    def from_endpoints(cls, path_or_dir: str | Path) -> tuple[int, Chain]:
        """The chain id and the chain a node's ``endpoints.json`` (the file or its directory)
        describes.

        :raises ClientError: the file is missing, incomplete or names no ``chain_id``.
        """
        path, endpoints = read_endpoints_file(path_or_dir)
        chain_id = endpoints.get("chain_id")
        if not isinstance(chain_id, int) or isinstance(chain_id, bool) or chain_id < 1:
            raise ClientError(
                f"endpoints file {path} names no chain_id; pass the chain as chains={{id: Chain(...)}}"
            )
        return chain_id, cls(
            endpoints["rpc_url"], dict(endpoints["contracts"]), endpoints.get("resolver_url")
        )


_HANDLE: Final = "handle"
_PREFIX: Final = "prefix"


def _routed(flow: F, kind: str, *, forgets: bool = False, falls_back: bool = False) -> F:
    """``flow`` run on the client of the chain serving its first argument (a handle or a
    prefix, as ``kind`` says). ``forgets``: forget that prefix's route afterwards (the flow
    changes service records). ``falls_back``: when the home chain (or the serving one) cannot
    be reached to route, run on the home chain (whose resolver follows referrals)."""
    subject_name = list(inspect.signature(flow).parameters)[1]

    @wraps(flow)
    def routed(self: RoutingClient, *args: Any, **kwargs: Any) -> Flow[Any]:
        subject = str(args[0] if args else kwargs[subject_name])
        try:
            target = yield from self._serving(subject, kind)
        except ConnectionFailedError:
            if not falls_back:
                raise
            target = self
        if target is self:
            result = yield from flow(self, *args, **kwargs)
        else:
            assert target.chain_id is not None
            result = yield from self._via(target.chain_id, flow(target, *args, **kwargs))
        if forgets:
            self.forget_routes(subject)
        return result

    return cast(F, routed)


class RoutingClient(AuditingClient):
    """The flows of :class:`~idfuse_sdk.client.verification.AuditingClient`, each run on the
    chain that serves its prefix (see the module's documentation). Front ends build it with
    the constructor below and carry :class:`~idfuse_sdk.client.ops.OnChain` operations out on
    ``self.held(chain_id)``'s transport."""

    def __init__(
        self,
        rpc_url: str,
        *,
        trust_anchor: TrustAnchor | None = None,
        chains: Mapping[int, Chain] | None = None,
        route_ttl: float = DEFAULT_ROUTE_TTL,
        **options: Any,
    ) -> None:
        """See :class:`~idfuse_sdk.client.sync.IdfuseClient`; ``options`` are the one-chain
        client's (:class:`~idfuse_sdk.client.base.BaseIdfuseClient`), passed on as given.

        :raises ValidationError: a contract is missing or malformed, a chain id is not positive,
            or ``route_ttl`` is negative.
        """
        super().__init__(rpc_url, **options)
        self.trust_anchor = trust_anchor
        if route_ttl < 0:
            raise ValidationError(f"route_ttl must be 0 or more seconds, not {route_ttl}")
        self.route_ttl = route_ttl
        self._routes: dict[str, tuple[float, tuple[int, str] | None]] = {}
        self._home: Self | None = None
        for chain_id in chains or {}:
            if isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id < 1:
                raise ValidationError(f"a chain id must be a positive integer, not {chain_id!r}")
        held = {
            chain_id: self._sibling(chain.rpc_url, chain.contracts, chain.resolver_url, chain)
            for chain_id, chain in (chains or {}).items()
        }
        self._held: dict[int, Self] = cast(dict[int, Self], held)  # mypy types self in __init__ as the class

    def _sibling(
        self, rpc_url: str, contracts: Mapping[str, str], resolver_url: str | None, chain: Chain | None
    ) -> Self:
        """A one-chain client of this client's type, account and options (front ends take this
        constructor's arguments)."""
        return type(self)(
            rpc_url,
            contracts=dict(contracts),
            resolver_url=resolver_url,
            account=self._account,
            timeout=self.timeout,
            poll_interval=self.poll_interval,
            http_timeout=self.http_timeout,
            trust_anchor=self.trust_anchor if chain is None else chain.trust_anchor,
        )

    @classmethod
    def from_endpoints(
        cls,
        path_or_dir: str | Path | Sequence[str | Path],
        *,
        account: LocalAccount | None = None,
        **options: Any,
    ) -> Self:
        """A client for the node whose ``endpoints.json`` is at ``path_or_dir`` (the file or its
        directory): its RPC URL, contracts and resolver URL; ``options`` as the constructor's.
        Given several, the first is the home chain and the others are held chains, each
        ``endpoints.json`` naming its ``chain_id``.

        :raises ClientError: a file is missing or incomplete, or two name the same chain id.
        """
        if isinstance(path_or_dir, str | Path):
            return super().from_endpoints(path_or_dir, account=account, **options)
        paths = list(path_or_dir)
        if not paths:
            raise ClientError("from_endpoints needs at least one endpoints file")
        _, home = read_endpoints_file(paths[0])
        chains = dict(options.pop("chains", None) or {})
        for path in paths[1:]:
            chain_id, chain = Chain.from_endpoints(path)
            if chain_id in chains or chain_id == home.get("chain_id"):
                raise ClientError(f"two chains with chain id {chain_id} (the second from {path})")
            chains[chain_id] = chain
        return cls(
            home["rpc_url"],
            contracts=home["contracts"],
            resolver_url=home.get("resolver_url"),
            account=account,
            chains=chains,
            **options,
        )

    # --- the chains ------------------------------------------------------------------------------

    @property
    def held_chains(self) -> tuple[int, ...]:
        """The ids of the chains held besides the home chain."""
        return tuple(self._held)

    def held(self, chain_id: int) -> Self:
        """The client of the held chain ``chain_id``.

        :raises UnknownChainError: this client does not hold it.
        """
        try:
            return self._held[chain_id]
        except KeyError:
            raise UnknownChainError(
                f"this client holds no chain {chain_id}", prefix="", chain_id=chain_id, registry=""
            ) from None

    def on(self, chain_id: int | None = None) -> Self:
        """A client of one chain that routes nothing: the home chain's (None, or its id once
        known) or a held chain's. Sharing the account, it keeps its own nonce counter: do not
        write through both at the same moment. Use it to change the home chain's record of a
        prefix whose subtree is served elsewhere, or to run :func:`idfuse_sdk.bulk.bulk_register`
        on the serving chain (``client.on(client.serving_chain(prefix))``).

        :raises UnknownChainError: neither the home chain nor a held one has that id.
        """
        if chain_id is None or (chain_id == self.chain_id and chain_id not in self._held):
            if self._home is None:
                self._home = self._sibling(self.rpc_url, self.contracts, self.resolver_url, None)
            return self._home
        return self.held(chain_id)

    def _siblings(self) -> Iterator[Self]:
        """Every other client this one made (for the front ends' ``close``)."""
        yield from self._held.values()
        if self._home is not None:
            yield self._home

    def forget_routes(self, prefix: str | None = None) -> None:
        """Forget the cached service record of ``prefix`` (the prefix of a handle given), or of
        every prefix when None: the next call reads them from the home chain again."""
        if prefix is None:
            self._routes.clear()
        else:
            self._routes.pop(prefix.partition("/")[0].lower(), None)

    def _via(self, chain_id: int, flow: Flow[T]) -> Flow[T]:
        """Run ``flow`` (a flow of the held client ``chain_id``) with its operations sent to
        that chain's transport."""
        answer: Any = None
        failure: ConnectionFailedError | None = None
        while True:
            try:
                op = flow.send(answer) if failure is None else flow.throw(failure)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            answer, failure = None, None
            try:
                answer = yield OnChain(chain_id, op)
            except ConnectionFailedError as error:
                failure = error

    # --- routing -------------------------------------------------------------------------------

    def flow_serving_chain(self, subject: str) -> Flow[int]:
        """The id of the chain that serves ``subject`` (a handle or a prefix): the home chain's
        unless a service record of its prefix or an ancestor, read on the home chain, names a
        held one."""
        target = yield from self._serving(subject, _HANDLE if "/" in subject else _PREFIX)
        if target is self:  # a held chain's client is connected when it is chosen
            yield from self._connect()
        assert target.chain_id is not None
        return target.chain_id

    def _serving(self, subject: str, kind: str) -> Flow[Self]:
        """The client of the chain serving ``subject``: self, or a held chain's."""
        if not self._held:
            return self
        prefix = parse_handle(subject)[0] if kind == _HANDLE else subject
        validate_prefix(prefix)
        labels = prefix.split(".")
        for depth in range(len(labels), 0, -1):
            name = ".".join(labels[:depth])
            named = yield from self._named_chain(name)
            if named is not None:
                return (yield from self._chain_client(name, *named))
        return self

    def _named_chain(self, prefix: str) -> Flow[tuple[int, str] | None]:
        """The (chain id, IdentifierRegistry) ``prefix``'s service record on the home chain
        names, or None (no record, or one with resolvers only); cached ``route_ttl`` seconds."""
        key = prefix.lower()
        cached = self._routes.get(key)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        (service,) = yield from self._call("PrefixRegistry", "service", prefix_node(prefix))
        _, chain_id, registry = service
        named = None if int(chain_id) == 0 else (int(chain_id), to_checksum_address(registry))
        if self.route_ttl > 0:
            self._routes[key] = (now + self.route_ttl, named)
        return named

    def _chain_client(self, prefix: str, chain_id: int, registry: str) -> Flow[Self]:
        """The client for a subtree whose record (at ``prefix``) names ``chain_id``/``registry``."""
        yield from self._connect()
        facts: dict[str, Any] = {"prefix": prefix, "chain_id": chain_id, "registry": registry}
        named = f"{prefix}'s service record on chain {self.chain_id} names chain {chain_id}"
        home = chain_id == self.chain_id and chain_id not in self._held
        held = self if home else self._held.get(chain_id)
        if held is None:
            held_ids = ", ".join(str(known) for known in self._held) or "none"
            raise UnknownChainError(
                f"{named} (IdentifierRegistry {registry}), which this client does not hold (it holds "
                f"{held_ids} besides its home chain): add it with chains={{{chain_id}: Chain(rpc_url, "
                f"contracts=...)}} or from_endpoints([home, <its endpoints.json>])",
                **facts,
            )
        if registry.lower() != held.contracts["IdentifierRegistry"].lower():
            raise RoutingError(
                f"{named} with IdentifierRegistry {registry}, but the client holds chain {chain_id} "
                f"with {held.contracts['IdentifierRegistry']}",
                **facts,
            )
        if home:
            return self
        if held.chain_id is None:
            yield from self._via(chain_id, held._connect())
        if held.chain_id != chain_id:
            raise ChainMismatchError(
                f"the node held as chain {chain_id} ({held.rpc_url}) serves chain {held.chain_id}", **facts
            )
        return held

    # --- the routed flows ----------------------------------------------------------------------

    flow_register_child = _routed(AuditingClient.flow_register_child, _PREFIX)
    flow_transfer_prefix = _routed(AuditingClient.flow_transfer_prefix, _PREFIX)
    flow_cancel_transfer = _routed(AuditingClient.flow_cancel_transfer, _PREFIX)
    flow_accept_prefix = _routed(AuditingClient.flow_accept_prefix, _PREFIX)
    flow_set_operator = _routed(AuditingClient.flow_set_operator, _PREFIX)
    flow_set_service = _routed(AuditingClient.flow_set_service, _PREFIX, forgets=True)
    flow_set_status = _routed(AuditingClient.flow_set_status, _PREFIX)
    flow_renew = _routed(AuditingClient.flow_renew, _PREFIX)
    flow_prefix = _routed(AuditingClient.flow_prefix, _PREFIX)
    flow_is_operator = _routed(AuditingClient.flow_is_operator, _PREFIX)
    flow_register_template = _routed(AuditingClient.flow_register_template, _PREFIX)
    flow_template = _routed(AuditingClient.flow_template, _PREFIX)
    flow_register_batch = _routed(AuditingClient.flow_register_batch, _PREFIX)
    flow_registered_keys = _routed(AuditingClient.flow_registered_keys, _PREFIX)
    flow_verify_prefix = _routed(AuditingClient.flow_verify_prefix, _PREFIX)
    flow_create_identifier = _routed(AuditingClient.flow_create_identifier, _HANDLE)
    flow_update_identifier = _routed(AuditingClient.flow_update_identifier, _HANDLE)
    flow_delete_identifier = _routed(AuditingClient.flow_delete_identifier, _HANDLE)
    flow_commitment_of = _routed(AuditingClient.flow_commitment_of, _HANDLE)
    flow_version_of = _routed(AuditingClient.flow_version_of, _HANDLE)
    flow_verify = _routed(AuditingClient.flow_verify, _HANDLE)
    flow_resolve = _routed(AuditingClient.flow_resolve, _HANDLE, falls_back=True)
