"""Chain identity and fees: web3_clientVersion, net_version, eth_chainId, eth_blockNumber,
eth_syncing, eth_gasPrice, eth_maxPriorityFeePerGas, eth_feeHistory."""

from __future__ import annotations

from typing import Any, Final

from eth.abc import BlockHeaderAPI
from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas

from idfuse_node.rpc import params as p
from idfuse_node.rpc.context import RpcContext
from idfuse_node.rpc.errors import invalid_params
from idfuse_node.rpc.format import effective_gas_price, q
from idfuse_node.rpc.methods import Handler
from idfuse_node.rpc.schema import BLOCK_NUMBER_OR_TAG, UINT63, Param

PRIORITY_FEE: Final = 10**9
"""The tip eth_maxPriorityFeePerGas suggests (1 gwei): blocks are never full here, so any tip
gets in; this one keeps wallets' defaults well above the base fee."""
MAX_FEE_HISTORY_BLOCKS: Final = 1024


def client_version(ctx: RpcContext, params: Any) -> str:
    p.positional(params, (), 0)
    return ctx.client_version


def net_version(ctx: RpcContext, params: Any) -> str:
    p.positional(params, (), 0)
    return str(ctx.chain_id)


def chain_id(ctx: RpcContext, params: Any) -> str:
    p.positional(params, (), 0)
    return q(ctx.chain_id)


def block_number(ctx: RpcContext, params: Any) -> str:
    p.positional(params, (), 0)
    return q(ctx.ledger.head().block_number)


def syncing(ctx: RpcContext, params: Any) -> bool:
    p.positional(params, (), 0)
    return False


def next_base_fee(header: BlockHeaderAPI) -> int:
    """The base fee of the block after ``header``."""
    return calculate_expected_base_fee_per_gas(header)


def gas_price(ctx: RpcContext, params: Any) -> str:
    p.positional(params, (), 0)
    return q(next_base_fee(ctx.ledger.head()) + PRIORITY_FEE)


def max_priority_fee(ctx: RpcContext, params: Any) -> str:
    p.positional(params, (), 0)
    return q(PRIORITY_FEE)


def _rewards(ctx: RpcContext, number: int, percentiles: list[float]) -> list[str]:
    block = ctx.block_by_number(number)
    base_fee = getattr(block.header, "base_fee_per_gas", 0)
    receipts = ctx.receipts(block)
    used = []
    previous = 0
    for transaction, receipt in zip(block.transactions, receipts, strict=True):
        tip = effective_gas_price(transaction, base_fee) - base_fee
        used.append((tip, receipt.gas_used - previous))
        previous = receipt.gas_used
    if not used:
        return [q(0) for _ in percentiles]
    used.sort()
    total = sum(gas for _, gas in used)
    rewards = []
    for percentile in percentiles:
        threshold = total * percentile / 100
        cumulative = 0
        chosen = used[-1][0]
        for tip, gas in used:
            cumulative += gas
            if cumulative >= threshold:
                chosen = tip
                break
        rewards.append(q(chosen))
    return rewards


def fee_history(ctx: RpcContext, params: Any) -> dict[str, Any]:
    count_value, newest_value, percentiles_value = p.positional(
        params, ("blockCount", "newestBlock", "rewardPercentiles"), 2
    )
    if isinstance(count_value, int) and not isinstance(count_value, bool):
        count = count_value
    else:
        count = p.quantity(count_value, "blockCount")
    if not 1 <= count <= MAX_FEE_HISTORY_BLOCKS:
        raise invalid_params(f"blockCount must be 1 to {MAX_FEE_HISTORY_BLOCKS}, got {count}")
    newest = ctx.header(p.block_ref(newest_value, "newestBlock", allow_hash=False))
    percentiles: list[float] | None = None
    if percentiles_value is not None:
        if not isinstance(percentiles_value, list) or not all(
            isinstance(x, int | float) and not isinstance(x, bool) and 0 <= x <= 100
            for x in percentiles_value
        ):
            raise invalid_params("rewardPercentiles must be a list of numbers from 0 to 100")
        if percentiles_value != sorted(percentiles_value):
            raise invalid_params("rewardPercentiles must be in ascending order")
        percentiles = [float(x) for x in percentiles_value]
    oldest = max(0, newest.block_number - count + 1)
    base_fees: list[str] = []
    ratios: list[float] = []
    rewards: list[list[str]] = []
    for number in range(oldest, newest.block_number + 1):
        header = ctx.block_by_number(number).header
        base_fees.append(q(getattr(header, "base_fee_per_gas", 0)))
        ratios.append(header.gas_used / header.gas_limit)
        if percentiles is not None:
            rewards.append(_rewards(ctx, number, percentiles))
    base_fees.append(q(next_base_fee(newest)))
    result: dict[str, Any] = {"oldestBlock": q(oldest), "baseFeePerGas": base_fees, "gasUsedRatio": ratios}
    if percentiles is not None:
        result["reward"] = rewards
    return result


METHODS: dict[str, Handler] = {
    "web3_clientVersion": client_version,
    "net_version": net_version,
    "eth_chainId": chain_id,
    "eth_blockNumber": block_number,
    "eth_syncing": syncing,
    "eth_gasPrice": gas_price,
    "eth_maxPriorityFeePerGas": max_priority_fee,
    "eth_feeHistory": fee_history,
}


PARAMS: dict[str, tuple[Param, ...]] = {
    "web3_clientVersion": (),
    "net_version": (),
    "eth_chainId": (),
    "eth_blockNumber": (),
    "eth_syncing": (),
    "eth_gasPrice": (),
    "eth_maxPriorityFeePerGas": (),
    "eth_feeHistory": (
        Param(
            "blockCount",
            {"anyOf": [UINT63, {"type": "integer", "minimum": 1, "maximum": MAX_FEE_HISTORY_BLOCKS}]},
        ),
        Param("newestBlock", BLOCK_NUMBER_OR_TAG),
        Param(
            "rewardPercentiles",
            {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 100}},
            required=False,
        ),
    ),
}
