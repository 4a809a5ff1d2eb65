"""How a running node is doing, asked over HTTP at the URLs its ``endpoints.json`` names:
the head block and validators (JSON-RPC), the indexed block, lag and counts (the resolver's
``/v1/checkpoint``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final

import httpx

from idfuse_node.datadir import DataDir, read_endpoints
from idfuse_node.exceptions import EndpointsNotFoundError, NodeNotRunningError

__all__ = ["NodeStatus", "node_status"]

TIMEOUT: Final = 5.0
PEERS: Final = 0
"""A fusion node is a single validator: it has no peers."""


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """What ``idfuse node status`` reports."""

    rpc_url: str
    resolver_url: str | None
    chain_id: int | None
    head: int
    validators: list[str]
    peers: int
    indexed: int | None
    lag: int | None
    counts: dict[str, int] | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def node_status(directory: DataDir, *, timeout: float = TIMEOUT) -> NodeStatus:
    """Ask the node of ``directory`` how it is doing.

    :raises NodeNotRunningError: no ``endpoints.json``, or its JSON-RPC URL (or resolver URL)
        does not answer.
    :raises EndpointsError: ``endpoints.json`` is malformed.
    """
    try:
        endpoints = read_endpoints(directory.endpoints)
    except EndpointsNotFoundError:
        raise NodeNotRunningError(f"no node is running at {directory.root} (no endpoints.json)") from None
    rpc_url = endpoints.get("rpc_url")
    if rpc_url is None:
        raise NodeNotRunningError(f"no node is running at {directory.root} (endpoints.json names no rpc_url)")
    resolver_url = endpoints.get("resolver_url")
    with httpx.Client(timeout=timeout) as client:
        try:
            head = int(_rpc(client, rpc_url, "eth_blockNumber", []), 16)
            validators = list(_rpc(client, rpc_url, "qbft_getValidatorsByBlockNumber", ["latest"]))
        except (httpx.TransportError, ValueError, KeyError, TypeError):
            raise NodeNotRunningError(f"no node is running at {rpc_url}") from None
        indexed = lag = None
        counts: dict[str, int] | None = None
        if resolver_url is not None:
            try:
                answer = client.get(f"{resolver_url}/v1/checkpoint")
            except httpx.TransportError:
                raise NodeNotRunningError(f"no resolver is running at {resolver_url}") from None
            if answer.status_code != 200:
                raise NodeNotRunningError(f"the resolver at {resolver_url} answered {answer.status_code}")
            document = answer.json()
            checkpoint = document.get("checkpoint")
            indexed = None if checkpoint is None else int(checkpoint["block_number"])
            lag = None if indexed is None else max(head - indexed, 0)
            counts = dict(document.get("counts") or {})
    return NodeStatus(
        rpc_url, resolver_url, endpoints.get("chain_id"), head, validators, PEERS, indexed, lag, counts
    )


def _rpc(client: httpx.Client, url: str, method: str, params: list[Any]) -> Any:
    answer = client.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    body = answer.json()
    if "error" in body:
        raise NodeNotRunningError(f"{url} answered {method} with an error: {body['error'].get('message')}")
    return body["result"]
