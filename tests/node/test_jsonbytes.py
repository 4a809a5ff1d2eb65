"""``idfuse_node.jsonbytes.dumps`` writes exactly what the standard library writes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idfuse_node.jsonbytes import dumps

STANDARD = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode

documents = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**300), max_value=2**300)
    | st.text(alphabet=st.characters(blacklist_categories=("Cs",))),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(alphabet=st.characters(blacklist_categories=("Cs",))), children, max_size=4)
    ),
    max_leaves=12,
)


@given(documents)
def test_same_bytes_as_the_standard_library(document: Any) -> None:
    assert dumps(document) == STANDARD(document).encode("utf-8")
    assert json.loads(dumps(document)) == document


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, 2**256 - 1])
def test_integers_past_64_bits_are_written_exactly(value: int) -> None:
    assert dumps({"chain_id": value}) == f'{{"chain_id":{value}}}'.encode()


def test_values_json_cannot_carry_are_refused() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps({"x": object()})


@pytest.mark.parametrize("size", [0, 1_000, 64 * 1024 - 20, 64 * 1024, 300_000])
def test_small_and_large_documents_alike(size: int) -> None:
    # Under 64 KiB dumps copies orjson's answer, above it hands it on: the same bytes either
    # way (the copy is for memory, which this does not observe; docs/benchmarks.md measures it).
    document = {"a": "x" * size}
    written = dumps(document)
    assert type(written) is bytes
    assert written == STANDARD(document).encode("utf-8")
