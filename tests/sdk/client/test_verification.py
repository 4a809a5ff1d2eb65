"""The verification flows fed a faulty node's answers directly (a flow is plain data in and
out, so no node is needed): a block the flow cannot read is a ChainDataError, never a
KeyError from inside the flow."""

from __future__ import annotations

from typing import Any

import pytest

from idfuse_sdk.client.ops import Flow, HttpGet, HttpResponse, Rpc
from idfuse_sdk.client.verification import AuditingClient, TrustAnchor
from idfuse_sdk.exceptions import ChainDataError, ResolverError, ValidationError

NOT_FOUND = HttpResponse(404, {"message": "not found"})
CONTRACTS = {name: "0x" + "11" * 20 for name in ("Consortium", "PrefixRegistry", "IdentifierRegistry")}


def run(flow: Flow[Any], block: dict[str, Any], resolver: HttpResponse = NOT_FOUND) -> Any:
    """Carry ``flow`` out as a node serving ``block`` and a resolver answering ``resolver``."""
    answer: Any = None
    while True:
        try:
            op = flow.send(answer)
        except StopIteration as stop:
            return stop.value
        if isinstance(op, HttpGet):
            answer = resolver
        else:
            assert isinstance(op, Rpc)
            proof = {"accountProof": [], "storageProof": []}
            answer = {"result": block if op.method == "eth_getBlockByNumber" else proof}


@pytest.mark.parametrize(
    "block",
    [
        {"number": "0x1"},
        {"stateRoot": "0x" + "00" * 32},
        {"number": "0xzz", "stateRoot": "0x00", "hash": "0x"},
    ],
)
@pytest.mark.parametrize("subject", ["77/x", "77"])
def test_a_block_without_header_fields_is_chain_data_error(block: dict[str, Any], subject: str) -> None:
    client = AuditingClient("http://127.0.0.1:1", contracts=CONTRACTS, resolver_url="http://127.0.0.1:2")
    client.trust_anchor = TrustAnchor(validators=(b"\x01" * 20,))
    flow = client.flow_verify(subject) if "/" in subject else client.flow_verify_prefix(subject)
    with pytest.raises(ChainDataError, match="serves block latest malformed"):
        run(flow, block)


def test_a_trust_anchor_takes_bytes_or_hex_and_refuses_anything_else() -> None:
    validator, genesis = b"\xab" * 20, b"\xcd" * 32
    for given in (validator, "0x" + validator.hex(), validator.hex().upper()):
        assert TrustAnchor(validators=(given,), genesis_hash="0x" + genesis.hex()).validators == (validator,)  # type: ignore[arg-type]
    for bad in ("ab" * 20 + "zz", "0x" + "ab" * 19, b"\xab" * 32, 5):
        with pytest.raises(ValidationError, match="a validator must be 20 bytes"):
            TrustAnchor(validators=(bad,))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="genesis_hash must be 32 bytes"):
        TrustAnchor(genesis_hash="cd" * 32 + "cd")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "provenance",
    [
        {"batch_id": "one", "record_index": 0},
        {"batch_id": 1},
        {"batch_id": -1, "record_index": 0},
        {"batch_id": 2**256, "record_index": 0},
        {"batch_id": 1, "record_index": [0]},
    ],
)
def test_a_resolver_stating_no_valid_batch_position_is_a_resolver_error(provenance: dict[str, Any]) -> None:
    client = AuditingClient("http://127.0.0.1:1", contracts=CONTRACTS, resolver_url="http://127.0.0.1:2")
    record = {"values": [], "template": "0x" + "00" * 32, "source": "batch", "provenance": provenance}
    with pytest.raises(ResolverError, match="77/x names no valid batch position"):
        run(client.flow_verify("77/x"), {}, HttpResponse(200, {"identifier": record}))


@pytest.mark.parametrize("record", ["77", ["77"], 7])
def test_a_resolver_answering_a_prefix_with_no_object_is_a_resolver_error(record: object) -> None:
    client = AuditingClient("http://127.0.0.1:1", contracts=CONTRACTS, resolver_url="http://127.0.0.1:2")
    with pytest.raises(ResolverError, match="answer for 77 is malformed"):
        run(client.flow_verify_prefix("77"), {}, HttpResponse(200, {"prefix": record}))
