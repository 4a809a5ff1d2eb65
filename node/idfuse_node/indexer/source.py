"""The indexer's view of a chain: a synchronous JSON-RPC 2.0 client over one keep-alive
:class:`httpx.Client`.

:class:`ChainSource` asks any EVM endpoint (the embedded ledger, Besu, geth, Hardhat) for the
few things an indexer needs: the chain id, the head and finalized block numbers, block headers
by range, registry logs by range and the transactions that carried batches. Headers and
transactions are fetched with JSON-RPC batch requests, in chunks.

``eth_getLogs`` ranges adapt: when an endpoint refuses a range as too large (-32005 "query
returned more than N results", -32602 "... split the query", the -32000 messages geth, Besu and
Hardhat use) or does not answer in time, the range is halved and asked again; the working size
is remembered, and doubles again after :attr:`ChainSource.grow_after` answered ranges in a row,
up to ``max_range``. :meth:`ChainSource.ranges` hands a follower ranges of the current size.

Transient failures (connection refused or reset, timeouts, HTTP 5xx and 429, JSON-RPC -32603)
are retried with bounded exponential backoff; after the last retry, and at once for any other
JSON-RPC error or a malformed answer, :class:`~idfuse_node.exceptions.ChainSourceError` names
the method and the cause. An outage is logged once: its first failure as a warning (the time
is kept in :attr:`ChainSource.unreachable_since`), the retries after it at debug level, the
first answer after it at info level. Every field of every answer is checked (hex quantities, 32-byte
hashes, 20-byte addresses) before it leaves this module.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx
import orjson
from eth_utils.address import to_checksum_address

from idfuse_node.exceptions import ChainSourceError

log = logging.getLogger("idfuse.indexer")

DEFAULT_TIMEOUT: Final = 30.0
DEFAULT_RETRIES: Final = 5
DEFAULT_BACKOFF: Final = 0.5
MAX_BACKOFF: Final = 30.0
DEFAULT_MAX_RANGE: Final = 2_000
"""Blocks one ``eth_getLogs`` asks for at most (hosted endpoints cap ranges near this)."""
DEFAULT_BATCH_SIZE: Final = 500
"""Calls one JSON-RPC batch request carries at most (the embedded ledger takes 1,000)."""
DEFAULT_GROW_AFTER: Final = 4

INTERNAL_ERROR: Final = -32603
LIMIT_EXCEEDED: Final = -32005
_RANGE_CODES: Final = frozenset({-32000, -32001, -32602, -32600, -32011, -32004})
_RANGE_MESSAGE: Final = re.compile(
    r"more than|too many|too large|range|limit|exceed|split|response size|max results|timeout|timed out",
    re.IGNORECASE,
)
_QUANTITY: Final = re.compile(r"0x[0-9a-fA-F]{1,64}")
_DATA: Final = re.compile(r"0x(?:[0-9a-fA-F]{2})*")


@dataclass(frozen=True, slots=True)
class LogAnswers:
    """``eth_getLogs`` answers as the endpoint sent them: the addresses asked for (EIP-55) and,
    per request, its first and last block and the raw result list."""

    addresses: frozenset[str]
    answers: tuple[tuple[int, int, list[Any]], ...]

    def count(self) -> int:
        """Logs in the answers."""
        return sum(len(answer) for _, _, answer in self.answers)

    def transactions_with(self, address: str, topic: bytes) -> list[bytes]:
        """The hashes of the transactions that emitted a log from ``address`` with topic0
        ``topic``, in answer order, once each, as far as the raw answers tell: a look-ahead
        (a follower fetches a batch's calldata while it applies the range before).
        :meth:`ChainSource.parse_logs` checks every log; one that is malformed is passed over
        here."""
        address, wanted = address.lower(), "0x" + topic.hex()
        found: dict[bytes, None] = {}
        for _, _, answer in self.answers:
            for item in answer:
                try:
                    topics, emitter, tx_hash = item["topics"], item["address"], item["transactionHash"]
                    if topics[0].lower() == wanted and emitter.lower() == address:
                        found[bytes.fromhex(tx_hash[2:])] = None
                except (KeyError, IndexError, TypeError, AttributeError, ValueError):
                    continue
        return list(found)


@dataclass(frozen=True, slots=True)
class BlockHeaderInfo:
    """What the follower needs of a block header."""

    number: int
    hash: bytes
    parent_hash: bytes
    timestamp: int


@dataclass(frozen=True, slots=True)
class RawLog:
    """One log as ``eth_getLogs`` returns it; ``address`` EIP-55 checksummed, hashes raw bytes."""

    address: str
    topics: tuple[bytes, ...]
    data: bytes
    block_number: int
    block_hash: bytes
    tx_hash: bytes
    tx_index: int
    log_index: int
    removed: bool = False


@dataclass(frozen=True, slots=True)
class TxInfo:
    """What the indexer needs of a transaction: who sent it, to what (None for a contract
    creation), with which input, and where it was included (None while pending)."""

    hash: bytes
    sender: str
    to: str | None
    input: bytes
    block_number: int | None


class _TransientError(Exception):
    """A failure worth retrying (internal to this module)."""


class _RangeRefusedError(Exception):
    """The endpoint refused an ``eth_getLogs`` range as too large or too slow (internal)."""


class _RpcReplyError(Exception):
    """A JSON-RPC error answer (internal): its code and message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# --- answer validation ---------------------------------------------------------------------------


def _bad(method: str, what: str) -> ChainSourceError:
    return ChainSourceError(f"{method}: malformed answer: {what}")


@functools.lru_cache(maxsize=4096)
def checksum(address: str | bytes) -> str:
    """``to_checksum_address``, cached: a follower sees the same few addresses in every log,
    and the EIP-55 keccak costs more than the rest of parsing a log."""
    return to_checksum_address(address)


def quantity(value: Any, method: str, title: str) -> int:
    """A hex quantity (``0x1a``) as an int.

    :raises ChainSourceError: ``value`` is not one.
    """
    if not isinstance(value, str) or not _QUANTITY.fullmatch(value):
        raise _bad(method, f"{title} must be a hex quantity, got {value!r:.80}")
    return int(value, 16)


def data(value: Any, method: str, title: str, size: int | None = None) -> bytes:
    """Hex data (``0x…``, whole bytes) as bytes, of ``size`` bytes when given.

    :raises ChainSourceError: ``value`` is not hex data of that size.
    """
    # bytes.fromhex skips ASCII whitespace, so the length check refuses what it skipped: the
    # same strings as _DATA accepts, without a regular expression (logs carry many fields).
    try:
        raw = bytes.fromhex(value[2:]) if type(value) is str and value[:2] == "0x" else None
    except ValueError:
        raw = None
    if raw is None or len(value) != 2 + 2 * len(raw):
        raise _bad(method, f"{title} must be hex data, got {value!r:.80}")
    if size is not None and len(raw) != size:
        raise _bad(method, f"{title} must be {size} bytes, got {len(raw)}")
    return raw


def address(value: Any, method: str, title: str) -> str:
    """A 20-byte address, EIP-55 checksummed.

    :raises ChainSourceError: ``value`` is not 20 bytes of hex.
    """
    return checksum(data(value, method, title, 20))


def _field(obj: Any, name: str, method: str, title: str) -> Any:
    if not isinstance(obj, dict):
        raise _bad(method, f"{title} must be an object, got {type(obj).__name__}")
    if name not in obj:
        raise _bad(method, f"{title} has no field {name!r}")
    return obj[name]


def parse_header(value: Any, method: str, title: str) -> BlockHeaderInfo:
    """A block object's number, hash, parent hash and timestamp."""
    return BlockHeaderInfo(
        number=quantity(_field(value, "number", method, title), method, f"{title}.number"),
        hash=data(_field(value, "hash", method, title), method, f"{title}.hash", 32),
        parent_hash=data(_field(value, "parentHash", method, title), method, f"{title}.parentHash", 32),
        timestamp=quantity(_field(value, "timestamp", method, title), method, f"{title}.timestamp"),
    )


def parse_log(value: Any, method: str, title: str) -> RawLog:
    """A log object.

    Logs come by the thousand: :func:`_parse_log_fast` accepts well-formed ones without building
    a message per field; anything it does not accept goes through :func:`_parse_log_checked`,
    which accepts the same objects and says what is wrong with the others.
    """
    fast = _parse_log_fast(value, {})
    return _parse_log_checked(value, method, title) if fast is None else fast


def _hex_or_none(value: Any, size: int = -1) -> bytes | None:
    """:func:`data` (of ``size`` bytes unless -1), or None instead of an error."""
    if type(value) is not str or value[:2] != "0x":
        return None
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError:
        return None
    if len(value) != 2 + 2 * len(raw) or (size >= 0 and len(raw) != size):
        return None
    return raw


def _hash_memo(value: Any, memo: dict[str, bytes]) -> bytes | None:
    """:func:`_hex_or_none` of a 32-byte hash that recurs across logs (a block hash, an event
    topic, a prefix node), remembered in ``memo``."""
    if type(value) is not str:
        return None
    raw = memo.get(value)
    if raw is None:
        raw = _hex_or_none(value, 32)
        if raw is not None:
            memo[value] = raw
    return raw


@functools.lru_cache(maxsize=4096)
def _address_or_none(value: str) -> str | None:
    """:func:`address` of a string, or None instead of an error (cached: few contracts log)."""
    raw = _hex_or_none(value, 20)
    return None if raw is None else checksum(raw)


@functools.lru_cache(maxsize=4096)
def _quantity_or_none(value: str) -> int | None:
    """:func:`quantity` of a string, or None instead of an error (cached: logs share block
    numbers, and transaction and log indexes repeat from block to block)."""
    return int(value, 16) if _QUANTITY.fullmatch(value) else None


def _parse_log_fast(value: Any, memo: dict[str, bytes]) -> RawLog | None:
    """:func:`_parse_log_checked`'s answer for a log it accepts, or None (then it decides).

    :param memo: Hashes already converted, shared by the logs of one answer.
    """
    if type(value) is not dict:
        return None
    try:
        topics = value["topics"]
        address_value = value["address"]
        number = value["blockNumber"]
        tx_index = value["transactionIndex"]
        log_index = value["logIndex"]
        log_data = _hex_or_none(value["data"])
        block_hash = _hash_memo(value["blockHash"], memo)
        tx_hash = _hex_or_none(value["transactionHash"], 32)
    except KeyError:
        return None
    removed = value.get("removed", False)
    if type(topics) is not list or len(topics) > 4 or type(removed) is not bool:
        return None
    if log_data is None or block_hash is None or tx_hash is None or type(address_value) is not str:
        return None
    if type(number) is not str or type(tx_index) is not str or type(log_index) is not str:
        return None
    block_number = _quantity_or_none(number)
    tx_position = _quantity_or_none(tx_index)
    log_position = _quantity_or_none(log_index)
    if block_number is None or tx_position is None or log_position is None:
        return None
    checksummed = _address_or_none(address_value)
    raw_topics = tuple([_hash_memo(topic, memo) for topic in topics])
    if checksummed is None or None in raw_topics:
        return None
    return RawLog(
        address=checksummed,
        topics=raw_topics,  # type: ignore[arg-type]  # None was ruled out above
        data=log_data,
        block_number=block_number,
        block_hash=block_hash,
        tx_hash=tx_hash,
        tx_index=tx_position,
        log_index=log_position,
        removed=removed,
    )


def _parse_log_checked(value: Any, method: str, title: str) -> RawLog:
    """A log object, each field checked with a message naming it."""
    topics = _field(value, "topics", method, title)
    if not isinstance(topics, list) or len(topics) > 4:
        raise _bad(method, f"{title}.topics must be a list of at most 4 hashes")
    removed = value.get("removed", False)
    if not isinstance(removed, bool):
        raise _bad(method, f"{title}.removed must be a boolean, got {removed!r:.80}")
    return RawLog(
        address=address(_field(value, "address", method, title), method, f"{title}.address"),
        topics=tuple(data(t, method, f"{title}.topics[{i}]", 32) for i, t in enumerate(topics)),
        data=data(_field(value, "data", method, title), method, f"{title}.data"),
        block_number=quantity(_field(value, "blockNumber", method, title), method, f"{title}.blockNumber"),
        block_hash=data(_field(value, "blockHash", method, title), method, f"{title}.blockHash", 32),
        tx_hash=data(_field(value, "transactionHash", method, title), method, f"{title}.transactionHash", 32),
        tx_index=quantity(
            _field(value, "transactionIndex", method, title), method, f"{title}.transactionIndex"
        ),
        log_index=quantity(_field(value, "logIndex", method, title), method, f"{title}.logIndex"),
        removed=removed,
    )


def parse_transaction(value: Any, method: str, title: str) -> TxInfo:
    """A transaction object's hash, sender, recipient, input and block number."""
    to = _field(value, "to", method, title)
    number = value.get("blockNumber")
    return TxInfo(
        hash=data(_field(value, "hash", method, title), method, f"{title}.hash", 32),
        sender=address(_field(value, "from", method, title), method, f"{title}.from"),
        to=None if to is None else address(to, method, f"{title}.to"),
        input=data(_field(value, "input", method, title), method, f"{title}.input"),
        block_number=None if number is None else quantity(number, method, f"{title}.blockNumber"),
    )


def _is_range_refusal(code: int, message: str) -> bool:
    return code == LIMIT_EXCEEDED or (code in _RANGE_CODES and bool(_RANGE_MESSAGE.search(message)))


# --- the client ----------------------------------------------------------------------------------


class ChainSource:
    """A JSON-RPC client for one chain endpoint.

    :param url: The endpoint, ``http://host:port``.
    :param timeout: Seconds to wait for one answer.
    :param retries: Extra attempts after a transient failure (0 = try once).
    :param backoff: Seconds before the first retry; doubled per retry, at most ``max_backoff``.
    :param max_range: Blocks one ``eth_getLogs`` asks for at most; also the starting range.
    :param batch_size: Calls one batch request carries at most.
    :param client: An :class:`httpx.Client` to use (the source then does not close it).
    :param interrupt: Once set, a call waiting to retry gives up at once (a stop request).
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
        max_range: int = DEFAULT_MAX_RANGE,
        batch_size: int = DEFAULT_BATCH_SIZE,
        grow_after: int = DEFAULT_GROW_AFTER,
        client: httpx.Client | None = None,
        interrupt: threading.Event | None = None,
    ) -> None:
        if retries < 0 or backoff < 0 or max_range < 1 or batch_size < 1 or grow_after < 1:
            raise ValueError("retries and backoff must be >= 0; max_range, batch_size, grow_after >= 1")
        self.url = url
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_range = max_range
        self.batch_size = batch_size
        self.grow_after = grow_after
        self._owns_client = client is None
        self._interrupt = interrupt if interrupt is not None else threading.Event()
        self._client = client if client is not None else httpx.Client(timeout=timeout)
        self._timeout = timeout
        self._ids = itertools.count(1)
        self._range = max_range
        self._streak = 0
        self._outage = threading.Lock()
        self.unreachable_since: float | None = None
        """When (``time.time()``) the endpoint last stopped answering; None while it answers."""

    # --- lifecycle

    def close(self) -> None:
        """Close the HTTP client (unless it was given)."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> ChainSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transport

    def _post(self, method: str, payload: Any, *, timeout_refuses_range: bool = False) -> Any:
        """POST ``payload`` and return the decoded JSON body; transport failures and HTTP 5xx
        raise :class:`_TransientError`, other HTTP statuses and non-JSON bodies ChainSourceError."""
        try:
            response = self._client.post(
                self.url, json=payload, headers={"accept": "application/json"}, timeout=self._timeout
            )
        except httpx.TimeoutException as error:
            if timeout_refuses_range:
                raise _RangeRefusedError(f"timed out ({type(error).__name__})") from error
            raise _TransientError(f"timed out ({type(error).__name__})") from error
        except httpx.TransportError as error:
            raise _TransientError(f"{type(error).__name__}: {error}") from error
        if response.status_code >= 500 or response.status_code == 429:
            raise _TransientError(f"HTTP {response.status_code}")
        try:
            # orjson: ~3x json on the megabytes of logs; it reads integers past 64 bits as floats,
            # which no answer validated below takes (quantities are hex strings)
            body = orjson.loads(response.content)
        except (ValueError, RecursionError) as error:
            if response.status_code != 200:
                raise ChainSourceError(f"{method}: HTTP {response.status_code}") from None
            raise _bad(method, f"the body is not JSON ({error})") from None
        if response.status_code != 200 and not isinstance(body, dict | list):
            raise ChainSourceError(f"{method}: HTTP {response.status_code}")
        return body

    def _with_retries(self, method: str, attempt: Any) -> Any:
        """Run ``attempt()`` until it does not raise :class:`_TransientError`, at most
        ``retries + 1`` times, sleeping with exponential backoff in between (giving up at once
        when ``interrupt`` is set)."""
        for number in range(self.retries + 1):
            try:
                result = attempt()
            except _TransientError as error:
                self._failed(method, error)
                if number == self.retries or self._interrupt.is_set():
                    raise ChainSourceError(
                        f"{method}: {error} (gave up after {number + 1} attempts at {self.url})"
                    ) from None
                delay = min(self.backoff * 2**number, self.max_backoff)
                log.debug("%s failed (%s); retrying in %.2f s", method, error, delay)
                self._interrupt.wait(delay)
            except (_RpcReplyError, _RangeRefusedError, ChainSourceError):
                self._answered()  # not the answer wanted, but an answer
                raise
            else:
                self._answered()
                return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _failed(self, method: str, error: _TransientError) -> None:
        """Note a transient failure; the first of an outage is logged as a warning (once: the
        follower's fetching thread calls too)."""
        with self._outage:
            if self.unreachable_since is not None:
                return
            self.unreachable_since = time.time()
        log.warning(
            "the chain endpoint %s is unreachable (%s: %s); retrying until it answers",
            self.url,
            method,
            error,
        )

    def _answered(self) -> None:
        """Note an answer; the first after an outage is logged."""
        if self.unreachable_since is None:  # the common case, without the lock
            return
        with self._outage:
            since, self.unreachable_since = self.unreachable_since, None
        if since is not None:
            log.info("the chain endpoint %s answers again after %.0f s", self.url, time.time() - since)

    @staticmethod
    def _result(method: str, reply: Any, request_id: int) -> Any:
        """The result of one reply object, or its error raised."""
        if not isinstance(reply, dict) or reply.get("jsonrpc") != "2.0":
            raise _bad(method, "the reply is not a JSON-RPC 2.0 response object")
        if reply.get("id") != request_id:
            raise _bad(method, f"the reply has id {reply.get('id')!r:.40}, expected {request_id}")
        if "error" in reply:
            error = reply["error"]
            if (
                not isinstance(error, dict)
                or not isinstance(error.get("code"), int)
                or not isinstance(error.get("message", ""), str)
            ):
                raise _bad(method, "the error is not an object with an integer code")
            code, message = error["code"], error.get("message", "")
            if code == INTERNAL_ERROR:
                raise _TransientError(f"internal error {code}: {message}")
            raise _RpcReplyError(code, message)
        if "result" not in reply:
            raise _bad(method, "the reply has neither result nor error")
        return reply["result"]

    def _call(self, method: str, params: Sequence[Any], *, timeout_refuses_range: bool = False) -> Any:
        """One call with retries; a JSON-RPC error answer raises :class:`_RpcReplyError`."""

        def attempt() -> Any:
            request_id = next(self._ids)
            payload = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": list(params)}
            body = self._post(method, payload, timeout_refuses_range=timeout_refuses_range)
            return self._result(method, body, request_id)

        return self._with_retries(method, attempt)

    def call(self, method: str, params: Sequence[Any], *, timeout_refuses_range: bool = False) -> Any:
        """One JSON-RPC call with retries; the raw result.

        :raises ChainSourceError: the endpoint stayed unreachable, answered an error, or
            answered something that is not a JSON-RPC response.
        """
        try:
            return self._call(method, params, timeout_refuses_range=timeout_refuses_range)
        except _RpcReplyError as error:
            if timeout_refuses_range and _is_range_refusal(error.code, error.message):
                raise _RangeRefusedError(f"{error.code}: {error.message}") from None
            raise ChainSourceError(f"{method}: error {error.code}: {error.message}") from None

    def batch(self, method: str, params_list: Sequence[Sequence[Any]]) -> list[Any]:
        """``method`` once per params, in batch requests of at most ``batch_size`` calls; the
        raw results in order. A chunk with a transient failure is sent again whole.

        :raises ChainSourceError: as :meth:`call`, for any call of the batch.
        """
        results: list[Any] = []
        for start in range(0, len(params_list), self.batch_size):
            chunk = params_list[start : start + self.batch_size]

            def attempt(chunk: Sequence[Sequence[Any]] = chunk) -> list[Any]:
                ids = [next(self._ids) for _ in chunk]
                payload = [
                    {"jsonrpc": "2.0", "id": i, "method": method, "params": list(p)}
                    for i, p in zip(ids, chunk, strict=True)
                ]
                body = self._post(method, payload)
                if isinstance(body, dict):  # the whole batch refused
                    error = body.get("error")
                    if isinstance(error, dict) and error.get("code") == INTERNAL_ERROR:
                        raise _TransientError(f"internal error: {error.get('message')!r:.200}")
                    if isinstance(error, dict):
                        raise ChainSourceError(f"{method}: the batch request was refused: {error!r:.200}")
                    raise _bad(method, "a batch request was answered with a single result")
                if not isinstance(body, list):
                    raise _bad(method, "a batch request was not answered with an array")
                by_id: dict[int, Any] = {}
                for reply in body:
                    if isinstance(reply, dict) and isinstance(reply.get("id"), int):
                        by_id[reply["id"]] = reply
                missing = [i for i in ids if i not in by_id]
                if missing or len(body) != len(ids):
                    raise _bad(method, f"the batch answer holds {len(body)} replies for {len(ids)} calls")
                return [self._result(method, by_id[i], i) for i in ids]

            try:
                results.extend(self._with_retries(method, attempt))
            except _RpcReplyError as error:
                raise ChainSourceError(f"{method}: error {error.code}: {error.message}") from None
        return results

    # --- the chain

    def chain_id(self) -> int:
        """``eth_chainId``."""
        return quantity(self.call("eth_chainId", []), "eth_chainId", "result")

    def head_number(self) -> int:
        """``eth_blockNumber``: the latest block's number."""
        return quantity(self.call("eth_blockNumber", []), "eth_blockNumber", "result")

    def finalized_number(self) -> int | None:
        """The ``finalized`` block's number, or None when the endpoint does not know the tag
        (an error answer, or null).

        :raises ChainSourceError: the endpoint is unreachable or answers something malformed.
        """
        method = "eth_getBlockByNumber"
        try:
            block = self._call(method, ["finalized", False])
        except _RpcReplyError as error:
            log.debug("the endpoint has no finalized block: %s", error)
            return None
        if block is None:
            return None
        return parse_header(block, method, "finalized block").number

    def headers(self, start: int, end: int) -> list[BlockHeaderInfo]:
        """The headers of blocks ``start``…``end`` (inclusive), in order.

        :raises ChainSourceError: a block is missing (beyond the head) or malformed.
        """
        method = "eth_getBlockByNumber"
        numbers = list(range(start, end + 1))
        blocks = self.batch(method, [[hex(n), False] for n in numbers])
        found: list[BlockHeaderInfo] = []
        for number, block in zip(numbers, blocks, strict=True):
            if block is None:
                raise ChainSourceError(f"{method}: block {number} not found (beyond the head?)")
            header = parse_header(block, method, f"block {number}")
            if header.number != number:
                raise _bad(method, f"asked for block {number}, got block {header.number}")
            found.append(header)
        return found

    def transactions(self, hashes: Iterable[bytes]) -> dict[bytes, TxInfo]:
        """The transactions ``hashes`` name, by hash.

        :raises ChainSourceError: a transaction is unknown to the endpoint, or malformed.
        """
        method = "eth_getTransactionByHash"
        wanted = list(dict.fromkeys(bytes(h) for h in hashes))
        answers = self.batch(method, [["0x" + h.hex()] for h in wanted])
        found: dict[bytes, TxInfo] = {}
        for tx_hash, answer in zip(wanted, answers, strict=True):
            if answer is None:
                raise ChainSourceError(f"{method}: transaction 0x{tx_hash.hex()} not found")
            info = parse_transaction(answer, method, f"transaction 0x{tx_hash.hex()}")
            if info.hash != tx_hash:
                raise _bad(method, f"asked for 0x{tx_hash.hex()}, got 0x{info.hash.hex()}")
            found[tx_hash] = info
        return found

    # --- logs and adaptive ranges

    @property
    def range_size(self) -> int:
        """The ``eth_getLogs`` range that last worked (blocks)."""
        return self._range

    def ranges(self, start: int, end: int) -> Iterator[tuple[int, int]]:
        """Consecutive inclusive block ranges covering ``start``…``end``, each as large as the
        current working range when it is taken (so it adapts to what :meth:`logs` learns)."""
        position = start
        while position <= end:
            last = min(end, position + self._range - 1)
            yield position, last
            position = last + 1

    def _succeeded(self, span: int) -> None:
        if span < self._range:
            return
        self._streak += 1
        if self._streak >= self.grow_after and self._range < self.max_range:
            self._range = min(self.max_range, self._range * 2)
            self._streak = 0
            log.info("eth_getLogs range grows to %d blocks", self._range)

    def _refused(self, span: int, reason: str) -> None:
        self._range = max(1, span // 2)
        self._streak = 0
        log.info("eth_getLogs refused %d blocks (%s); range now %d", span, reason, self._range)

    def logs(self, start: int, end: int, addresses: Iterable[str | bytes]) -> list[RawLog]:
        """Every log the ``addresses`` emitted in blocks ``start``…``end`` (inclusive), in
        chain order; ranges the endpoint refuses are split.

        :raises ChainSourceError: the endpoint fails, refuses even a single block, or answers
            a log outside the range or from another address.
        """
        return self.parse_logs(self.fetch_logs(start, end, addresses))

    def fetch_logs(self, start: int, end: int, addresses: Iterable[str | bytes]) -> LogAnswers:
        """:meth:`logs` in two steps: the endpoint's answers, as sent, for :meth:`parse_logs`
        (a follower fetches in one thread and parses in another: the fetching thread then
        mostly waits on the socket and seldom holds the interpreter lock the other needs).

        :raises ChainSourceError: the endpoint fails, refuses even a single block, or answers
            something that is not a list.
        """
        method = "eth_getLogs"
        wanted = sorted({to_checksum_address(a) for a in addresses})
        answers: list[tuple[int, int, list[Any]]] = []
        position = start
        while position <= end:
            span = min(self._range, end - position + 1)
            last = position + span - 1
            criteria = {"fromBlock": hex(position), "toBlock": hex(last), "address": wanted}
            try:
                answer = self.call(method, [criteria], timeout_refuses_range=span > 1)
            except _RangeRefusedError as refusal:
                self._refused(span, str(refusal))
                continue
            if not isinstance(answer, list):
                raise _bad(method, f"the result must be a list, got {type(answer).__name__}")
            answers.append((position, last, answer))
            self._succeeded(span)
            position = last + 1
        return LogAnswers(frozenset(wanted), tuple(answers))

    @staticmethod
    def parse_logs(answers: LogAnswers) -> list[RawLog]:
        """The logs of :meth:`fetch_logs`' answers, checked, in chain order.

        :raises ChainSourceError: a log is malformed, outside its range or from an address
            that was not asked for.
        """
        method = "eth_getLogs"
        allowed = answers.addresses
        found: list[RawLog] = []
        memo: dict[str, bytes] = {}
        for position, last, answer in answers.answers:
            for i, item in enumerate(answer):
                entry = _parse_log_fast(item, memo) or _parse_log_checked(item, method, f"log {i}")
                if not position <= entry.block_number <= last:
                    raise _bad(method, f"log {i} is in block {entry.block_number}, outside {position}-{last}")
                if allowed and entry.address not in allowed:
                    raise _bad(method, f"log {i} comes from {entry.address}, which was not asked for")
                found.append(entry)
        found.sort(key=lambda entry: (entry.block_number, entry.log_index))
        return found
