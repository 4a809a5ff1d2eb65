"""JSON-RPC 2.0 framing: parse a request body, run each call, and build the response body.

A single request gets a single response, a batch an array (without entries for
notifications); a body that is not JSON is -32700, a request that is not a JSON-RPC 2.0 call
-32600, an unknown method -32601. Handler failures map to the codes the execution-apis spec
uses: :class:`~idfuse_node.rpc.errors.RpcError` as raised, a refusal by the node or py-evm
-32000 with its message, and anything unexpected -32603, logged: never an HTTP 500.

Response bodies are compact JSON written by :func:`idfuse_node.jsonbytes.dumps` (orjson, with
the standard library for integers past 64 bits): the standard library's encoder took ~4 µs a
log of a large ``eth_getLogs`` answer, about half of what a warm node spent serving it.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from typing import Any, Final

from eth.exceptions import PyEVMError
from eth_utils.exceptions import ValidationError as EthValidationError

from idfuse_node.exceptions import IdfuseNodeError, TxPoolError
from idfuse_node.jsonbytes import dumps
from idfuse_node.rpc.context import RpcContext
from idfuse_node.rpc.errors import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    SERVER_ERROR,
    RpcError,
)
from idfuse_node.rpc.methods import Handler, all_methods

MAX_BODY_BYTES: Final = 8 * 1024 * 1024
MAX_BATCH: Final = 1000
MAX_DEPTH: Final = 32
"""Deepest nesting of arrays and objects a body may hold. Ethereum's calls need about six (a
batch of ``eth_call`` with a state override); the fixed bound keeps the answer to a deep body
the same whatever the stack depth of the thread that parses it (a body that exhausts the
parser's stack gets the same -32600)."""
_NO_ID: Final = object()
logger = logging.getLogger(__name__)


def _no_constant(name: str) -> Any:
    """``json.loads`` hook: NaN and Infinity are not JSON (Python would read them, and echo them
    back in an ``id`` as JSON no client can parse)."""
    raise ValueError(f"{name} is not a JSON value")


def _depth(value: object) -> int:
    """How deeply ``value`` nests arrays and objects (0 for a scalar), walked without recursion."""
    deepest, level = 0, [(value, 0)]
    while level:
        item, depth = level.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        level.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _error(request_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}


def error_body(error: RpcError) -> bytes:
    """A response body for a request that failed before any call ran."""
    return dumps(_error(None, error))


class Dispatcher:
    """Runs JSON-RPC request bodies against one :class:`RpcContext`."""

    def __init__(self, context: RpcContext, methods: Mapping[str, Handler] | None = None) -> None:
        self.context = context
        self.methods = dict(all_methods() if methods is None else methods)

    def handle(self, body: bytes) -> bytes | None:
        """The response body for ``body``, or None when it held only notifications."""
        if len(body) > MAX_BODY_BYTES:
            return error_body(
                RpcError(INVALID_REQUEST, f"request body is {len(body)} bytes, at most {MAX_BODY_BYTES}")
            )
        try:
            request = json.loads(body, parse_constant=_no_constant)
        except ValueError as error:
            return error_body(RpcError(PARSE_ERROR, f"parse error: {error}"))
        except RecursionError:  # only nesting exhausts the parser's stack: far past the bound
            return error_body(RpcError(INVALID_REQUEST, f"request nests more than {MAX_DEPTH} levels deep"))
        # a body with no more brackets than the bound cannot nest deeper (a single call's
        # few): only a batch or a deep body is walked
        brackets = body.count(b"[") + body.count(b"{")
        if brackets > MAX_DEPTH and (depth := _depth(request)) > MAX_DEPTH:
            return error_body(
                RpcError(INVALID_REQUEST, f"request nests {depth} levels deep, at most {MAX_DEPTH}")
            )
        if isinstance(request, list):
            if not request:
                return error_body(RpcError(INVALID_REQUEST, "empty batch"))
            if len(request) > MAX_BATCH:
                return error_body(
                    RpcError(INVALID_REQUEST, f"batch holds {len(request)} calls, at most {MAX_BATCH}")
                )
            responses = [r for r in (self.call(item) for item in request) if r is not None]
            return dumps(responses) if responses else None
        response = self.call(request)
        return None if response is None else dumps(response)

    def call(self, request: object) -> dict[str, Any] | None:
        """The response object for one request, or None for a notification."""
        if not isinstance(request, dict):
            return _error(None, RpcError(INVALID_REQUEST, "a request must be a JSON object"))
        request_id = request.get("id", _NO_ID)
        reply_id = None if request_id is _NO_ID else request_id
        if reply_id is not None and (
            isinstance(reply_id, bool)
            or not isinstance(reply_id, str | int | float)
            or (isinstance(reply_id, float) and not math.isfinite(reply_id))  # 1e400 reads as inf
        ):
            return _error(None, RpcError(INVALID_REQUEST, "id must be a string, a number or null"))
        if request.get("jsonrpc") != "2.0":
            return _error(reply_id, RpcError(INVALID_REQUEST, 'jsonrpc must be "2.0"'))
        method = request.get("method")
        if not isinstance(method, str):
            return _error(reply_id, RpcError(INVALID_REQUEST, "method must be a string"))
        handler = self.methods.get(method)
        if handler is None:
            error = RpcError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not available")
            return None if request_id is _NO_ID else _error(reply_id, error)
        try:
            with self.context.lock:
                result = handler(self.context, request.get("params"))
        except RpcError as error:
            response = _error(reply_id, error)
        except TxPoolError as error:
            response = _error(reply_id, RpcError(error.code, error.message))
        except (IdfuseNodeError, PyEVMError, EthValidationError) as error:
            response = _error(reply_id, RpcError(SERVER_ERROR, str(error) or type(error).__name__))
        except Exception as error:
            logger.exception("JSON-RPC %s failed", method)
            response = _error(
                reply_id, RpcError(INTERNAL_ERROR, f"internal error: {type(error).__name__}: {error}")
            )
        else:
            response = {"jsonrpc": "2.0", "id": reply_id, "result": result}
        return None if request_id is _NO_ID else response
