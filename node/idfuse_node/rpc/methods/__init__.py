"""The JSON-RPC methods, one module per area; each module's ``METHODS`` maps a method name to a
handler ``(context, params) -> result``, and its ``PARAMS`` the same names to their positional
parameters (:class:`~idfuse_node.rpc.schema.Param`), from which the OpenAPI document is made."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from idfuse_node.rpc.context import RpcContext
from idfuse_node.rpc.schema import Param

Handler = Callable[[RpcContext, Any], Any]


def all_methods() -> Mapping[str, Handler]:
    """Every method the node serves."""
    from idfuse_node.rpc.methods import blocks, chain, logs, proof, qbft, state, txs

    table: dict[str, Handler] = {}
    for module in (chain, state, blocks, txs, logs, proof, qbft):
        table.update(module.METHODS)
    return table


def all_params() -> Mapping[str, tuple[Param, ...]]:
    """The positional parameters of every method the node serves."""
    from idfuse_node.rpc.methods import blocks, chain, logs, proof, qbft, state, txs

    table: dict[str, tuple[Param, ...]] = {}
    for module in (chain, state, blocks, txs, logs, proof, qbft):
        table.update(module.PARAMS)
    return table
