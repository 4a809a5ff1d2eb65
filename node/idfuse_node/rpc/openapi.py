"""The OpenAPI 3.1 document of the JSON-RPC endpoint, made from the methods the dispatcher serves
and their declared parameters (each method module's ``PARAMS``), served at ``GET /openapi.json``.

One operation, ``POST /``: the body is a JSON-RPC 2.0 request whose ``method`` is one of the
served methods and whose ``params`` is that method's positional parameters (a tuple schema), or
a batch of such requests. The answers the server gives: 200 with a response object (``result``
or ``error``) or an array of them, 204 when every call was a notification, 413 with an error
object when the body is over the size limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from idfuse_node.rpc.schema import COMPONENTS, Param, Schema, ref

OPENAPI_PATH: Final = "/openapi.json"
UNDECLARED: Final[Schema] = {"type": "array", "description": "parameters not declared"}

_ENVELOPE: Final[dict[str, Schema]] = {
    "JsonRpcVersion": {"type": "string", "enum": ["2.0"]},
    "Id": {
        "description": "Echoed in the response; a request without one is a notification (no response)",
        "type": ["string", "number", "null"],
    },
    "Error": {
        "type": "object",
        "description": "-32700 not JSON, -32600 not a request or over a limit, -32601 unknown method, "
        "-32602 bad params, -32000 refused or missing state, -32005 result over a limit, "
        "3 execution reverted (revert data in data)",
        "properties": {"code": {"type": "integer"}, "message": {"type": "string"}, "data": {}},
        "required": ["code", "message"],
        "additionalProperties": False,
    },
    "Success": {
        "type": "object",
        "properties": {"jsonrpc": ref("JsonRpcVersion"), "id": ref("Id"), "result": {}},
        "required": ["jsonrpc", "id", "result"],
        "additionalProperties": False,
    },
    "Failure": {
        "type": "object",
        "properties": {"jsonrpc": ref("JsonRpcVersion"), "id": ref("Id"), "error": ref("Error")},
        "required": ["jsonrpc", "id", "error"],
        "additionalProperties": False,
    },
    "Response": {"anyOf": [ref("Success"), ref("Failure")]},
}


def params_schema(params: tuple[Param, ...]) -> Schema:
    """The ``params`` array: the declared parameters in order, the optional ones at the end."""
    required = sum(1 for param in params if param.required)
    schema: Schema = {"type": "array", "minItems": required, "maxItems": len(params)}
    if params:
        schema["prefixItems"] = [{**param.schema, "title": param.name} for param in params]
    return schema


def request_schema(method: str, params: tuple[Param, ...] | None) -> Schema:
    """A JSON-RPC 2.0 request for ``method``: ``params`` may be left out when none is required."""
    params_value = UNDECLARED if params is None else params_schema(params)
    required = ["jsonrpc", "method"]
    if params is None or any(param.required for param in params):
        required.append("params")
    return {
        "type": "object",
        "title": method,
        "properties": {
            "jsonrpc": ref("JsonRpcVersion"),
            "id": ref("Id"),
            "method": {"type": "string", "enum": [method]},
            "params": params_value,
        },
        "required": required,
    }


def document(
    methods: Iterable[str], params: Mapping[str, tuple[Param, ...]], *, version: str, max_batch: int
) -> dict[str, Any]:
    """The OpenAPI document for ``methods`` (those without declared ``params`` take any array)."""
    names = sorted(methods)
    schemas: dict[str, Schema] = {**COMPONENTS, **_ENVELOPE}
    for name in names:
        schemas[f"Request.{name}"] = request_schema(name, params.get(name))
    schemas["Request"] = {"anyOf": [ref(f"Request.{name}") for name in names]}
    schemas["Batch"] = {"type": "array", "minItems": 1, "maxItems": max_batch, "items": ref("Request")}
    json_rpc = {
        "application/json": {
            "schema": {"anyOf": [ref("Response"), {"type": "array", "items": ref("Response")}]}
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "idfuse ledger JSON-RPC",
            "version": version,
            "description": "Ethereum JSON-RPC 2.0 over HTTP. A call's failure is an error object in a 200 "
            "answer, not an HTTP status.",
        },
        "paths": {
            "/": {
                "post": {
                    "operationId": "jsonRpc",
                    "summary": "A JSON-RPC 2.0 call or a batch of calls",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"anyOf": [ref("Request"), ref("Batch")]}}
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The response, or one per call of a batch",
                            "content": json_rpc,
                        },
                        "204": {"description": "Every call was a notification (no id)"},
                        "413": {
                            "description": "The body is over the size limit (-32600)",
                            "content": {"application/json": {"schema": ref("Failure")}},
                        },
                    },
                }
            },
            OPENAPI_PATH: {
                "get": {
                    "operationId": "openApi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {"schemas": schemas},
    }
