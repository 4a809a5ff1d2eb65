"""Besu's QBFT methods: qbft_getValidatorsByBlockNumber, qbft_getPendingVotes."""

from __future__ import annotations

from typing import Any

from idfuse_node.rpc import params as p
from idfuse_node.rpc.context import RpcContext
from idfuse_node.rpc.format import h
from idfuse_node.rpc.methods import Handler
from idfuse_node.rpc.schema import BLOCK_NUMBER_OR_TAG, Param
from idfuse_sdk.qbft import QbftExtraData


def get_validators_by_block_number(ctx: RpcContext, params: Any) -> list[str]:
    """The validators in the block's extraData: those that commit its child."""
    (block_value,) = p.positional(params, ("block",), 1)
    header = ctx.header(p.block_ref(block_value, allow_hash=False))
    return [h(validator) for validator in QbftExtraData.decode(header.extra_data).validators]


def get_pending_votes(ctx: RpcContext, params: Any) -> dict[str, bool]:
    """Validator votes this node will put in its next proposals: none (voting comes with
    several validators), so an empty map as Besu returns."""
    p.positional(params, (), 0)
    return {}


METHODS: dict[str, Handler] = {
    "qbft_getValidatorsByBlockNumber": get_validators_by_block_number,
    "qbft_getPendingVotes": get_pending_votes,
}


PARAMS: dict[str, tuple[Param, ...]] = {
    "qbft_getValidatorsByBlockNumber": (Param("block", BLOCK_NUMBER_OR_TAG),),
    "qbft_getPendingVotes": (),
}
