"""eth_getLogs: address and topic filters over a block range or one block hash, at most
:data:`MAX_BLOCK_RANGE` blocks and ``RpcContext.max_log_results`` logs a request."""

from __future__ import annotations

from typing import Any, Final

from eth.abc import BlockHeaderAPI
from eth_bloom.bloom import BloomFilter

from idfuse_node.rpc import params as p
from idfuse_node.rpc.context import RpcContext
from idfuse_node.rpc.errors import invalid_params, limit_exceeded
from idfuse_node.rpc.format import BlockLog
from idfuse_node.rpc.methods import Handler
from idfuse_node.rpc.params import BlockRef
from idfuse_node.rpc.schema import FILTER, Param

MAX_BLOCK_RANGE: Final = 10_000
MAX_TOPICS: Final = 4
FILTER_FIELDS: Final = ("fromBlock", "toBlock", "address", "topics", "blockHash")

TopicFilter = tuple[frozenset[bytes] | None, ...]


def _addresses(value: Any) -> frozenset[bytes] | None:
    if value is None:
        return None
    if isinstance(value, list):
        if not value:
            return None
        return frozenset(p.address(item, f"address[{i}]") for i, item in enumerate(value))
    return frozenset({p.address(value)})


def _topics(value: Any) -> TopicFilter:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise invalid_params("topics must be an array")
    if len(value) > MAX_TOPICS:
        raise invalid_params(f"topics has {len(value)} positions, at most {MAX_TOPICS}")
    positions: list[frozenset[bytes] | None] = []
    for i, item in enumerate(value):
        if item is None:
            positions.append(None)
        elif isinstance(item, list):
            choices = [p.hash32(t, f"topics[{i}][{j}]") for j, t in enumerate(item) if t is not None]
            has_null = any(t is None for t in item)
            positions.append(None if has_null or not item else frozenset(choices))
        else:
            positions.append(frozenset({p.hash32(item, f"topics[{i}]")}))
    return tuple(positions)


def _bloom_may_match(bloom: BloomFilter, addresses: frozenset[bytes] | None, topics: TopicFilter) -> bool:
    if addresses is not None and not any(a in bloom for a in addresses):
        return False
    return all(choices is None or any(t in bloom for t in choices) for choices in topics)


def _matches(log: BlockLog, addresses: frozenset[bytes] | None, topics: TopicFilter) -> bool:
    if addresses is not None and log.address not in addresses:
        return False
    if len(topics) > len(log.topics):
        return False
    return all(
        choices is None or topic in choices for topic, choices in zip(log.topics, topics, strict=False)
    )


def _block_logs(
    ctx: RpcContext, header: BlockHeaderAPI, addresses: frozenset[bytes] | None, topics: TopicFilter
) -> list[dict[str, Any]]:
    if not header.bloom or not _bloom_may_match(BloomFilter(header.bloom), addresses, topics):
        return []
    logs = ctx.logs(header)
    if addresses is None and not topics:
        return [log.json for log in logs]
    return [log.json for log in logs if _matches(log, addresses, topics)]


def _bound(ctx: RpcContext, value: Any, title: str) -> int:
    ref = BlockRef(tag="latest") if value is None else p.block_ref(value, title, allow_hash=False)
    if ref.number is not None:
        return ref.number
    return ctx.header(ref).block_number


def get_logs(ctx: RpcContext, params: Any) -> list[dict[str, Any]]:
    (filter_value,) = p.positional(params, ("filter",), 1)
    criteria = p.obj(filter_value, "filter", FILTER_FIELDS)
    addresses = _addresses(criteria.get("address"))
    topics = _topics(criteria.get("topics"))
    if criteria.get("blockHash") is not None:
        if criteria.get("fromBlock") is not None or criteria.get("toBlock") is not None:
            raise invalid_params("filter takes blockHash or fromBlock/toBlock, not both")
        header = ctx.header(BlockRef(hash=p.hash32(criteria["blockHash"], "blockHash")))
        at = int(header.block_number)
        return _capped(ctx, _block_logs(ctx, header, addresses, topics), at, at)
    start = _bound(ctx, criteria.get("fromBlock"), "fromBlock")
    end = _bound(ctx, criteria.get("toBlock"), "toBlock")
    if start > end:
        raise invalid_params(f"fromBlock {start} is after toBlock {end}")
    if end - start + 1 > MAX_BLOCK_RANGE:
        raise invalid_params(
            f"block range {start}-{end} spans {end - start + 1} blocks, "
            f"at most {MAX_BLOCK_RANGE}: split the query"
        )
    end = min(end, ctx.ledger.head().block_number)
    logs: list[dict[str, Any]] = []
    for number in range(start, end + 1):
        logs.extend(_block_logs(ctx, ctx.header_by_number(number), addresses, topics))
        _capped(ctx, logs, start, end)
    return logs


def _capped(ctx: RpcContext, logs: list[dict[str, Any]], start: int, end: int) -> list[dict[str, Any]]:
    """``logs``, unless they are more than one answer may hold."""
    if len(logs) > ctx.max_log_results:
        raise limit_exceeded(
            f"query returned more than {ctx.max_log_results} results in blocks {start}-{end}: "
            "narrow the block range or the filter"
        )
    return logs


METHODS: dict[str, Handler] = {"eth_getLogs": get_logs}


PARAMS: dict[str, tuple[Param, ...]] = {"eth_getLogs": (Param("filter", FILTER),)}
