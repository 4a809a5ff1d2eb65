"""Every custom error of the registry contracts decodes to its own named exception carrying its
arguments; other reverts stay plain ContractRevertErrors."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

import idfuse_sdk.exceptions as exceptions
from idfuse_sdk.contracts.abi import REGISTRY_CONTRACTS
from idfuse_sdk.contracts.artifacts import load
from idfuse_sdk.contracts.errors import ERRORS_BY_NAME, decode_revert, revert_data, revert_error
from idfuse_sdk.exceptions import ClientError, ContractRevertError, PrefixUnauthorized

SAMPLES = {
    "bytes32": b"\x07" * 32,
    "address": "0x1111111111111111111111111111111111111111",
    "string": "88.100",
    "bytes1": b"\x7f",
    "bool": True,
}


def sample(kind: str):
    return SAMPLES.get(kind, 3)  # every other argument is a uint


def declared_errors():
    for contract in REGISTRY_CONTRACTS:
        for entry in load(contract).abi:
            if entry["type"] == "error":
                yield contract, entry


DECLARED = list(declared_errors())


@pytest.mark.parametrize(("contract", "entry"), DECLARED, ids=[entry["name"] for _, entry in DECLARED])
def test_each_custom_error_has_its_own_exception(contract, entry):
    types = [item["type"] for item in entry["inputs"]]
    values = [sample(kind) for kind in types]
    selector = function_signature_to_4byte_selector(f"{entry['name']}({','.join(types)})")
    error = revert_error(selector + encode(types, values), "doing it")
    cls = ERRORS_BY_NAME[entry["name"]]
    assert type(error) is cls
    declaring = {"Consortium": "Consortium", "Prefix": "PrefixRegistry"}
    expected = next((c for p, c in declaring.items() if entry["name"].startswith(p)), "IdentifierRegistry")
    assert error.contract == expected
    declaring = {"Consortium": "Consortium", "Prefix": "PrefixRegistry"}
    expected = next((c for p, c in declaring.items() if entry["name"].startswith(p)), "IdentifierRegistry")
    assert error.contract == expected
    assert cls.__name__ == entry["name"] == error.error_name
    assert getattr(exceptions, entry["name"]) is cls
    assert isinstance(error, ContractRevertError)
    assert isinstance(error, ClientError)
    assert list(error.arguments) == [item["name"] for item in entry["inputs"]]
    shown = decode_revert(selector + encode(types, values))
    assert str(error) == f"doing it: {shown}"
    for item, value in zip(entry["inputs"], values, strict=True):
        assert error.arguments[item["name"]] == value


def test_arguments_are_snake_case_attributes_and_the_class_can_be_raised_directly():
    error = PrefixUnauthorized(node=b"\x01" * 32, caller="0x" + "ab" * 20)
    assert error.node == b"\x01" * 32
    assert (
        str(error)
        == f"PrefixUnauthorized(node=0x{'01' * 32}, caller={to_checksum_address('0x' + 'ab' * 20)})"
    )
    stale = exceptions.IdentifierStaleValues(handle_key=b"\x02" * 32, stored=b"\x03" * 32, given=b"\x04" * 32)
    assert stale.handle_key == b"\x02" * 32
    assert stale.arguments["handleKey"] == b"\x02" * 32


def test_other_reverts_are_plain_and_unknown_names_are_attribute_errors():
    error = revert_error(b"")
    assert type(error) is ContractRevertError
    assert str(error) == "reverted without data"
    assert type(revert_error(b"\xde\xad\xbe\xef")) is ContractRevertError
    with pytest.raises(AttributeError):
        exceptions.NoSuchError  # noqa: B018


def test_revert_data_reads_every_node_shape():
    assert revert_data({"code": 3, "message": "execution reverted", "data": "0x1234"}) == b"\x12\x34"
    assert revert_data({"data": {"data": "0xab"}}) == b"\xab"
    assert revert_data({"data": "Reverted 0xcd"}) == b"\xcd"
    assert revert_data({"message": "no data"}) is None
