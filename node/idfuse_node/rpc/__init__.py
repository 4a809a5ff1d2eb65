"""Ethereum JSON-RPC 2.0 over HTTP for the ledger.

- :mod:`.server`: the ASGI app (one ``POST /``) and :class:`~.server.RpcServer`, uvicorn on
  127.0.0.1 by default.
- :mod:`.dispatch`: JSON-RPC 2.0 framing: single and batch requests, size limits, error codes as
  the Ethereum execution-apis spec uses them.
- :mod:`.params`: every parameter validated at the edge (hex quantities, addresses, hashes,
  block tags); bad input is a -32602 error that says what was wrong.
- :mod:`.methods`: the methods, one module per area.
"""

from idfuse_node.rpc.context import RpcContext
from idfuse_node.rpc.dispatch import Dispatcher
from idfuse_node.rpc.errors import RpcError
from idfuse_node.rpc.server import RpcServer, make_app

__all__ = ["Dispatcher", "RpcContext", "RpcError", "RpcServer", "make_app"]
