"""Identifier rules and ids (docs/data-model.md "Prefixes", "Handles")."""

from __future__ import annotations

import pytest
from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st

from idfuse_sdk.exceptions import ValidationError
from idfuse_sdk.identifiers import (
    child_node,
    decode_suffix,
    format_handle,
    handle_key,
    labelhash,
    normalise_prefix,
    parse_handle,
    prefix_node,
    validate_bytes32,
    validate_label,
    validate_prefix,
    validate_suffix,
)
from tests.sdk.strategies import labels, prefixes, suffixes

ZERO = bytes(32)

# --- labels -----------------------------------------------------------------------------------


@pytest.mark.parametrize("label", ["88", "a", "ACME-1", "-", "x" * 63, "0-0"])
def test_valid_labels(label: str) -> None:
    assert validate_label(label) == label


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("", "label must not be empty"),
        ("x" * 64, "label must be at most 63 bytes, got 64"),
        ("a.b", "label must hold only ASCII letters, digits and '-': '.' (U+002E) at byte 1"),
        ("ab_c", "label must hold only ASCII letters, digits and '-': '_' (U+005F) at byte 2"),
        ("a b", "label must hold only ASCII letters, digits and '-': ' ' (U+0020) at byte 1"),
        ("né", "label must hold only ASCII letters, digits and '-': 'é' (U+00E9) at byte 1"),
        ("a\n", "label must hold only ASCII letters, digits and '-': U+000A at byte 1"),
        ("é" * 32, "label must be at most 63 bytes, got 64"),
    ],
)
def test_invalid_labels(label: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_label(label)
    assert str(info.value) == message


def test_label_title_and_type() -> None:
    with pytest.raises(ValidationError, match=r"^child label must not be empty$"):
        validate_label("", title="child label")
    with pytest.raises(ValidationError, match=r"^label must be a string, got bytes$"):
        validate_label(b"88")  # type: ignore[arg-type]


# --- prefixes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["88", "88.100", "88.100.1", "Acme.B-2", "a." * 63 + "ab"])
def test_valid_prefixes(prefix: str) -> None:
    assert validate_prefix(prefix) == prefix


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("", "prefix must not be empty"),
        (".88", "prefix must not have an empty label, but has one at byte 0"),
        ("88.", "prefix must not have an empty label, but has one at byte 3"),
        ("88..1", "prefix must not have an empty label, but has one at byte 3"),
        ("88." + "x" * 64, "prefix must have labels of at most 63 bytes, but the label at byte 3 has 64"),
        ("a." * 64 + "a", "prefix must be at most 128 bytes, got 129"),
        ("88.1/0", "prefix must hold only ASCII letters, digits and '-' in a label: '/' (U+002F) at byte 4"),
        ("88.中", "prefix must hold only ASCII letters, digits and '-' in a label: '中' (U+4E2D) at byte 3"),
    ],
)
def test_invalid_prefixes(prefix: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_prefix(prefix)
    assert str(info.value) == message


def test_prefix_at_128_bytes_is_valid() -> None:
    prefix = "a." * 63 + "ab"
    assert len(prefix) == 128
    assert validate_prefix(prefix) == prefix


def test_normalise_prefix() -> None:
    assert normalise_prefix("Acme.B-2") == "acme.b-2"


# --- node ids ---------------------------------------------------------------------------------


def test_prefix_node_known_answers() -> None:
    assert prefix_node("") == ZERO
    assert prefix_node("88") == keccak(ZERO + keccak(b"88"))
    node_88_100 = keccak(prefix_node("88") + keccak(b"100"))
    assert prefix_node("88.100") == node_88_100
    assert prefix_node("88.100.1") == keccak(node_88_100 + keccak(b"1"))
    assert prefix_node("88.100.1").hex() == keccak(node_88_100 + keccak(b"1")).hex()


def test_prefix_node_is_case_insensitive() -> None:
    assert prefix_node("ACME.Plant-1") == prefix_node("acme.plant-1") == prefix_node("Acme.PLANT-1")
    assert prefix_node("acme") == keccak(ZERO + keccak(b"acme"))
    assert labelhash("ACME") == keccak(b"acme")


def test_prefix_node_rejects_invalid_prefix() -> None:
    with pytest.raises(
        ValidationError, match=r"^prefix must not have an empty label, but has one at byte 3$"
    ):
        prefix_node("88.")


@given(prefixes)
def test_prefix_node_folds_child_nodes(prefix: str) -> None:
    node = ZERO
    for label in prefix.split("."):
        node = child_node(node, label)
    assert prefix_node(prefix) == node
    assert prefix_node(prefix.upper()) == prefix_node(prefix.lower()) == node


@given(labels, labels)
def test_distinct_labels_have_distinct_nodes(a: str, b: str) -> None:
    assert (prefix_node(a) == prefix_node(b)) == (a.lower() == b.lower())


def test_child_node_needs_a_32_byte_parent() -> None:
    with pytest.raises(ValidationError, match=r"^parent node must be 32 bytes, got 31$"):
        child_node(bytes(31), "a")


# --- suffixes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "suffix",
    [
        "PN-0001",
        "a/b/c",  # a suffix may contain '/'
        "零件-甲-0001",
        "🚀🔧",
        " leading space",
        "\u00a0nbsp",  # U+00A0 follows the C1 block and is allowed
        "x" * 255,
        "中" * 85,  # 255 bytes
        "🚀" * 63 + "abc",  # 255 bytes
    ],
)
def test_valid_suffixes(suffix: str) -> None:
    assert validate_suffix(suffix) == suffix
    assert decode_suffix(suffix.encode("utf-8")) == suffix


@pytest.mark.parametrize(
    ("suffix", "message"),
    [
        ("", "suffix must not be empty"),
        ("x" * 256, "suffix must be at most 255 bytes of UTF-8, got 256"),
        ("中" * 86, "suffix must be at most 255 bytes of UTF-8, got 258"),
        ("🚀" * 64, "suffix must be at most 255 bytes of UTF-8, got 256"),
        ("a\x00b", "suffix must not contain control character U+0000 at byte 1"),
        ("tab\there", "suffix must not contain control character U+0009 at byte 3"),
        ("\x1f", "suffix must not contain control character U+001F at byte 0"),
        ("del\x7f", "suffix must not contain control character U+007F at byte 3"),
        ("中\u0085", "suffix must not contain control character U+0085 at byte 3"),
        ("\u0080", "suffix must not contain control character U+0080 at byte 0"),
        ("ab\u009f", "suffix must not contain control character U+009F at byte 2"),
        ("a\ud800", "suffix must be well-formed UTF-8: lone surrogate U+D800 at byte 1"),
        ("中\udfff", "suffix must be well-formed UTF-8: lone surrogate U+DFFF at byte 3"),
        ("\x01\ud800", "suffix must not contain control character U+0001 at byte 0"),
        ("\ud800\x01", "suffix must be well-formed UTF-8: lone surrogate U+D800 at byte 0"),
        ("\ud800" * 86, "suffix must be at most 255 bytes of UTF-8, got 258"),
    ],
)
def test_invalid_suffixes(suffix: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_suffix(suffix)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff", "suffix must be well-formed UTF-8: invalid start byte at byte 0"),
        (b"ab\xc0\xaf", "suffix must be well-formed UTF-8: invalid start byte at byte 2"),  # overlong '/'
        (
            b"a\xed\xa0\x80",
            "suffix must be well-formed UTF-8: invalid continuation byte at byte 1",
        ),  # surrogate
        (
            b"\xf4\x90\x80\x80",
            "suffix must be well-formed UTF-8: invalid continuation byte at byte 0",
        ),  # >U+10FFFF
        (b"ab\xe4\xb8", "suffix must be well-formed UTF-8: unexpected end of data at byte 2"),
        (b"a\xc2\x85", "suffix must not contain control character U+0085 at byte 1"),
        # The first offence wins, and the length comes before any character (as on chain).
        (b"a\x01\xff", "suffix must not contain control character U+0001 at byte 1"),
        (b"a\xff\x01", "suffix must be well-formed UTF-8: invalid start byte at byte 1"),
        (b"\xff" * 256, "suffix must be at most 255 bytes of UTF-8, got 256"),
        (b"", "suffix must not be empty"),
    ],
)
def test_decode_suffix_rejects_malformed_utf8(raw: bytes, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        decode_suffix(raw)
    assert str(info.value) == message


@given(suffixes)
def test_generated_suffixes_are_valid(suffix: str) -> None:
    assert validate_suffix(suffix) == suffix
    assert decode_suffix(suffix.encode("utf-8")) == suffix


@given(st.text(min_size=1, max_size=20), st.sampled_from([*range(0x20), *range(0x7F, 0xA0)]))
def test_any_control_character_is_rejected(text: str, control: int) -> None:
    with pytest.raises(ValidationError, match="control character"):
        validate_suffix(text[: len(text) // 2] + chr(control) + text[len(text) // 2 :])


# --- handles ----------------------------------------------------------------------------------


def test_parse_handle_splits_at_the_first_slash() -> None:
    assert parse_handle("88.100.1/PN-0001") == ("88.100.1", "PN-0001")
    assert parse_handle("88/a/b") == ("88", "a/b")
    assert format_handle("88", "a/b") == "88/a/b"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("88.100.1", "handle must be prefix/suffix, but has no '/'"),
        ("/x", "handle prefix must not be empty"),
        ("88/", "handle suffix must not be empty"),
        (
            "8_8/x",
            "handle prefix must hold only ASCII letters, digits and '-' in a label: '_' (U+005F) at byte 1",
        ),
        ("88/a\u0085", "handle suffix must not contain control character U+0085 at byte 1"),
    ],
)
def test_parse_handle_rejects(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_handle(text)
    assert str(info.value) == message


def test_handle_key_known_answer() -> None:
    expected = keccak(prefix_node("88.100.1") + keccak("零件🚀".encode()))
    assert handle_key("88.100.1", "零件🚀") == expected
    assert handle_key(prefix_node("88.100.1"), "零件🚀") == expected
    assert handle_key("88.100.1", "A") != handle_key("88.100.1", "a")  # suffixes are case-sensitive
    assert handle_key("88.100.1", "A") == handle_key("88.100.1".upper(), "A")  # prefixes are not


def test_handle_key_rejects() -> None:
    with pytest.raises(ValidationError, match=r"^prefix node must be 32 bytes, got 20$"):
        handle_key(bytes(20), "x")
    with pytest.raises(ValidationError, match=r"^suffix must not be empty$"):
        handle_key("88", "")
    with pytest.raises(ValidationError, match=r"^prefix must not be empty$"):
        handle_key("", "x")


def test_validate_bytes32() -> None:
    assert validate_bytes32(bytearray(32), "x") == bytes(32)
    with pytest.raises(ValidationError, match=r"^node must be 32 bytes, got str$"):
        validate_bytes32("00" * 32, "node")  # type: ignore[arg-type]
