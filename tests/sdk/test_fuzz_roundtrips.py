"""Handles, values and batches under arbitrary input: what is valid round-trips, what is not is
refused with the SDK's own error (ValidationError, EncodingError), never another exception; a
single changed byte of a valid encoding decodes to a different canonical object or is refused."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idfuse_sdk.encoding import (
    BatchRecord,
    HandleValue,
    decode_batch,
    decode_values,
    encode_batch,
    encode_values,
)
from idfuse_sdk.exceptions import EncodingError, ValidationError
from idfuse_sdk.identifiers import (
    format_handle,
    handle_key,
    normalise_prefix,
    parse_handle,
    prefix_node,
    validate_prefix,
    validate_suffix,
)
from tests.sdk.strategies import batch_records, handle_values, prefixes, suffixes

NODE = prefix_node("88.100.1")
small_value_lists = st.lists(handle_values(big=False), max_size=4, unique_by=lambda v: v.index).map(
    lambda vs: sorted(vs, key=lambda v: v.index)
)
handle_like = st.one_of(
    st.text(max_size=40),
    st.builds(lambda p, s: f"{p}/{s}", st.text(max_size=20), st.text(max_size=20)),
    st.builds(lambda p, s: f"{p}/{s}", prefixes, suffixes),
)


# --- handles --------------------------------------------------------------------------------


@given(prefixes, suffixes)
def test_handles_round_trip(prefix: str, suffix: str) -> None:
    handle = format_handle(prefix, suffix)
    assert parse_handle(handle) == (prefix, suffix)
    assert format_handle(*parse_handle(handle)) == handle


@given(prefixes)
def test_normalisation_is_lower_case_idempotent_and_keeps_the_node(prefix: str) -> None:
    normal = normalise_prefix(prefix)
    assert normal == prefix.lower()
    assert normalise_prefix(normal) == normal
    assert normalise_prefix(prefix.upper()) == normal
    assert prefix_node(prefix) == prefix_node(normal) == prefix_node(prefix.swapcase())


@given(handle_like)
def test_any_text_parses_to_a_handle_that_formats_back_or_is_refused(text: str) -> None:
    try:
        prefix, suffix = parse_handle(text)
    except ValidationError:
        return
    assert format_handle(prefix, suffix) == text
    assert len(handle_key(prefix, suffix)) == 32


@given(st.text(max_size=40))
def test_prefix_and_suffix_checks_refuse_only_with_validation_error(text: str) -> None:
    for check in (validate_prefix, normalise_prefix, validate_suffix, prefix_node):
        with contextlib.suppress(ValidationError):
            check(text)


@pytest.mark.parametrize("junk", [None, 5, b"88/x", ["88", "x"]])
def test_non_text_handles_are_validation_errors(junk: object) -> None:
    with pytest.raises(ValidationError):
        parse_handle(junk)  # type: ignore[arg-type]


# --- single-byte mutations of valid encodings -----------------------------------------------


def mutations(raw: bytes, data: st.DataObject) -> list[bytes]:
    """``raw`` with each one of its bytes changed (to a drawn different value)."""
    changed = []
    for position in range(len(raw)):
        delta = data.draw(st.integers(1, 255), label=f"delta at {position}")
        changed.append(raw[:position] + bytes([raw[position] ^ delta]) + raw[position + 1 :])
    return changed


@settings(max_examples=60)
@given(small_value_lists, st.data())
def test_every_changed_byte_of_values_decodes_differently_or_is_refused(
    values: list[HandleValue], data: st.DataObject
) -> None:
    raw = encode_values(values)
    for mutated in mutations(raw, data):
        try:
            decoded = decode_values(mutated)
        except EncodingError:
            continue
        assert decoded != values
        assert encode_values(decoded) == mutated  # what decodes is canonical


@settings(max_examples=30)
@given(batch_records(max_size=3), st.data())
def test_every_changed_byte_of_a_batch_decodes_differently_or_is_refused(
    records: list[BatchRecord], data: st.DataObject
) -> None:
    raw = encode_batch(NODE, records)
    original = sorted(records, key=lambda r: r.suffix)
    for mutated in mutations(raw, data):
        try:
            decoded = decode_batch(NODE, mutated)
        except EncodingError:
            continue
        assert sorted(decoded, key=lambda r: r.suffix) != original
        assert encode_batch(NODE, decoded) == mutated


@given(st.binary(max_size=300))
def test_decode_batch_refuses_arbitrary_bytes_only_with_encoding_error(raw: bytes) -> None:
    try:
        records = decode_batch(NODE, raw)
    except EncodingError:
        return
    assert encode_batch(NODE, records) == raw
