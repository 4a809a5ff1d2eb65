"""Canonical value, batch and template encodings (docs/data-model.md "Values" onwards)."""

from __future__ import annotations

import struct

import pytest
from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st

from idfuse_sdk.encoding import (
    BatchRecord,
    BatchRow,
    HandleValue,
    TemplateField,
    _obeys_rules,
    canonical_batch,
    check_template,
    commitment,
    decode_batch,
    decode_batch_entries,
    decode_batch_rows,
    decode_values,
    encode_batch,
    encode_values,
    pack_batch_record,
    template_id,
    validate_template,
    validate_value_type,
    value_data,
)
from idfuse_sdk.exceptions import EncodingError, ValidationError
from idfuse_sdk.identifiers import handle_key, prefix_node
from idfuse_sdk.types import MAX_BATCH_RECORDS, PUBLIC_READ, PUBLIC_WRITE, TOMBSTONE, ZERO32, ValueFormat
from tests.sdk.strategies import batch_records, handle_values, template_fields, value_lists

NODE = prefix_node("88.100.1")


def pack(
    index: int, type_: bytes, data: bytes, fmt: int = 0, ttl: int = 86400, permissions: int = 14
) -> bytes:
    """One value, packed by hand from the spec's layout."""
    return (
        struct.pack(">IBBIB", index, permissions, fmt, ttl, len(type_))
        + type_
        + struct.pack(">H", len(data))
        + data
    )


# --- known answers ----------------------------------------------------------------------------


def test_encoding_layout_known_answer() -> None:
    values = [HandleValue.text(1, "URL", "https://a.example/1"), HandleValue(2, "EMAIL", b"a@b.c")]
    expected = (
        b"\x02"
        + bytes.fromhex("000000010e000001518003")
        + b"URL"
        + bytes.fromhex("0013")
        + b"https://a.example/1"
        + pack(2, b"EMAIL", b"a@b.c")
    )
    assert encode_values(values) == expected
    assert encode_values(reversed(values)) == expected  # sorted by index
    assert decode_values(expected) == values


def test_empty_values() -> None:
    assert encode_values([]) == b"\x00"
    assert decode_values(b"\x00") == []


def test_commitment_known_answer() -> None:
    encoding = encode_values([HandleValue.text(1, "URL", "x")])
    assert commitment(ZERO32, encoding) == keccak(bytes(32) + encoding)
    template = keccak(b"t")
    assert commitment(template, encoding) == keccak(template + encoding)
    assert commitment(ZERO32, encoding) not in (ZERO32, TOMBSTONE)
    with pytest.raises(ValidationError, match=r"^template must be 32 bytes, got 0$"):
        commitment(b"", encoding)


def test_template_id_known_answer() -> None:
    assert template_id(NODE, "part-v", 3) == keccak(NODE + keccak(b"part-v") + b"\x00\x00\x00\x03")
    with pytest.raises(ValidationError, match=r"^template version must be 1-4294967295, got 0$"):
        template_id(NODE, "part", 0)
    with pytest.raises(ValidationError, match=r"^template name must be 1-64 bytes, got 0$"):
        template_id(NODE, "", 1)
    assert template_id(NODE, "Part v2", 1) == keccak(NODE + keccak(b"Part v2") + b"\x00\x00\x00\x01")
    with pytest.raises(
        ValidationError,
        match=r"^template name must hold only printable ASCII \(0x20-0x7E\): U\+0009 at byte 1$",
    ):
        template_id(NODE, "a\tb", 1)
    with pytest.raises(
        ValidationError,
        match=r"^template name must hold only printable ASCII \(0x20-0x7E\): U\+00E9 at byte 0$",
    ):
        template_id(NODE, "é", 1)


def test_text_values() -> None:
    value = HandleValue.text(7, "DESC", "零件 🚀", ttl=60, permissions=PUBLIC_READ | PUBLIC_WRITE)
    assert value.data == "零件 🚀".encode()
    assert (value.format, value.ttl, value.permissions) == (ValueFormat.STRING, 60, 3)
    assert value.as_text() == "零件 🚀"
    with pytest.raises(ValidationError, match=r"^value at index 1 text must be encodable as UTF-8"):
        HandleValue.text(1, "DESC", "\ud800")


def test_plain_ints_and_bytearrays_compare_equal() -> None:
    assert HandleValue(1, "X", bytearray(b"a"), 2) == HandleValue(1, "X", b"a", ValueFormat.HEX)  # type: ignore[arg-type]


# --- value rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (HandleValue(0, "URL", b""), "value index must be 1-4294967295, got 0"),
        (HandleValue(2**32, "URL", b""), "value index must be 1-4294967295, got 4294967296"),
        (HandleValue(100, "URL", b""), "value index must not be 100: it is reserved for HS_ADMIN"),
        (HandleValue(101, "URL", b""), "value index must not be 101: it is reserved for HS_SITE"),
        (HandleValue(1, "", b""), "value at index 1 type must be 1-64 bytes, got 0"),
        (HandleValue(1, "T" * 65, b""), "value at index 1 type must be 1-64 bytes, got 65"),
        (
            HandleValue(1, "MY TYPE", b""),
            "value at index 1 type must hold only printable ASCII without space (0x21-0x7E): "
            "U+0020 at byte 2",
        ),
        (
            HandleValue(1, "é", b""),
            "value at index 1 type must hold only printable ASCII without space (0x21-0x7E): "
            "U+00E9 at byte 0",
        ),
        (
            HandleValue(1, "hs_admin", b""),
            "value at index 1 type must not be 'hs_admin': HS_ADMIN, HS_SERV and HS_SITE* are reserved "
            "for derived values",
        ),
        (
            HandleValue(1, "URL", b"", ValueFormat.ADMIN),
            "value at index 1 must have format 0 (string), 1 (base64) or 2 (hex), got admin (3)",
        ),
        (
            HandleValue(1, "URL", b"", 9),
            "value at index 1 must have format 0 (string), 1 (base64) or 2 (hex), "  # type: ignore[arg-type]
            "got 9",
        ),
        (HandleValue(1, "URL", b"", permissions=16), "value at index 1 must have permissions 0-15, got 16"),
        (HandleValue(1, "URL", b"", permissions=-1), "value at index 1 must have permissions 0-15, got -1"),
        (
            HandleValue(1, "URL", b"", ttl=2**32),
            "value at index 1 must have a ttl of 0-4294967295 seconds, got 4294967296",
        ),
        (
            HandleValue(1, "URL", b"x" * 8193),
            "value at index 1 must have at most 8192 bytes of data, got 8193",
        ),
        (
            HandleValue(1, "URL", b"ok\xff"),
            "value at index 1 has format string, so its data must be "
            "well-formed UTF-8: invalid start byte at byte 2",
        ),
        (HandleValue(1, "URL", "text"), "value at index 1 data must be bytes, got str"),  # type: ignore[arg-type]
        (HandleValue(True, "URL", b""), "value index must be an integer, got bool"),
    ],
)
def test_value_rules(value: HandleValue, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        encode_values([value])
    assert str(info.value) == message


@pytest.mark.parametrize("type_", ["HS_ADMIN", "hs_serv", "HS_SITE", "HS_SITE.PREFIX", "Hs_Site6"])
def _rules_hold(value: HandleValue) -> bool:
    try:
        value._check_rules("value")
    except ValidationError:
        return False
    return True


@given(
    index=st.integers(-1, 2**32) | st.sampled_from([1, 99, 100, 101, 102, 2**32 - 1]),
    type_=st.text(max_size=66) | st.sampled_from(["URL", "hs_site.x", "HS_SERV", "A B", "T" * 64]),
    data=st.binary(max_size=12) | st.sampled_from([b"x" * 8192, b"x" * 8193, b"ok\xff"]),
    fmt=st.integers(-1, 5),
    ttl=st.integers(-1, 2**32) | st.just(2**32 - 1),
    permissions=st.integers(-1, 16),
)
def test_the_one_expression_check_agrees_with_each_rule(
    index: int, type_: str, data: bytes, fmt: int, ttl: int, permissions: int
) -> None:
    # validate() trusts _obeys_rules when it says yes: it must never say yes to a broken rule
    value = HandleValue(index, type_, data, fmt, ttl, permissions)  # type: ignore[arg-type]
    assert _obeys_rules(value) == _rules_hold(value)


@pytest.mark.parametrize("type_", ["HS_ADMIN", "hs_serv", "HS_SITE", "HS_SITE.PREFIX", "Hs_Site6"])
def test_reserved_types(type_: str) -> None:
    with pytest.raises(ValidationError, match="reserved for derived values"):
        validate_value_type(type_)


@pytest.mark.parametrize("type_", ["HS_SIT", "HS_ADMINS", "XHS_SITE", "HS_VLIST", "!", "~" * 64])
def test_unreserved_types(type_: str) -> None:
    assert validate_value_type(type_) == type_


def test_value_limits_at_the_edges() -> None:
    values = [
        HandleValue(1, "T" * 64, b"\xff" * 8192, ValueFormat.BASE64, ttl=2**32 - 1, permissions=15),
        HandleValue(2**32 - 1, "!", b"", ValueFormat.HEX, ttl=0, permissions=0),
        HandleValue(99, "A", b""),
        HandleValue(102, "B", b""),
    ]
    assert decode_values(encode_values(values)) == sorted(values, key=lambda v: v.index)


def test_value_count() -> None:
    values = [HandleValue(i, "T", b"") for i in range(1, 34)]
    assert len(decode_values(encode_values(values[:32]))) == 32
    with pytest.raises(ValidationError, match=r"^value count must be at most 32, got 33$"):
        encode_values(values)


def test_duplicate_indexes_are_rejected() -> None:
    with pytest.raises(
        ValidationError, match=r"^value indexes must be distinct, but 3 appears more than once$"
    ):
        encode_values([HandleValue(3, "A", b""), HandleValue(1, "A", b""), HandleValue(3, "B", b"")])


def test_encode_rejects_non_values() -> None:
    with pytest.raises(ValidationError, match=r"^value must be a HandleValue, got tuple$"):
        encode_values([(1, "URL", b"")])  # type: ignore[list-item]


# --- strict decoding --------------------------------------------------------------------------

GOOD = pack(1, b"URL", b"x")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "values encoding is truncated at byte 0: the value count needs 1 bytes, 0 remain"),
        (b"\x01", "values encoding is truncated at byte 1: a value index needs 4 bytes, 0 remain"),
        (b"\x01" + GOOD[:-1], "values encoding is truncated at byte 17: data needs 1 bytes, 0 remain"),
        (b"\x01" + GOOD + b"\x00", "values encoding has 1 trailing bytes at byte 18"),
        (b"\x00\x00", "values encoding has 1 trailing bytes at byte 1"),
        (b"\x21", "values encoding at byte 0 has 33 values, over 32"),
        (
            b"\x02" + pack(2, b"A", b"") + pack(1, b"B", b""),
            "values encoding is not in ascending index order at byte 15: index 1 follows 2",
        ),
        (
            b"\x02" + pack(2, b"A", b"") + pack(2, b"B", b""),
            "values encoding is not in ascending index order at byte 15: index 2 follows 2",
        ),
        (
            b"\x01" + pack(1, b"URL", b"", fmt=4),
            "values encoding breaks a rule at byte 1: value at index 1 must have format 0 (string), "
            "1 (base64) or 2 (hex), got site (4)",
        ),
        (
            b"\x01" + pack(100, b"URL", b""),
            "values encoding breaks a rule at byte 1: value index must not be 100: "
            "it is reserved for HS_ADMIN",
        ),
        (
            b"\x01" + pack(1, b"HS_ADMIN", b""),
            "values encoding breaks a rule at byte 1: value at index 1 type must not be 'HS_ADMIN': "
            "HS_ADMIN, HS_SERV and HS_SITE* are reserved for derived values",
        ),
        (
            b"\x01" + pack(1, b"\xe4\xb8\xad", b""),
            "values encoding breaks a rule at byte 1: value at index 1 type must hold only printable ASCII "
            "without space (0x21-0x7E): U+00E4 at byte 0",
        ),
        (
            b"\x01" + pack(1, b"", b""),
            "values encoding breaks a rule at byte 1: value at index 1 type must be 1-64 bytes, got 0",
        ),
        (
            b"\x01" + pack(1, b"URL", b"\xc0\xaf"),
            "values encoding breaks a rule at byte 1: value at index 1 has format string, so its data must "
            "be well-formed UTF-8: invalid start byte at byte 0",
        ),
        (
            b"\x01" + pack(1, b"URL", b"", permissions=16),
            "values encoding breaks a rule at byte 1: value at index 1 must have permissions 0-15, got 16",
        ),
        (
            b"\x01" + pack(1, b"URL", b"x" * 8193, fmt=1),
            "values encoding breaks a rule at byte 1: value at index 1 must have at most 8192 bytes of data, "
            "got 8193",
        ),
    ],
)
def test_decode_values_is_strict(raw: bytes, message: str) -> None:
    with pytest.raises(EncodingError) as info:
        decode_values(raw)
    assert str(info.value) == message


def test_decode_chains_the_rule() -> None:
    with pytest.raises(EncodingError) as info:
        decode_values(b"\x01" + pack(0, b"URL", b""))
    assert isinstance(info.value.__cause__, ValidationError)


@given(value_lists())
def test_values_round_trip(values: list[HandleValue]) -> None:
    raw = encode_values(values)
    assert decode_values(raw) == values
    assert encode_values(decode_values(raw)) == raw


@given(value_lists(max_size=6), st.data())
def test_every_truncation_is_rejected(values: list[HandleValue], data: st.DataObject) -> None:
    raw = encode_values(values)
    cut = data.draw(st.integers(0, len(raw) - 1))
    with pytest.raises(EncodingError):
        decode_values(raw[:cut])
    with pytest.raises(EncodingError):
        decode_values(raw + data.draw(st.binary(min_size=1, max_size=3)))


@given(st.binary(max_size=200))
def test_decode_never_fails_otherwise(raw: bytes) -> None:
    try:
        values = decode_values(raw)
    except EncodingError:
        return
    assert encode_values(values) == raw  # whatever decodes is canonical


# --- batches ----------------------------------------------------------------------------------


def test_batch_layout_known_answer() -> None:
    a = BatchRecord("b-2", (HandleValue.text(1, "URL", "x"),))
    b = BatchRecord("零件", (), keccak(b"tmpl"))
    raw = encode_batch(NODE, [a, b])
    order = sorted([a, b], key=lambda r: handle_key(NODE, r.suffix))

    def record(r: BatchRecord) -> bytes:
        suffix = r.suffix.encode()
        return bytes([len(suffix)]) + suffix + r.template + encode_values(r.values)

    assert raw == b"".join(record(r) for r in order)
    assert decode_batch(NODE, raw) == order
    entries = decode_batch_entries(NODE, raw)
    assert [e.handle_key for e in entries] == sorted(handle_key(NODE, r.suffix) for r in order)
    assert entries[0].commitment == commitment(order[0].template, encode_values(order[0].values))
    assert canonical_batch(NODE, [b, a]) == entries


@given(batch_records())
def test_batch_round_trip(records: list[BatchRecord]) -> None:
    raw = encode_batch(NODE, records)
    decoded = decode_batch(NODE, raw)
    assert sorted(decoded, key=lambda r: r.suffix) == sorted(records, key=lambda r: r.suffix)
    keys = [handle_key(NODE, r.suffix) for r in decoded]
    assert keys == sorted(keys)
    assert encode_batch(NODE, reversed(decoded)) == raw


@given(batch_records(max_size=4), st.data())
def test_batch_truncation_is_rejected(records: list[BatchRecord], data: st.DataObject) -> None:
    raw = encode_batch(NODE, records)
    cut = data.draw(st.integers(1, len(raw) - 1))
    try:
        decoded = decode_batch(NODE, raw[:cut])
    except EncodingError:
        return
    # A cut at a record boundary is a shorter, still canonical batch.
    assert encode_batch(NODE, decoded) == raw[:cut]


@given(batch_records())
def test_a_record_packs_alone_as_in_its_batch(records: list[BatchRecord]) -> None:
    for record in records:
        (entry,) = canonical_batch(NODE, [record])
        assert pack_batch_record(NODE, record) == (entry.handle_key, entry.to_bytes())


loose_values = st.builds(
    HandleValue,
    index=st.integers(-1, 2**32),
    type=st.text(max_size=6),
    data=st.binary(max_size=8),
    format=st.sampled_from(list(ValueFormat)),
    ttl=st.integers(-1, 2**32),
    permissions=st.integers(-1, 300),
)


@given(st.lists(st.one_of(handle_values(big=False), loose_values), max_size=5))
def test_values_in_a_tuple_encode_as_in_a_list(values: list[HandleValue]) -> None:
    # A tuple in ascending index order takes a one-pass path; a list always sorts first.
    def outcome(given):
        try:
            return encode_values(given)
        except ValidationError as error:
            return str(error)

    assert outcome(tuple(values)) == outcome(values)
    in_order = sorted(values, key=lambda value: value.index)  # the tuples that take the one pass
    assert outcome(tuple(in_order)) == outcome(in_order)


@given(
    st.builds(
        BatchRecord,
        suffix=st.text(max_size=4),
        values=st.lists(loose_values, max_size=3).map(tuple),
        template=st.one_of(st.just(bytes(32)), st.binary(max_size=34)),
    )
)
def test_a_record_is_refused_alone_as_in_its_batch(record: BatchRecord) -> None:
    # The bulk reader checks each line with pack_batch_record: the same rules, in the same
    # order, as canonical_batch, and the same message after its "batch record 0 ".
    def outcome(check):
        try:
            return check()
        except ValidationError as error:
            return str(error)

    expected = outcome(lambda: canonical_batch(NODE, [record]))
    got = outcome(lambda: pack_batch_record(NODE, record))
    if isinstance(expected, str):
        assert "batch record 0 " + str(got) == expected
    else:
        assert got == (expected[0].handle_key, expected[0].to_bytes())


def test_batch_rules() -> None:
    one = BatchRecord("a", ())
    with pytest.raises(ValidationError, match=r"^batch must hold 1-20000 records, got 0$"):
        encode_batch(NODE, [])
    with pytest.raises(ValidationError, match=r"^batch must name each handle once, but 'a' repeats$"):
        encode_batch(NODE, [one, BatchRecord("b", ()), BatchRecord("a", (HandleValue(1, "X", b""),))])
    with pytest.raises(
        ValidationError, match=r"^batch record 1 suffix must not contain control character U\+0085"
    ):
        encode_batch(NODE, [one, BatchRecord("b\u0085", ())])
    with pytest.raises(ValidationError, match=r"^batch record 0 template must be 32 bytes, got 4$"):
        encode_batch(NODE, [BatchRecord("a", (), b"tmpl")])
    with pytest.raises(ValidationError, match=r"^batch record 1 value index must not be 101"):
        encode_batch(NODE, [one, BatchRecord("b", (HandleValue(101, "X", b""),))])
    with pytest.raises(ValidationError, match=r"^prefix node must be 32 bytes, got 3$"):
        encode_batch(b"abc", [one])


def test_batch_record_limit() -> None:
    records = [BatchRecord(str(i), ()) for i in range(MAX_BATCH_RECORDS + 1)]
    with pytest.raises(ValidationError, match=r"^batch must hold 1-20000 records, got 20001$"):
        encode_batch(NODE, records)
    raw = encode_batch(NODE, records[:-1])
    assert len(decode_batch(NODE, raw)) == MAX_BATCH_RECORDS
    extra = bytes([1]) + b"x" + ZERO32 + b"\x00"
    with pytest.raises(
        EncodingError, match=r"^batch must hold at most 20000 records, but more start at byte"
    ):
        decode_batch(NODE, raw + extra)


def _record(suffix: bytes, values: bytes = b"\x00", template: bytes = ZERO32) -> bytes:
    return bytes([len(suffix)]) + suffix + template + values


def _sorted_suffixes(*suffixes: str) -> list[bytes]:
    return [s.encode() for s in sorted(suffixes, key=lambda s: handle_key(NODE, s))]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "batch must hold 1-20000 records, got 0"),
        (b"\x05ab", "batch is truncated at byte 1: a suffix needs 5 bytes, 2 remain"),
        (b"\x01a" + bytes(31), "batch is truncated at byte 2: a template needs 32 bytes, 31 remain"),
        (_record(b"a")[:-1], "batch is truncated at byte 34: the value count needs 1 bytes, 0 remain"),
        (_record(b""), "batch record at byte 0 breaks a rule: suffix must not be empty"),
        (
            _record(b"a\xff"),
            "batch record at byte 0 breaks a rule: suffix must be well-formed UTF-8: "
            "invalid start byte at byte 1",
        ),
        (
            _record(b"a\x7f"),
            "batch record at byte 0 breaks a rule: suffix must not contain control character "
            "U+007F at byte 1",
        ),
        (
            _record(b"a", b"\x01" + pack(1, b"URL", b"", fmt=3)),
            "batch breaks a rule at byte 35: value at index 1 must have format 0 (string), 1 (base64) or "
            "2 (hex), got admin (3)",
        ),
        (_record(b"a", b"\x00\x00"), "batch record at byte 35 breaks a rule: suffix must not be empty"),
        (_record(b"a", b"\x00\x02b"), "batch is truncated at byte 36: a suffix needs 2 bytes, 1 remain"),
    ],
)
def test_decode_batch_is_strict(raw: bytes, message: str) -> None:
    with pytest.raises(EncodingError) as info:
        decode_batch(NODE, raw)
    assert str(info.value) == message


def test_decode_batch_rejects_wrong_order_and_repeats() -> None:
    first, second = _sorted_suffixes("a", "b")
    decode_batch(NODE, _record(first) + _record(second))
    with pytest.raises(
        EncodingError, match=r"^batch is not in ascending handle-key order at byte 35 \('a'\)$"
    ):
        decode_batch(NODE, _record(b"b") + _record(b"a")) if first == b"a" else decode_batch(
            NODE, _record(b"a") + _record(b"b")
        )
    with pytest.raises(EncodingError, match=r"^batch is not in ascending handle-key order at byte 35"):
        decode_batch(NODE, _record(first) + _record(first))


def _outcome(decode, raw: bytes) -> object:
    try:
        return decode(NODE, raw)
    except EncodingError as error:
        return f"EncodingError: {error}"


def _rows_of_entries(node: bytes, raw: bytes) -> list[BatchRow]:
    return [BatchRow.of(entry) for entry in decode_batch_entries(node, raw)]


@given(batch_records(max_size=6), st.data())
def test_batch_rows_are_the_entries_and_refuse_what_they_refuse(
    records: list[BatchRecord], data: st.DataObject
) -> None:
    # decode_batch_rows reads a batch without an object per value; for any bytes, canonical
    # or damaged (cut, a byte changed, bytes inserted), it gives the entries' fields or the
    # entries' very refusal.
    raw = encode_batch(NODE, records)
    assert decode_batch_rows(NODE, raw) == _rows_of_entries(NODE, raw)
    position = data.draw(st.integers(0, len(raw)))
    damaged = data.draw(
        st.sampled_from(
            [
                raw[:position],
                raw[:position] + bytes([data.draw(st.integers(0, 255))]) + raw[position + 1 :],
                raw[:position] + data.draw(st.binary(min_size=1, max_size=6)) + raw[position:],
            ]
        )
    )
    assert _outcome(decode_batch_rows, damaged) == _outcome(_rows_of_entries, damaged)


@given(st.binary(max_size=120))
def test_batch_rows_refuse_any_bytes_as_the_entries_do(raw: bytes) -> None:
    assert _outcome(decode_batch_rows, raw) == _outcome(_rows_of_entries, raw)


@pytest.mark.parametrize(
    "raw",
    [
        _record(b"a", b"\x01" + pack(0, b"URL", b"x")),  # index 0: refused by the rule, not the order
        _record(b"a", b"\x02" + pack(2, b"URL", b"x") + pack(1, b"URL", b"y")),
        _record(b"a", b"\x01" + pack(1, b"HS_ADMIN", b"x")),
        _record(b"a", b"\x01" + pack(1, b"URL", b"\xff")),
        _record(b"a", b"\x01" + pack(1, b"URL", b"x", fmt=3)),
        _record(b"a", b"\x01" + pack(100, b"URL", b"x")),
    ],
)
def test_batch_rows_refuse_value_rules_as_the_entries_do(raw: bytes) -> None:
    refusal = _outcome(_rows_of_entries, raw)
    assert isinstance(refusal, str)
    assert _outcome(decode_batch_rows, raw) == refusal


# --- templates --------------------------------------------------------------------------------

FIELDS = (
    TemplateField("URL", ValueFormat.STRING, required=True, min_length=1, max_length=100),
    TemplateField("SERIAL", ValueFormat.HEX, required=False, min_length=4, max_length=4),
)


def test_template_accepts() -> None:
    validate_template("part", 1, FIELDS)
    check_template(FIELDS, [HandleValue.text(1, "URL", "https://x")])
    check_template(
        FIELDS,
        [HandleValue(2, "SERIAL", b"\x00\x01\x02\x03", ValueFormat.HEX), HandleValue.text(1, "URL", "u")],
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            [HandleValue.text(1, "URL", "u"), HandleValue.text(2, "url", "u")],
            "value at index 2 must have a type the template defines, got 'url'",
        ),
        (
            [HandleValue(1, "URL", b"u", ValueFormat.BASE64)],
            "value at index 1 must have format string (0) as template field 'URL' says, got base64 (1)",
        ),
        (
            [HandleValue.text(1, "URL", "")],
            "value at index 1 must have 1-100 bytes of data as template field 'URL' says, got 0",
        ),
        (
            [HandleValue.text(1, "URL", "u" * 101)],
            "value at index 1 must have 1-100 bytes of data as template field 'URL' says, got 101",
        ),
        (
            [HandleValue(1, "SERIAL", b"\x00", ValueFormat.HEX)],
            "value at index 1 must have 4-4 bytes of data as template field 'SERIAL' says, got 1",
        ),
        ([], "values must include type 'URL', which template field 0 requires"),
    ],
)
def test_template_rejects(values: list[HandleValue], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_template(FIELDS, values)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("name", "version", "fields", "message"),
    [
        ("", 1, FIELDS, "template name must be 1-64 bytes, got 0"),
        ("n" * 65, 1, FIELDS, "template name must be 1-64 bytes, got 65"),
        ("part", 0, FIELDS, "template version must be 1-4294967295, got 0"),
        ("part", 2**32, FIELDS, "template version must be 1-4294967295, got 4294967296"),
        ("part", 1, (), "template must have 1-32 fields, got 0"),
        ("part", 1, (TemplateField("A"),) * 33, "template must have 1-32 fields, got 33"),
        (
            "part",
            1,
            (TemplateField("A"), TemplateField("A")),
            "template field 1 must have a distinct value type, but 'A' repeats",
        ),
        (
            "part",
            1,
            (TemplateField("HS_SITE.X"),),
            "template field 0 value type must not be 'HS_SITE.X': "
            "HS_ADMIN, HS_SERV and HS_SITE* are reserved for derived values",
        ),
        (
            "part",
            1,
            (TemplateField("A", ValueFormat.SITE),),
            "template field 0 must have format 0 (string), 1 (base64) or 2 (hex), got site (4)",
        ),
        (
            "part",
            1,
            (TemplateField("A", min_length=5, max_length=4),),
            "template field 0 must have 0 <= min_length <= max_length <= 8192, got 5 and 4",
        ),
        (
            "part",
            1,
            (TemplateField("A", max_length=8193),),
            "template field 0 must have 0 <= min_length <= max_length <= 8192, got 0 and 8193",
        ),
    ],
)
def test_validate_template_rejects(
    name: str, version: int, fields: tuple[TemplateField, ...], message: str
) -> None:
    with pytest.raises(ValidationError) as info:
        validate_template(name, version, fields)
    assert str(info.value) == message


def test_template_field_abi_round_trip() -> None:
    for field in FIELDS:
        assert TemplateField.from_abi(field.to_abi()) == field
    assert FIELDS[1].to_abi() == ("SERIAL", 2, False, 4, 4)


@given(st.lists(template_fields, min_size=1, max_size=32, unique_by=lambda f: f.value_type), st.data())
def test_generated_templates_are_valid_and_satisfiable(
    fields: list[TemplateField], data: st.DataObject
) -> None:
    validate_template("t", 1, fields)
    values = []
    for number, field in enumerate(fields):
        if field.required or data.draw(st.booleans()):
            length = data.draw(st.integers(field.min_length, min(field.max_length, 40)))
            values.append(HandleValue(number + 1, field.value_type, b"a" * length, field.format))
    check_template(fields, values)


@given(handle_values())
def test_generated_values_are_valid(value: HandleValue) -> None:
    assert value.validate() is value


@pytest.mark.parametrize("text", ["00 11", "0x00 ff", "0011\n", "0x0g", "abc"])
def test_hex_value_text_is_only_hex_digits(text: str) -> None:
    with pytest.raises(ValidationError, match="is not valid hex"):
        value_data(text, ValueFormat.HEX)
    assert value_data("0x00ff", ValueFormat.HEX) == value_data("00FF", ValueFormat.HEX) == b"\x00\xff"
