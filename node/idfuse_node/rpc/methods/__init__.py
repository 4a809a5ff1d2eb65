"""The JSON-RPC methods, one module per area; each module's ``METHODS`` maps a method name to a
handler ``(context, params) -> result``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from idfuse_node.rpc.context import RpcContext

Handler = Callable[[RpcContext, Any], Any]


def all_methods() -> Mapping[str, Handler]:
    """Every method the node serves."""
    from idfuse_node.rpc.methods import blocks, chain, logs, proof, qbft, state, txs

    table: dict[str, Handler] = {}
    for module in (chain, state, blocks, txs, logs, proof, qbft):
        table.update(module.METHODS)
    return table
