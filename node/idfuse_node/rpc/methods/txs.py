"""Transactions: eth_sendRawTransaction (through the pool, whose refusals come back with
their code and reason), eth_getTransactionByHash (pooled ones without a block),
eth_getTransactionReceipt."""

from __future__ import annotations

from typing import Any

from idfuse_node.rpc import params as p
from idfuse_node.rpc.context import RpcContext
from idfuse_node.rpc.errors import server_error
from idfuse_node.rpc.format import format_receipt, format_transaction, h
from idfuse_node.rpc.methods import Handler
from idfuse_node.rpc.schema import DATA, HASH32, Param


def send_raw_transaction(ctx: RpcContext, params: Any) -> str:
    (raw_value,) = p.positional(params, ("transaction",), 1)
    raw = p.data(raw_value, "transaction")
    if ctx.pool is None:
        raise server_error("this node runs no transaction pool; send transactions to a validator")
    return h(ctx.pool.add(raw))


def get_transaction_by_hash(ctx: RpcContext, params: Any) -> dict[str, Any] | None:
    (hash_value,) = p.positional(params, ("transactionHash",), 1)
    tx_hash = p.hash32(hash_value, "transactionHash")
    found = ctx.locate(tx_hash)
    if found is None:
        pooled = None if ctx.pool is None else ctx.pool.get(tx_hash)
        return None if pooled is None else format_transaction(pooled, None, None)
    block, index = found
    return format_transaction(block.transactions[index], block.header, index)


def get_transaction_receipt(ctx: RpcContext, params: Any) -> dict[str, Any] | None:
    (hash_value,) = p.positional(params, ("transactionHash",), 1)
    found = ctx.locate(p.hash32(hash_value, "transactionHash"))
    if found is None:
        return None
    block, index = found
    view = ctx.view(block)
    return format_receipt(block, view.receipts, index, view.first_logs[index])


METHODS: dict[str, Handler] = {
    "eth_sendRawTransaction": send_raw_transaction,
    "eth_getTransactionByHash": get_transaction_by_hash,
    "eth_getTransactionReceipt": get_transaction_receipt,
}


PARAMS: dict[str, tuple[Param, ...]] = {
    "eth_sendRawTransaction": (Param("transaction", DATA),),
    "eth_getTransactionByHash": (Param("transactionHash", HASH32),),
    "eth_getTransactionReceipt": (Param("transactionHash", HASH32),),
}
