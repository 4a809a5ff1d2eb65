"""JSON-RPC error codes, as the Ethereum execution-apis spec and EIP-1474 use them."""

from __future__ import annotations

from typing import Any, Final

from idfuse_node.exceptions import IdfuseNodeError

PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602
INTERNAL_ERROR: Final = -32603
SERVER_ERROR: Final = -32000
LIMIT_EXCEEDED: Final = -32005
EXECUTION_REVERTED: Final = 3


class RpcError(IdfuseNodeError):
    """A JSON-RPC request failed; ``code``, ``message`` and ``data`` go back to the client as
    the response's ``error`` member.

    Raised by the method handlers and parameter checks of :mod:`idfuse_node.rpc`. Fix: the
    message says which parameter or state refused the request.
    """

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        """The JSON-RPC ``error`` object."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def invalid_params(message: str) -> RpcError:
    """A -32602 error."""
    return RpcError(INVALID_PARAMS, message)


def server_error(message: str) -> RpcError:
    """A -32000 error."""
    return RpcError(SERVER_ERROR, message)


def limit_exceeded(message: str) -> RpcError:
    """A -32005 error (EIP-1474 "limit exceeded"): the request asks for more than this node
    answers at once."""
    return RpcError(LIMIT_EXCEEDED, message)
