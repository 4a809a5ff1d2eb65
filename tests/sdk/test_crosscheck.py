"""Python against Solidity, byte for byte: the SDK's identifiers, encoding and merkle modules
against the libraries the chain runs (through CodecHarness and PrefixRegistry.nodeOf).

Every property feeds the same input to both and asserts they agree: on the result when the
input is valid, on acceptance otherwise, and, where the contract names a position (suffix
characters, prefix labels, template fields and value indexes), on the error and its arguments.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from eth_utils.crypto import keccak
from hypothesis import event, given, settings
from hypothesis import strategies as st
from web3.contract import Contract

from idfuse_sdk import merkle
from idfuse_sdk.encoding import (
    BatchRecord,
    HandleValue,
    TemplateField,
    check_template,
    commitment,
    decode_batch,
    decode_values,
    encode_batch,
    encode_values,
    template_id,
    validate_template,
    validate_value_type,
)
from idfuse_sdk.exceptions import EncodingError, ValidationError
from idfuse_sdk.identifiers import decode_suffix, handle_key, prefix_node, validate_prefix
from idfuse_sdk.types import MAX_DATA_BYTES, ValueFormat
from tests.contracts.chain import Chain, make_chain
from tests.sdk.strategies import (
    LABEL_ALPHABET,
    PRINTABLE,
    batch_records,
    prefixes,
    suffixes,
    template_fields,
    templates,
    value_lists,
    value_types,
)

T = TypeVar("T")
crosscheck = settings(max_examples=50, deadline=None)
NOT_A_FIELD = 2**256 - 1
hashes = st.binary(min_size=32, max_size=32)


class Solidity:
    """The deployed harness and registry, called with eth_call; a revert becomes its
    custom error's name and arguments."""

    def __init__(self, chain: Chain, harness: Contract) -> None:
        self.chain = chain
        self.harness = harness

    def run(self, contract: Contract, name: str, *args: Any) -> tuple[str, tuple[Any, ...]]:
        return self.chain.outcome(contract, name, *args)

    def __call__(self, name: str, *args: Any) -> tuple[str, tuple[Any, ...]]:
        return self.run(self.harness, name, *args)

    def __repr__(self) -> str:  # keeps hypothesis's failure reports short
        return f"Solidity(CodecHarness at {self.harness.address})"


@pytest.fixture(scope="module")
def sol() -> Solidity:
    chain = make_chain()
    return Solidity(chain, chain.harness("CodecHarness"))


def python(function: Callable[..., T], *args: Any) -> tuple[T | None, ValidationError | None]:
    """``function(*args)`` and ``None``, or ``None`` and the ValidationError it raised."""
    try:
        return function(*args), None
    except ValidationError as error:
        return None, error


def byte_position(error: Exception) -> int:
    found = re.search(r"at byte (\d+)$", str(error))
    assert found, f"no position in {error}"
    return int(found.group(1))


def value_index(error: Exception) -> int:
    found = re.search(r"value at index (\d+)", str(error))
    assert found, f"no value index in {error}"
    return int(found.group(1))


# --- prefixes ---------------------------------------------------------------------------------


@st.composite
def spliced(draw: st.DrawFn, base: st.SearchStrategy[str], junk: st.SearchStrategy[str]) -> str:
    """``base`` with ``junk`` inserted at a random place."""
    text = draw(base)
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(junk) + text[at:]


prefix_like = st.one_of(
    prefixes,
    spliced(prefixes, st.sampled_from(["_", "é", "/", " ", "\x00", "中", "+", "..", "."])),
    st.lists(st.text(LABEL_ALPHABET, min_size=58, max_size=66), min_size=1, max_size=2).map(".".join),
    st.lists(st.text(LABEL_ALPHABET, min_size=1, max_size=3), min_size=30, max_size=45).map(".".join),
)


def expected_prefix_error(prefix: str, error: ValidationError) -> tuple[str, tuple[Any, ...]]:
    message = str(error)
    raw = prefix.encode()
    if message in ("prefix must not be empty",) or "empty label" in message:
        return "PrefixLabelEmpty", ()
    if found := re.search(r"at most 128 bytes, got (\d+)$", message):
        return "PrefixTooLong", (int(found.group(1)), 128)
    if found := re.search(r"at most 63 bytes, but the label at byte \d+ has (\d+)$", message):
        return "PrefixLabelTooLong", (int(found.group(1)), 63)
    position = byte_position(error)
    return "PrefixLabelInvalidCharacter", (position, raw[position : position + 1])


@crosscheck
@given(prefix_like)
def test_prefix_nodes(sol: Solidity, prefix: str) -> None:
    got = sol.run(sol.chain.prefixes, "nodeOf", prefix)
    event(got[0])
    _, error = python(validate_prefix, prefix)
    if error is not None:
        assert got == expected_prefix_error(prefix, error)
    else:
        assert got == ("ok", (prefix_node(prefix),))
        assert sol.run(sol.chain.prefixes, "nodeOf", prefix.swapcase()) == got


# --- suffixes and handle keys -----------------------------------------------------------------

suffix_bytes = st.one_of(
    suffixes.map(lambda s: s.encode()),
    st.binary(max_size=40),
    st.builds(
        lambda a, b, junk: a.encode() + junk + b.encode(),
        st.text(max_size=10),
        st.text(max_size=10),
        st.sampled_from(
            [
                b"\x00",
                b"\x1f",
                b"\x7f",
                b"\xc2\x80",
                b"\xc2\x85",
                b"\xc2\x9f",
                b"\xc2\xa0",
                b"\xc0\xaf",
                b"\xe0\x80\xaf",
                b"\xed\xa0\x80",
                b"\xed\x9f\xbf",
                b"\xf4\x8f\xbf\xbf",
                b"\xf4\x90\x80\x80",
                b"\xf0\x8f\xbf\xbf",
                b"\xe4\xb8",
                b"\x80",
                b"\xff",
                b"\xf5\x80\x80\x80",
            ]
        ),
    ),
    st.integers(250, 260).map(lambda n: b"x" * n),
    st.integers(83, 87).map(lambda n: "中".encode() * n),
)


@crosscheck
@given(suffix_bytes, hashes)
def test_suffixes_and_handle_keys(sol: Solidity, raw: bytes, node: bytes) -> None:
    got = sol("handleKey", node, raw)
    event(got[0])
    suffix, error = python(decode_suffix, raw)
    if error is None:
        assert suffix is not None
        assert got == ("ok", (handle_key(node, suffix),))
    elif "must not be empty" in str(error) or "at most 255 bytes" in str(error):
        assert got == ("SuffixInvalidLength", (len(raw),))
    else:
        assert got == ("SuffixInvalidCharacter", (byte_position(error),))
    assert sol("validateSuffix", raw) == (got if got[0] != "ok" else ("ok", ()))


# --- values and commitments -------------------------------------------------------------------


@crosscheck
@given(value_lists(), templates)
def test_commitments_of_valid_values(sol: Solidity, values: list[HandleValue], template: bytes) -> None:
    encoding = encode_values(values)
    assert sol("commitment", template, encoding) == ("ok", (commitment(template, encoding), len(values)))


type_bytes = st.one_of(
    value_types.map(str.encode),
    st.sampled_from(
        [
            "HS_ADMIN",
            "hs_Admin",
            "HS_SERV",
            "hs_serv",
            "HS_SITE",
            "Hs_Site.PREFIX",
            "HS_SIT",
            "HS_SERVX",
            "HS_ADMINX",
            "XHS_SITE",
            "HS_ADMI",
            "HS_SER",
        ]
    ).map(str.encode),
    st.binary(max_size=70),
    st.text(PRINTABLE + " ", min_size=60, max_size=66).map(str.encode),
)


@crosscheck
@given(type_bytes)
def test_value_types(sol: Solidity, raw: bytes) -> None:
    _, error = python(validate_value_type, raw.decode("latin-1"))
    expected = (
        (True, False) if error is None else (True, True) if "reserved" in str(error) else (False, False)
    )
    event(f"valid={expected[0]} reserved={expected[1]}")
    assert sol("classifyType", raw) == ("ok", expected)


@st.composite
def raw_values(draw: st.DrawFn) -> bytes:
    """Hand-packed value encodings in which, now and then, one field of one value breaks its
    rule (or the count or length is off)."""
    count = draw(st.integers(0, 4))
    index = 0
    parts = []
    for _ in range(count):
        index += draw(st.integers(1, 3))
        if index in (100, 101):
            index = 102
        fmt = draw(st.integers(0, 2))
        permissions = draw(st.integers(0, 15))
        type_ = draw(value_types).encode()
        data = draw(st.text(max_size=8)).encode()
        match draw(st.sampled_from(["none"] * 6 + ["index", "permissions", "format", "type", "data"])):
            case "index":
                index = draw(st.sampled_from([0, 100, 101, index - 1 if index > 1 else 0, max(index - 3, 0)]))
            case "permissions":
                permissions = draw(st.integers(16, 255))
            case "format":
                fmt = draw(st.integers(3, 255))
            case "type":
                type_ = draw(type_bytes)
            case "data":
                data = draw(
                    st.one_of(
                        st.binary(max_size=8),
                        st.integers(MAX_DATA_BYTES - 1, MAX_DATA_BYTES + 1).map(lambda n: b"a" * n),
                    )
                )
        parts.append(
            index.to_bytes(4, "big")
            + bytes([permissions, fmt])
            + draw(st.binary(min_size=4, max_size=4))
            + bytes([len(type_)])
            + type_
            + len(data).to_bytes(2, "big")
            + data
        )
    raw = bytes([count]) + b"".join(parts)
    match draw(st.sampled_from(["none"] * 6 + ["count", "cut", "extend"])):
        case "count":
            raw = bytes([draw(st.integers(0, 40))]) + raw[1:]
        case "cut":
            raw = raw[: draw(st.integers(0, len(raw)))]
        case "extend":
            raw += draw(st.binary(min_size=1, max_size=3))
    return raw


@crosscheck
@given(raw_values(), templates)
def test_value_encodings(sol: Solidity, raw: bytes, template: bytes) -> None:
    got = sol("commitment", template, raw)
    event(got[0])
    try:
        values = decode_values(raw)
    except EncodingError:
        assert got[0] != "ok", f"Solidity accepted what Python refused: {got}"
    else:
        assert got == ("ok", (commitment(template, raw), len(values)))


# --- templates --------------------------------------------------------------------------------


@st.composite
def field_tuples(draw: st.DrawFn) -> tuple[str, int, bool, int, int]:
    """A template field as the ABI passes it; now and then one member breaks its rule."""
    value_type, fmt, required, low, high = draw(template_fields).to_abi()
    match draw(st.sampled_from(["none"] * 12 + ["type", "format", "bounds"])):
        case "type":
            value_type = draw(type_bytes).decode("latin-1")
        case "format":
            fmt = draw(st.integers(3, 255))
        case "bounds":
            low, high = draw(st.integers(0, 9000)), draw(st.integers(0, 9000))
    return value_type, fmt, required, low, high


names = st.one_of(
    st.text(PRINTABLE + " ", min_size=1, max_size=64),
    st.text(PRINTABLE + " ", min_size=1, max_size=64),
    spliced(st.text(PRINTABLE + " ", max_size=64), st.sampled_from(["\t", "\x7f", "é", "中", "a"])),
)


@crosscheck
@given(hashes, names, st.one_of(st.integers(1, 3), st.integers(0, 2**32 - 1)), st.data())
def test_template_definitions(
    sol: Solidity, node: bytes, name: str, version: int, data: st.DataObject
) -> None:
    fields = data.draw(
        st.lists(
            field_tuples(),
            min_size=data.draw(st.sampled_from([0, 1, 1, 1])),
            max_size=5,
            unique_by=lambda f: f[0],
        )
    )
    if fields and data.draw(st.integers(0, 4)) == 0:  # repeat a type now and then
        fields.append((fields[0][0], *data.draw(field_tuples())[1:]))
    got = sol("compileTemplate", name, version, fields)
    event(got[0])
    _, error = python(validate_template, name, version, [TemplateField.from_abi(f) for f in fields])
    if error is not None:
        found = re.match(r"template field (\d+) ", str(error))
        assert got == ("TemplateInvalid", (int(found.group(1)) if found else NOT_A_FIELD,))
    else:
        assert got[0] == "ok"
        assert len(got[1][0]) == len(fields)
        assert sol("templateIdOf", node, name, version) == ("ok", (template_id(node, name, version),))


@st.composite
def template_and_values(draw: st.DrawFn) -> tuple[list[TemplateField], list[HandleValue]]:
    small = template_fields.map(
        lambda f: TemplateField(
            f.value_type, f.format, f.required, f.min_length % 4, f.min_length % 4 + f.max_length % 5
        )
    )
    fields = draw(st.lists(small, min_size=1, max_size=5, unique_by=lambda f: f.value_type))
    types = [f.value_type for f in fields] + ["EXTRA"]
    values = []
    for index in draw(st.lists(st.integers(1, 99), max_size=6, unique=True)):
        fmt = draw(st.sampled_from(list(ValueFormat)[:3]))
        values.append(HandleValue(index, draw(st.sampled_from(types)), b"a" * draw(st.integers(0, 9)), fmt))
    return fields, values


@crosscheck
@given(template_and_values(), hashes)
def test_template_checks(
    sol: Solidity, case: tuple[list[TemplateField], list[HandleValue]], tid: bytes
) -> None:
    fields, values = case
    got = sol("checkTemplate", tid, [f.to_abi() for f in fields], encode_values(values))
    event(got[0])
    _, error = python(check_template, fields, values)
    if error is None:
        assert got == ("ok", ())
    elif found := re.search(r"which template field (\d+) requires$", str(error)):
        assert got == ("TemplateFieldMissing", (tid, int(found.group(1))))
    elif "must have a type the template defines" in str(error):
        assert got == ("TemplateFieldUnknown", (tid, value_index(error)))
    else:
        assert got == ("TemplateFieldMismatch", (tid, value_index(error)))


# --- merkle trees -----------------------------------------------------------------------------


@crosscheck
@given(hashes, hashes)
def test_leaf_and_parent(sol: Solidity, a: bytes, b: bytes) -> None:
    assert sol("leafHash", a, b) == ("ok", (merkle.leaf(a, b),))
    assert sol("parentHash", a, b) == ("ok", (merkle.parent(a, b),))


@crosscheck
@given(st.lists(hashes, min_size=1, max_size=40), st.data())
def test_roots_and_proofs(sol: Solidity, leaves: list[bytes], data: st.DataObject) -> None:
    tree = merkle.MerkleTree(leaves)
    assert sol("merkleRoot", leaves) == ("ok", (tree.root,))
    position = data.draw(st.integers(0, len(leaves) - 1))
    proof = tree.proof(position)
    assert sol("verifyProof", proof, tree.root, leaves[position]) == ("ok", (True,))
    # A tampered proof, leaf or root: both sides must give the same answer (False, bar a fluke).
    tampered = list(proof)
    choice = data.draw(st.integers(0, 2))
    leaf, root = leaves[position], tree.root
    if choice == 0 and tampered:
        spot = data.draw(st.integers(0, len(tampered) - 1))
        tampered[spot] = bytes([tampered[spot][0] ^ 1]) + tampered[spot][1:]
    elif choice == 1:
        leaf = data.draw(hashes)
    else:
        root = data.draw(hashes)
    expected = merkle.verify(leaf, tampered, root)
    assert sol("verifyProof", tampered, root, leaf) == ("ok", (expected,))
    assert not expected or (tampered, leaf, root) == (proof, leaves[position], tree.root)


# --- batches ----------------------------------------------------------------------------------

zero_template_records = batch_records(max_size=6).map(
    lambda records: [BatchRecord(r.suffix, r.values) for r in records]
)


@crosscheck
@given(prefixes, zero_template_records)
def test_batch_roots(sol: Solidity, prefix: str, records: list[BatchRecord]) -> None:
    node = prefix_node(prefix)
    blob = encode_batch(node, records)
    expected = (merkle.root(merkle.batch_leaves(node, records)), len(records), keccak(blob))
    assert sol("batchRoot", node, blob) == ("ok", expected)


@st.composite
def mangled_batches(draw: st.DrawFn) -> bytes:
    """A valid blob with one thing done to it: a byte changed, a cut, a record repeated,
    records swapped, a template set, junk appended; or nothing."""
    records = draw(batch_records(max_size=4))
    zeroed = [BatchRecord(r.suffix, r.values) for r in records]
    node = prefix_node("88.100.1")
    chunks = [encode_batch(node, [r]) for r in sorted(zeroed, key=lambda r: handle_key(node, r.suffix))]
    how = draw(st.sampled_from(["none", "byte", "cut", "repeat", "swap", "template", "junk"]))
    if how == "repeat":
        chunks.append(chunks[-1])
    elif how == "swap" and len(chunks) > 1:
        chunks[0], chunks[1] = chunks[1], chunks[0]
    elif how == "template":
        chunks = [encode_batch(node, [r]) for r in records]  # unsorted, with templates
    blob = b"".join(chunks)
    if how == "byte":
        spot = draw(st.integers(0, len(blob) - 1))
        blob = blob[:spot] + bytes([draw(st.integers(0, 255))]) + blob[spot + 1 :]
    elif how == "cut":
        blob = blob[: draw(st.integers(0, len(blob) - 1))]
    elif how == "junk":
        blob += draw(st.binary(min_size=1, max_size=40))
    return blob


@crosscheck
@given(mangled_batches())
def test_batch_encodings(sol: Solidity, blob: bytes) -> None:
    node = prefix_node("88.100.1")
    got = sol("batchRoot", node, blob)
    event(got[0])
    try:
        records = decode_batch(node, blob)
    except EncodingError:
        assert got[0] != "ok", f"Solidity accepted what Python refused: {got}"
        return
    named = [r.template for r in records if r.template != bytes(32)]
    if named:
        assert got == ("TemplateNotFound", (named[0],))
    else:
        assert got == ("ok", (merkle.root(merkle.batch_leaves(node, records)), len(records), keccak(blob)))


def test_empty_batch(sol: Solidity) -> None:
    assert sol("batchRoot", bytes(32), b"") == ("BatchEmpty", ())
    with pytest.raises(EncodingError):
        decode_batch(bytes(32), b"")


def test_known_answers_agree(sol: Solidity) -> None:
    node = prefix_node("88")
    assert node == keccak(bytes(32) + keccak(b"88"))
    assert sol.run(sol.chain.prefixes, "nodeOf", "88") == ("ok", (node,))
    assert sol("handleKey", node, "零件🚀".encode()) == ("ok", (handle_key("88", "零件🚀"),))
    assert sol("validateSuffix", "a\u0085".encode()) == ("SuffixInvalidCharacter", (1,))
    assert sol("validateSuffix", b"x" * 256) == ("SuffixInvalidLength", (256,))
