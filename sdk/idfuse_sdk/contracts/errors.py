"""The registry contracts' custom errors as Python exceptions, generated from the ABIs.

Every custom error of ``Consortium``, ``PrefixRegistry`` and ``IdentifierRegistry`` gets one
subclass of :class:`~idfuse_sdk.exceptions.ContractRevertError` named like the error
(``PrefixUnauthorized``, ``IdentifierStaleValues``, …). Its arguments are attributes in snake
case (``handle_key``) and, by ABI name, in ``arguments``; ``str()`` reads like the Solidity
call, ``PrefixUnauthorized(node=0x…, caller=0x…)``. Import them from here or from
``idfuse_sdk.exceptions``::

    from idfuse_sdk.exceptions import PrefixUnauthorized

:func:`revert_error` turns revert data into the right exception; :func:`revert_data` digs the
data out of a JSON-RPC error in the shapes geth, Besu, Hardhat and idfuse's ledger use.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, Final

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import is_address, to_checksum_address

from idfuse_sdk.contracts.abi import REGISTRY_CONTRACTS, abi_type, normalise
from idfuse_sdk.contracts.artifacts import load
from idfuse_sdk.exceptions import ContractRevertError

__all__ = [
    "ERRORS_BY_NAME",
    "ERRORS_BY_SELECTOR",
    "decode_revert",
    "revert_data",
    "revert_error",
]

_ERROR_STRING: Final = function_signature_to_4byte_selector("Error(string)")
_PANIC: Final = function_signature_to_4byte_selector("Panic(uint256)")
_CAMEL: Final = re.compile(r"(?<=[a-z0-9])([A-Z])")


def _snake(name: str) -> str:
    return _CAMEL.sub(r"_\1", name).lower()


def _show(value: object) -> str:
    if isinstance(value, str) and is_address(value):
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return repr(value) if isinstance(value, str) else str(value)


def _init(
    self: ContractRevertError, message: str | None = None, *, data: bytes = b"", **arguments: Any
) -> None:
    names = type(self).argument_names  # type: ignore[attr-defined]
    by_abi = {abi: arguments[snake] for abi, snake in names if snake in arguments}
    shown = ", ".join(f"{abi}={_show(value)}" for abi, value in by_abi.items())
    ContractRevertError.__init__(
        self, message or f"{type(self).error_name}({shown})", data=data, arguments=by_abi
    )
    for _, snake in names:
        setattr(self, snake, arguments.get(snake))


def _make(contract: str, entry: dict[str, Any]) -> type[ContractRevertError]:
    inputs = entry.get("inputs", [])
    names = tuple(
        (str(item.get("name") or f"arg{i}"), _snake(str(item.get("name") or f"arg{i}")))
        for i, item in enumerate(inputs)
    )
    notice = f"``{entry['name']}`` of ``{contract}``: see its NatSpec in contracts/src."
    namespace = {
        "__doc__": notice,
        "__init__": _init,
        "__module__": __name__,
        "error_name": entry["name"],
        "contract": contract,
        "argument_names": names,
        "argument_types": tuple(abi_type(item) for item in inputs),
    }
    return type(str(entry["name"]), (ContractRevertError,), namespace)


def _declaring_contract(name: str, listed_by: str) -> str:
    """The contract whose interface declares error ``name``: an ABI also lists the errors of
    the contracts and libraries it calls (the Consortium's lists PrefixRegistry's), so the
    name's domain prefix decides (``Consortium…``, ``Prefix…``; every other one is the
    IdentifierRegistry's)."""
    if name.startswith("Consortium"):
        return "Consortium"
    if name.startswith("Prefix"):
        return "PrefixRegistry"
    return "IdentifierRegistry" if listed_by != "Consortium" else listed_by


@cache
def _registry() -> tuple[dict[bytes, type[ContractRevertError]], dict[str, type[ContractRevertError]]]:
    by_selector: dict[bytes, type[ContractRevertError]] = {}
    by_name: dict[str, type[ContractRevertError]] = {}
    for contract in REGISTRY_CONTRACTS:
        for entry in load(contract).abi:
            if entry.get("type") != "error" or entry["name"] in by_name:
                continue
            cls = _make(_declaring_contract(entry["name"], contract), entry)
            types = ",".join(cls.argument_types)  # type: ignore[attr-defined]
            by_selector[function_signature_to_4byte_selector(f"{entry['name']}({types})")] = cls
            by_name[entry["name"]] = cls
    return by_selector, by_name


ERRORS_BY_SELECTOR: Final = _registry()[0]
"""Every registry custom error's class by its 4-byte selector."""
ERRORS_BY_NAME: Final = _registry()[1]
"""Every registry custom error's class by its name."""


def revert_error(data: bytes, context: str = "") -> ContractRevertError:
    """The exception revert ``data`` stands for: a registry custom error's own class with its
    arguments, else :class:`ContractRevertError` (``Error(string)``, a panic, no data).

    :param context: What was being done, put before the reason (``"registerChild would revert"``).
    """
    lead = f"{context}: " if context else ""
    cls = ERRORS_BY_SELECTOR.get(data[:4])
    if cls is not None:
        try:
            values = decode(list(cls.argument_types), data[4:])  # type: ignore[attr-defined]
        except DecodingError:
            return ContractRevertError(f"{lead}{decode_revert(data)}", data=data)
        arguments = {
            snake: normalise(value)
            for (_, snake), value in zip(cls.argument_names, values, strict=True)  # type: ignore[attr-defined]
        }
        error = cls(None, data=data, **arguments)  # type: ignore[arg-type]  # the generated __init__
        if lead:
            error.args = (lead + str(error),)
        return error
    return ContractRevertError(f"{lead}{decode_revert(data)}", data=data)


def decode_revert(data: bytes) -> str:
    """A readable revert reason: a registry custom error with its arguments
    (``ConsortiumInvalidVotingPeriod(votingPeriod=60)``), ``Error(string)``, ``Panic(code)``,
    or the raw data when nothing matches."""
    if not data:
        return "reverted without data"
    selector, body = data[:4], data[4:]
    try:
        if selector == _ERROR_STRING:
            return f"Error({decode(['string'], body)[0]!r})"
        if selector == _PANIC:
            return f"Panic(0x{decode(['uint256'], body)[0]:02x})"
        cls = ERRORS_BY_SELECTOR.get(selector)
        if cls is not None:
            values = decode(list(cls.argument_types), body)  # type: ignore[attr-defined]
            shown = ", ".join(
                f"{abi}={_show(normalise(value))}"
                for (abi, _), value in zip(cls.argument_names, values, strict=True)  # type: ignore[attr-defined]
            )
            return f"{cls.error_name}({shown})"
    except DecodingError:
        pass
    return f"reverted with data 0x{data.hex()}"


def revert_data(error: Any) -> bytes | None:
    """The revert data a node attached to a failed call or estimate: ``error`` is a JSON-RPC
    error object (a dict) or an exception carrying one in ``data``; the data is a hex string,
    ``"Reverted 0x…"`` or an object with a ``data`` field. None when there is none."""
    data: Any = error.get("data") if isinstance(error, dict) else getattr(error, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("Reverted "):
        data = data[len("Reverted ") :]
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return None
    return None


def __getattr__(name: str) -> type[ContractRevertError]:
    found = ERRORS_BY_NAME.get(name)
    if found is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return found
