"""Hypothesis strategies for valid identifiers, values, records and templates (and near misses)."""

from __future__ import annotations

import string

from hypothesis import strategies as st

from idfuse_sdk.encoding import BatchRecord, HandleValue, TemplateField
from idfuse_sdk.types import (
    MAX_DATA_BYTES,
    MAX_SUFFIX_BYTES,
    MAX_UINT32,
    MAX_VALUES,
    RESERVED_INDEXES,
    ValueFormat,
)

LABEL_ALPHABET = string.ascii_letters + string.digits + "-"
PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F))

labels = st.text(LABEL_ALPHABET, min_size=1, max_size=63)
prefixes = st.lists(st.text(LABEL_ALPHABET, min_size=1, max_size=20), min_size=1, max_size=5).map(".".join)

# Every code point a suffix may hold: no C0, DEL, C1 or surrogates.
suffix_characters = st.characters(
    codec="utf-8",
    exclude_categories=["Cs"],
    exclude_characters=[chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]],
)
suffixes = st.text(suffix_characters, min_size=1, max_size=80).filter(
    lambda s: len(s.encode("utf-8")) <= MAX_SUFFIX_BYTES
)

indexes = st.integers(1, MAX_UINT32).map(lambda i: i + 2 if i in RESERVED_INDEXES else i)
value_types = st.text(PRINTABLE, min_size=1, max_size=64).filter(
    lambda t: t.upper() not in {"HS_ADMIN", "HS_SERV"} and not t.upper().startswith("HS_SITE")
)
user_formats = st.sampled_from([ValueFormat.STRING, ValueFormat.BASE64, ValueFormat.HEX])
small_data = st.binary(max_size=64)
# Data at the size limit, built cheaply (drawing 8 KiB byte by byte is slow).
big_data = st.builds(
    lambda n, b: b * n, st.integers(MAX_DATA_BYTES - 2, MAX_DATA_BYTES), st.binary(min_size=1, max_size=1)
)


@st.composite
def handle_values(draw: st.DrawFn, big: bool = True) -> HandleValue:
    """A valid value: string format holds UTF-8 text, the others any bytes (now and then
    8 KiB of them, unless not ``big``)."""
    fmt = draw(user_formats)
    if fmt == ValueFormat.STRING:
        data = draw(st.text(max_size=40)).encode("utf-8")  # st.text() never draws surrogates
    else:
        data = draw(st.one_of(small_data, big_data) if big else small_data)
    return HandleValue(
        index=draw(indexes),
        type=draw(value_types),
        data=data,
        format=fmt,
        ttl=draw(st.integers(0, MAX_UINT32)),
        permissions=draw(st.integers(0, 15)),
    )


def value_lists(max_size: int = MAX_VALUES) -> st.SearchStrategy[list[HandleValue]]:
    """0..max_size valid values with distinct indexes, in ascending index order."""
    return st.lists(handle_values(), max_size=max_size, unique_by=lambda v: v.index).map(
        lambda vs: sorted(vs, key=lambda v: v.index)
    )


templates = st.one_of(st.just(bytes(32)), st.binary(min_size=32, max_size=32))


@st.composite
def batch_records(draw: st.DrawFn, max_size: int = 8) -> list[BatchRecord]:
    """1..max_size records with distinct suffixes (values kept small so batches stay fast)."""
    names = draw(st.lists(suffixes, min_size=1, max_size=max_size, unique=True))
    small_values = st.lists(handle_values(big=False), max_size=4, unique_by=lambda v: v.index).map(
        lambda vs: tuple(sorted(vs, key=lambda v: v.index))
    )
    return [BatchRecord(name, draw(small_values), draw(templates)) for name in names]


template_fields = st.builds(
    TemplateField,
    value_type=value_types,
    format=user_formats,
    required=st.booleans(),
    min_length=st.integers(0, 16),
    max_length=st.integers(16, MAX_DATA_BYTES),
)
