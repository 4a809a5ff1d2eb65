"""IdentifierRegistry on py-evm: every write's success path (events, the slot-0 storage word,
versions), every revert with its exact custom error and arguments, and batch roots checked
against the SDK's Merkle tree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector, keccak

from idfuse_sdk import merkle
from idfuse_sdk.encoding import (
    BatchRecord,
    HandleValue,
    TemplateField,
    commitment,
    decode_values,
    encode_batch,
    encode_values,
    template_id,
)
from idfuse_sdk.identifiers import handle_key, prefix_node
from idfuse_sdk.types import ValueFormat
from tests.contracts.chain import ZERO32, Chain

TOMBSTONE = (1).to_bytes(32, "big")
NOT_A_FIELD = 2**256 - 1
SUSPENDED, REVOKED = 2, 3
PREFIX = "88.100"
NODE = prefix_node(PREFIX)
TOP = prefix_node("88")
COMPILED = Path(__file__).resolve().parents[2] / "sdk" / "idfuse_sdk" / "contracts" / "compiled"


# --- helpers --------------------------------------------------------------------------------


def raw_value(
    index: int, type_: bytes | str, data: bytes, fmt: int = 0, permissions: int = 14, ttl: int = 86400
) -> bytes:
    """One value, packed as docs/data-model.md says, with no rule checked (to feed bad input)."""
    t = type_.encode() if isinstance(type_, str) else type_
    return (
        index.to_bytes(4, "big")
        + bytes((permissions, fmt))
        + ttl.to_bytes(4, "big")
        + bytes((len(t),))
        + t
        + len(data).to_bytes(2, "big")
        + data
    )


def raw_values(*values: bytes) -> bytes:
    return bytes((len(values),)) + b"".join(values)


def text_values(**by_type: str) -> bytes:
    """Values 1, 2, … of the given types holding the given texts."""
    return encode_values(HandleValue.text(i, t, text) for i, (t, text) in enumerate(by_type.items(), 1))


def storage_word(chain: Chain, key: bytes) -> bytes:
    """The handle's word read straight from storage: mapping slot 0, as an auditor proves it."""
    slot = int.from_bytes(keccak(key + (0).to_bytes(32, "big")), "big")
    return bytes(chain.w3.eth.get_storage_at(chain.identifiers.address, slot))


def only_event(chain: Chain, name: str, receipt: Any) -> Any:
    (event,) = chain.events(chain.identifiers, name, receipt)
    return event.args


def create(
    chain: Chain, sender: str, suffix: str, values: bytes, template: bytes = ZERO32, node: bytes = NODE
) -> Any:
    return chain.transact(
        chain.identifiers.functions.createIdentifier(node, suffix, template, values), sender
    )


def update(
    chain: Chain,
    sender: str,
    suffix: str,
    current: bytes,
    upserts: bytes,
    removals: list[int],
    template: bytes = ZERO32,
) -> Any:
    fn = chain.identifiers.functions.updateIdentifier(NODE, suffix, template, current, upserts, removals)
    return chain.transact(fn, sender)


def register_template(chain: Chain, sender: str, name: str, version: int, fields: list[TemplateField]) -> Any:
    fn = chain.identifiers.functions.registerTemplate(NODE, name, version, [f.to_abi() for f in fields])
    return chain.transact(fn, sender)


def send_raw(chain: Chain, sender: str, signature: str, types: list[str], args: list[Any]) -> Any:
    """A transaction with hand-built calldata (to pass bytes no `string` argument can hold)."""
    data = function_signature_to_4byte_selector(signature) + abi_encode(types, args)
    tx = {"from": sender, "to": chain.identifiers.address, "data": "0x" + data.hex()}
    tx["gas"] = chain.w3.eth.estimate_gas(tx) + 100_000
    return chain.w3.eth.wait_for_transaction_receipt(chain.w3.eth.send_transaction(tx))


def batch(chain: Chain, sender: str, blob: bytes, node: bytes = NODE) -> Any:
    return chain.transact(chain.identifiers.functions.registerBatch(node, blob), sender)


def big_batch(chain: Chain, sender: str, blob: bytes) -> Any:
    """registerBatch with a fixed gas limit: eth-tester estimates gas by bisection, a dozen
    runs of the whole batch (and chain.transact always estimates)."""
    fn = chain.identifiers.functions.registerBatch(NODE, blob)
    receipt = chain.w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender, "gas": 200_000_000}))
    assert receipt["status"] == 1
    return receipt


def record(suffix: bytes | str, values: bytes = b"\x00", template: bytes = ZERO32) -> bytes:
    """One raw batch record (no rule checked)."""
    raw = suffix.encode() if isinstance(suffix, str) else suffix
    return bytes((len(raw),)) + raw + template + values


def sorted_blob(suffixes: list[str], values: bytes = b"\x00") -> bytes:
    """Records with the same values, in handle-key order."""
    return b"".join(record(s, values) for s in sorted(suffixes, key=lambda s: handle_key(NODE, s)))


PRODUCT = [
    TemplateField("URL", ValueFormat.STRING, required=True, min_length=8, max_length=200),
    TemplateField("NAME", ValueFormat.STRING, required=False, min_length=1, max_length=64),
    TemplateField("GTIN", ValueFormat.HEX, required=True, min_length=8, max_length=8),
]


def product_values(
    url: str = "https://example.com/p/1", gtin: bytes = b"\x00\x01\x02\x03\x04\x05\x06\x07"
) -> bytes:
    return encode_values(
        [
            HandleValue.text(1, "URL", url),
            HandleValue(2, "GTIN", gtin, ValueFormat.HEX),
        ]
    )


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def prefix(chain: Chain, owner: str) -> bytes:
    """88 allocated by the bootstrap admin, 88.100 registered under it, both owned by `owner`."""
    chain.transact(chain.consortium.functions.bootstrapAllocatePrefix("88", owner, 0), chain.admin)
    chain.transact(chain.prefixes.functions.registerChild(TOP, "100", owner, 0), owner)
    return NODE


@pytest.fixture
def product(chain: Chain, owner: str, prefix: bytes) -> bytes:
    """Template "product" v1 under 88.100."""
    register_template(chain, owner, "product", 1, PRODUCT)
    return template_id(NODE, "product", 1)


# --- deployment -----------------------------------------------------------------------------


def test_views_start_empty(chain: Chain) -> None:
    registry = chain.identifiers.functions
    assert registry.prefixRegistry().call() == chain.prefixes.address
    assert registry.batchCount().call() == 0
    assert registry.batch(1).call() == (ZERO32, ZERO32, 0, 0)
    assert registry.commitmentOf(keccak(b"x")).call() == ZERO32
    assert registry.versionOf(keccak(b"x")).call() == 0
    assert registry.template(keccak(b"x")).call() == [ZERO32, []]


def test_commitments_are_the_first_state_variable() -> None:
    """docs/data-model.md: auditors prove a handle's word at keccak(handleKey ‖ uint256(0))."""
    document = json.loads((COMPILED / "IdentifierRegistry.json").read_text())
    first = min(document["storageLayout"]["storage"], key=lambda item: (int(item["slot"]), item["offset"]))
    assert (first["label"], first["slot"], first["offset"]) == ("_commitments", "0", 0)


# --- createIdentifier -----------------------------------------------------------------------


def test_create_stores_the_commitment_in_slot_zero_and_emits_the_values(
    chain: Chain, owner: str, prefix: bytes
) -> None:
    values = text_values(URL="https://example.com/p/1", NAME="Widget", EMAIL="sales@example.com")
    key = handle_key(PREFIX, "PN-0001")
    expected = commitment(ZERO32, values)
    receipt = create(chain, owner, "PN-0001", values)
    assert dict(only_event(chain, "IdentifierCreated", receipt)) == {
        "handleKey": key,
        "prefixNode": NODE,
        "suffix": "PN-0001",
        "template": ZERO32,
        "values": values,
        "version": 1,
        "commitment": expected,
    }
    assert chain.identifiers.functions.commitmentOf(key).call() == expected
    assert storage_word(chain, key) == expected
    assert chain.identifiers.functions.versionOf(key).call() == 1


def test_create_returns_the_handle_key(chain: Chain, owner: str, prefix: bytes) -> None:
    fn = chain.identifiers.functions.createIdentifier(NODE, "零件/🚀", ZERO32, b"\x00")
    assert fn.call({"from": owner}) == handle_key(PREFIX, "零件/🚀")


def test_create_with_no_values(chain: Chain, owner: str, prefix: bytes) -> None:
    create(chain, owner, "empty", b"\x00")
    assert storage_word(chain, handle_key(PREFIX, "empty")) == keccak(ZERO32 + b"\x00")


def test_an_operator_may_create(chain: Chain, owner: str, operator: str, prefix: bytes) -> None:
    chain.transact(chain.prefixes.functions.setOperator(NODE, operator, True), owner)
    create(chain, operator, "by-operator", b"\x00")
    assert chain.identifiers.functions.versionOf(handle_key(PREFIX, "by-operator")).call() == 1


def test_create_refuses_a_live_handle(chain: Chain, owner: str, prefix: bytes) -> None:
    create(chain, owner, "PN-1", b"\x00")
    with chain.reverts("IdentifierAlreadyExists", handle_key(PREFIX, "PN-1")):
        create(chain, owner, "PN-1", text_values(URL="https://x.example"))


def test_create_recreates_a_deleted_handle(chain: Chain, owner: str, prefix: bytes) -> None:
    values = text_values(URL="https://example.com/again")
    create(chain, owner, "PN-1", b"\x00")
    chain.transact(chain.identifiers.functions.deleteIdentifier(NODE, "PN-1"), owner)
    receipt = create(chain, owner, "PN-1", values)
    key = handle_key(PREFIX, "PN-1")
    assert only_event(chain, "IdentifierCreated", receipt).version == 3
    assert storage_word(chain, key) == commitment(ZERO32, values)


def test_create_pins_a_batch_registered_handle(chain: Chain, owner: str, prefix: bytes) -> None:
    batch(chain, owner, sorted_blob(["B-1", "B-2"]))
    create(chain, owner, "B-1", text_values(URL="https://pinned.example"))
    assert chain.identifiers.functions.versionOf(handle_key(PREFIX, "B-1")).call() == 1


# --- authorisation and liveness (errors come from PrefixRegistry.requireWritable) -------------


WRITES = ["create", "update", "delete", "batch", "template"]


def write(chain: Chain, kind: str, sender: str, node: bytes = NODE) -> Any:
    registry = chain.identifiers.functions
    fn = {
        "create": lambda: registry.createIdentifier(node, "PN-1", ZERO32, b"\x00"),
        "update": lambda: registry.updateIdentifier(node, "PN-1", ZERO32, b"\x00", b"\x00", []),
        "delete": lambda: registry.deleteIdentifier(node, "PN-1"),
        "batch": lambda: registry.registerBatch(node, record("PN-1")),
        "template": lambda: registry.registerTemplate(node, "t", 1, [PRODUCT[0].to_abi()]),
    }[kind]()
    return chain.transact(fn, sender)


@pytest.mark.parametrize("kind", WRITES)
def test_writes_refuse_a_stranger(chain: Chain, stranger: str, prefix: bytes, kind: str) -> None:
    with chain.reverts("PrefixUnauthorized", NODE, stranger):
        write(chain, kind, stranger)


@pytest.mark.parametrize("kind", WRITES)
def test_writes_refuse_the_parent_owner_of_someone_elses_prefix(
    chain: Chain, owner: str, stranger: str, prefix: bytes, kind: str
) -> None:
    chain.transact(chain.prefixes.functions.registerChild(TOP, "200", stranger, 0), owner)
    with chain.reverts("PrefixUnauthorized", prefix_node("88.200"), owner):
        write(chain, kind, owner, prefix_node("88.200"))


@pytest.mark.parametrize("kind", WRITES)
def test_writes_refuse_an_unknown_prefix(chain: Chain, owner: str, kind: str) -> None:
    with chain.reverts("PrefixNotFound", NODE):
        write(chain, kind, owner)


@pytest.mark.parametrize("kind", WRITES)
def test_writes_refuse_under_a_suspended_ancestor(chain: Chain, owner: str, prefix: bytes, kind: str) -> None:
    chain.transact(chain.consortium.functions.proposeSetPrefixStatus(TOP, SUSPENDED), chain.admin)
    with chain.reverts("PrefixInactive", NODE, TOP, SUSPENDED):
        write(chain, kind, owner)


def test_writes_refuse_a_revoked_prefix(chain: Chain, owner: str, prefix: bytes) -> None:
    chain.transact(chain.prefixes.functions.setStatus(NODE, REVOKED), owner)
    with chain.reverts("PrefixInactive", NODE, NODE, REVOKED):
        write(chain, "create", owner)


@pytest.mark.parametrize("kind", WRITES)
def test_writes_refuse_an_expired_prefix(chain: Chain, owner: str, kind: str) -> None:
    chain.transact(chain.consortium.functions.bootstrapAllocatePrefix("88", owner, 0), chain.admin)
    expiry = chain.now() + 1000
    chain.transact(chain.prefixes.functions.registerChild(TOP, "100", owner, expiry), owner)
    if kind in ("update", "delete"):
        write(chain, "create", owner)
    chain.time_travel(2000)
    with chain.reverts("PrefixExpired", NODE, NODE, expiry):
        write(chain, kind, owner)


def test_writes_refuse_under_an_expired_ancestor(chain: Chain, owner: str) -> None:
    expiry = chain.now() + 1000
    chain.transact(chain.consortium.functions.bootstrapAllocatePrefix("88", owner, expiry), chain.admin)
    chain.transact(chain.prefixes.functions.registerChild(TOP, "100", owner, 0), owner)
    chain.time_travel(2000)
    with chain.reverts("PrefixExpired", NODE, TOP, expiry):
        write(chain, "create", owner)


# --- suffixes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "error", "args"),
    [
        ("", "SuffixInvalidLength", (0,)),
        ("x" * 256, "SuffixInvalidLength", (256,)),
        ("é" * 128, "SuffixInvalidLength", (256,)),
        ("a\x01b", "SuffixInvalidCharacter", (1,)),
        ("\x00", "SuffixInvalidCharacter", (0,)),
        ("tab\there", "SuffixInvalidCharacter", (3,)),
        ("del\x7f", "SuffixInvalidCharacter", (3,)),
        ("c1-\u0085", "SuffixInvalidCharacter", (3,)),
        ("c1-\u009f", "SuffixInvalidCharacter", (3,)),
        ("x" * 40 + "\n", "SuffixInvalidCharacter", (40,)),
    ],
)
def test_create_refuses_invalid_suffixes(
    chain: Chain, owner: str, prefix: bytes, suffix: str, error: str, args: tuple[int, ...]
) -> None:
    with chain.reverts(error, *args):
        create(chain, owner, suffix, b"\x00")


@pytest.mark.parametrize(
    ("raw", "position"),
    [
        (b"\xc0\x80", 0),  # overlong NUL
        (b"ab\xed\xa0\x80", 2),  # surrogate U+D800
        (b"\xf4\x90\x80\x80", 0),  # above U+10FFFF
        (b"ok\xe2\x82", 2),  # truncated sequence
        (b"\xff", 0),
    ],
)
def test_create_refuses_malformed_utf8_suffixes(
    chain: Chain, owner: str, prefix: bytes, raw: bytes, position: int
) -> None:
    with chain.reverts("SuffixInvalidCharacter", position):
        send_raw(
            chain,
            owner,
            "createIdentifier(bytes32,string,bytes32,bytes)",
            ["bytes32", "bytes", "bytes32", "bytes"],
            [NODE, raw, ZERO32, b"\x00"],
        )


def test_suffixes_are_case_sensitive_and_may_hold_slashes(chain: Chain, owner: str, prefix: bytes) -> None:
    for suffix in ("PN-1", "pn-1", "a/b/c", "x" * 255, "U+00A0\u00a0ok"):
        create(chain, owner, suffix, b"\x00")
        assert chain.identifiers.functions.versionOf(handle_key(PREFIX, suffix)).call() == 1


# --- values ---------------------------------------------------------------------------------


URL = raw_value(1, "URL", b"https://example.com")


@pytest.mark.parametrize(
    ("values", "error", "args"),
    [
        (b"", "ValuesMalformed", (0,)),
        (raw_values(URL)[:-1], "ValuesMalformed", (1,)),
        (raw_values(URL, raw_value(2, "X", b"y"))[:-3], "ValuesMalformed", (1 + len(URL),)),
        (raw_values(URL) + b"\x00", "ValuesMalformed", (1 + len(URL),)),
        (b"\x01" + URL[:5], "ValuesMalformed", (1,)),
        (bytes((33,)) + b"".join(raw_value(i, "T", b"") for i in range(1, 34)), "ValuesTooMany", (33, 32)),
        (raw_values(raw_value(0, "T", b"")), "ValueIndexInvalid", (0,)),
        (raw_values(raw_value(100, "T", b"")), "ValueIndexInvalid", (100,)),
        (raw_values(raw_value(5, "T", b""), raw_value(101, "T", b"")), "ValueIndexInvalid", (101,)),
        (raw_values(raw_value(2, "T", b""), raw_value(1, "T", b"")), "ValuesUnordered", (2, 1)),
        (raw_values(raw_value(7, "T", b""), raw_value(7, "T", b"")), "ValuesUnordered", (7, 7)),
        (raw_values(raw_value(3, "T", b"", permissions=16)), "ValuePermissionsInvalid", (3, 16)),
        (raw_values(raw_value(3, "T", b"", fmt=3)), "ValueFormatInvalid", (3, 3)),
        (raw_values(raw_value(3, "T", b"", fmt=4)), "ValueFormatInvalid", (3, 4)),
        (raw_values(raw_value(3, "T", b"", fmt=255)), "ValueFormatInvalid", (3, 255)),
        (raw_values(raw_value(4, "", b"")), "ValueTypeInvalid", (4,)),
        (raw_values(raw_value(4, "A" * 65, b"")), "ValueTypeInvalid", (4,)),
        (raw_values(raw_value(4, "TWO WORDS", b"")), "ValueTypeInvalid", (4,)),
        (raw_values(raw_value(4, "A" * 40 + "\x7f", b"")), "ValueTypeInvalid", (4,)),
        (raw_values(raw_value(4, "TYPE\xe9".encode("latin-1"), b"")), "ValueTypeInvalid", (4,)),
        (raw_values(raw_value(4, "HS_ADMIN", b"")), "ValueTypeReserved", (4,)),
        (raw_values(raw_value(4, "hs_admin", b"")), "ValueTypeReserved", (4,)),
        (raw_values(raw_value(4, "HS_SERV", b"")), "ValueTypeReserved", (4,)),
        (raw_values(raw_value(4, "HS_SITE", b"")), "ValueTypeReserved", (4,)),
        (raw_values(raw_value(4, "Hs_Site.Prefix", b"")), "ValueTypeReserved", (4,)),
        (raw_values(raw_value(5, "DATA", b"x" * 8193, fmt=1)), "ValueDataTooLong", (5, 8193, 8192)),
        (raw_values(raw_value(6, "TEXT", b"bad \xff")), "ValueDataNotUtf8", (6,)),
        (raw_values(raw_value(6, "TEXT", b"x" * 70 + b"\xed\xa0\x80")), "ValueDataNotUtf8", (6,)),
    ],
)
def test_create_refuses_invalid_values(
    chain: Chain, owner: str, prefix: bytes, values: bytes, error: str, args: tuple[int, ...]
) -> None:
    with chain.reverts(error, *args):
        create(chain, owner, "PN-1", values)


@pytest.mark.parametrize(
    "values",
    [
        raw_values(raw_value(1, "HS_ADMINX", b""), raw_value(2, "HS_SER", b""), raw_value(3, "HSSITE", b"")),
        raw_values(raw_value(1, "BIN", b"\xff\xfe\x00", fmt=1), raw_value(2, "HEX", b"\xc0\x80", fmt=2)),
        raw_values(
            raw_value(1, "A" * 64, "零件🚀".encode() * 100), raw_value(4294967295, "~", b"", ttl=2**32 - 1)
        ),
        raw_values(raw_value(99, "T", b"x" * 8192, permissions=15), raw_value(102, "T", b"", permissions=0)),
        bytes((32,)) + b"".join(raw_value(i, "T", b"") for i in range(1, 33)),
    ],
)
def test_create_accepts_values_at_the_limits(chain: Chain, owner: str, prefix: bytes, values: bytes) -> None:
    receipt = create(chain, owner, "PN-1", values)
    assert only_event(chain, "IdentifierCreated", receipt).values == values


# --- templates ------------------------------------------------------------------------------


def test_register_template_stores_and_emits(chain: Chain, owner: str, prefix: bytes) -> None:
    receipt = register_template(chain, owner, "Product sheet", 7, PRODUCT)
    tid = template_id(NODE, "Product sheet", 7)
    event = only_event(chain, "TemplateRegistered", receipt)
    assert (event.templateId, event.prefixNode, event.name, event.version) == (tid, NODE, "Product sheet", 7)
    assert [tuple(f.values()) for f in event.fields] == [
        f.to_abi() for f in PRODUCT
    ]  # event structs are dicts
    stored_node, fields = chain.identifiers.functions.template(tid).call()
    assert stored_node == NODE
    assert [tuple(f) for f in fields] == [f.to_abi() for f in PRODUCT]


def test_register_template_returns_its_id(chain: Chain, owner: str, prefix: bytes) -> None:
    fn = chain.identifiers.functions.registerTemplate(NODE, "t", 2**32 - 1, [PRODUCT[0].to_abi()])
    assert fn.call({"from": owner}) == template_id(NODE, "t", 2**32 - 1)


def test_templates_are_immutable(chain: Chain, owner: str, product: bytes) -> None:
    with chain.reverts("TemplateAlreadyExists", product):
        register_template(chain, owner, "product", 1, PRODUCT[:1])
    register_template(chain, owner, "product", 2, PRODUCT[:1])
    assert len(chain.identifiers.functions.template(template_id(NODE, "product", 2)).call()[1]) == 1


def field(
    value_type: str = "T", fmt: int = 0, required: bool = False, low: int = 0, high: int = 10
) -> TemplateField:
    return TemplateField(value_type, fmt, required, low, high)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "version", "fields", "number"),
    [
        ("", 1, [field()], NOT_A_FIELD),
        ("n" * 65, 1, [field()], NOT_A_FIELD),
        ("tab\tname", 1, [field()], NOT_A_FIELD),
        ("caf\u00e9", 1, [field()], NOT_A_FIELD),
        ("name", 0, [field()], NOT_A_FIELD),
        ("name", 1, [], NOT_A_FIELD),
        ("name", 1, [field(f"T{i}") for i in range(33)], NOT_A_FIELD),
        ("name", 1, [field("A"), field("")], 1),
        ("name", 1, [field("A"), field("B"), field("NO SPACE")], 2),
        ("name", 1, [field("X" * 65)], 0),
        ("name", 1, [field("A"), field("hs_site.x")], 1),
        ("name", 1, [field("HS_ADMIN")], 0),
        ("name", 1, [field("A"), field("B"), field("A")], 2),
        ("name", 1, [field("A", fmt=3)], 0),
        ("name", 1, [field("A"), field("B", low=11, high=10)], 1),
        ("name", 1, [field("A", high=8193)], 0),
    ],
)
def test_register_template_refuses_invalid_definitions(
    chain: Chain, owner: str, prefix: bytes, name: str, version: int, fields: list[TemplateField], number: int
) -> None:
    with chain.reverts("TemplateInvalid", number):
        register_template(chain, owner, name, version, fields)


def test_register_template_accepts_the_limits(chain: Chain, owner: str, prefix: bytes) -> None:
    fields = [field(f"T{i}", fmt=i % 3, required=i % 2 == 0, low=i, high=8192) for i in range(32)]
    register_template(chain, owner, " ~" * 32, 1, fields)
    _, stored = chain.identifiers.functions.template(template_id(NODE, " ~" * 32, 1)).call()
    assert [tuple(f) for f in stored] == [f.to_abi() for f in fields]


def test_create_with_a_template(chain: Chain, owner: str, product: bytes) -> None:
    values = product_values()
    receipt = create(chain, owner, "P-1", values, product)
    event = only_event(chain, "IdentifierCreated", receipt)
    assert (event.template, event.commitment) == (product, commitment(product, values))
    assert storage_word(chain, handle_key(PREFIX, "P-1")) == commitment(product, values)


def test_create_refuses_an_unknown_template(chain: Chain, owner: str, prefix: bytes) -> None:
    with chain.reverts("TemplateNotFound", keccak(b"nope")):
        create(chain, owner, "P-1", b"\x00", keccak(b"nope"))


def test_create_refuses_another_prefixs_template(chain: Chain, owner: str, product: bytes) -> None:
    chain.transact(chain.prefixes.functions.registerChild(TOP, "200", owner, 0), owner)
    with chain.reverts("TemplateNotFound", product):
        create(chain, owner, "P-1", product_values(), product, node=prefix_node("88.200"))


@pytest.mark.parametrize(
    ("values", "error", "arg"),
    [
        (text_values(URL="https://example.com/p/1", COLOUR="red"), "TemplateFieldUnknown", 2),
        (text_values(url="https://example.com/p/1"), "TemplateFieldUnknown", 1),
        (raw_values(raw_value(1, "URL", b"https://example.com", fmt=1)), "TemplateFieldMismatch", 1),
        (text_values(URL="https://"[:7]), "TemplateFieldMismatch", 1),
        (text_values(URL="https://" + "x" * 193), "TemplateFieldMismatch", 1),
        (raw_values(raw_value(3, "GTIN", b"\x00" * 8, fmt=0)), "TemplateFieldMismatch", 3),
        (
            raw_values(raw_value(1, "URL", b"https://e.com"), raw_value(2, "NAME", b"")),
            "TemplateFieldMismatch",
            2,
        ),
        (text_values(URL="https://example.com/p/1"), "TemplateFieldMissing", 2),
        (raw_values(raw_value(1, "GTIN", b"\x00" * 8, fmt=2)), "TemplateFieldMissing", 0),
        (b"\x00", "TemplateFieldMissing", 0),
    ],
)
def test_create_refuses_values_breaking_the_template(
    chain: Chain, owner: str, product: bytes, values: bytes, error: str, arg: int
) -> None:
    with chain.reverts(error, product, arg):
        create(chain, owner, "P-1", values, product)


def test_a_template_allows_repeated_types_and_optional_fields(
    chain: Chain, owner: str, product: bytes
) -> None:
    values = raw_values(
        raw_value(1, "URL", b"https://a.example"),
        raw_value(2, "URL", b"https://b.example"),
        raw_value(3, "GTIN", b"\x01" * 8, fmt=2),
        raw_value(4, "NAME", "Pompe à eau".encode()),
    )
    create(chain, owner, "P-1", values, product)


# --- updateIdentifier -----------------------------------------------------------------------


def test_update_merges_upserts_and_removals(chain: Chain, owner: str, prefix: bytes) -> None:
    current = encode_values(
        [
            HandleValue.text(1, "URL", "https://example.com/old"),
            HandleValue.text(2, "NAME", "Widget"),
            HandleValue.text(5, "EMAIL", "a@example.com"),
            HandleValue.text(9, "NOTE", "drop me"),
        ]
    )
    create(chain, owner, "PN-1", current)
    upserts = encode_values(
        [
            HandleValue.text(1, "URL", "https://example.com/new"),
            HandleValue.text(3, "DESC", "added"),
            HandleValue.text(12, "TAIL", "added last"),
        ]
    )
    receipt = update(chain, owner, "PN-1", current, upserts, [2, 9])
    expected = encode_values(
        [
            HandleValue.text(1, "URL", "https://example.com/new"),
            HandleValue.text(3, "DESC", "added"),
            HandleValue.text(5, "EMAIL", "a@example.com"),
            HandleValue.text(12, "TAIL", "added last"),
        ]
    )
    key = handle_key(PREFIX, "PN-1")
    assert dict(only_event(chain, "IdentifierUpdated", receipt)) == {
        "handleKey": key,
        "prefixNode": NODE,
        "suffix": "PN-1",
        "template": ZERO32,
        "values": expected,
        "version": 2,
        "commitment": commitment(ZERO32, expected),
    }
    assert storage_word(chain, key) == commitment(ZERO32, expected)
    assert chain.identifiers.functions.versionOf(key).call() == 2


def test_update_returns_the_new_version(chain: Chain, owner: str, prefix: bytes) -> None:
    create(chain, owner, "PN-1", b"\x00")
    fn = chain.identifiers.functions.updateIdentifier(NODE, "PN-1", ZERO32, b"\x00", b"\x00", [])
    assert fn.call({"from": owner}) == 2


@pytest.mark.parametrize(
    ("current", "upserts", "removals", "expected"),
    [
        ([], [(4, "d")], [], [(4, "d")]),
        ([(1, "a"), (2, "b")], [], [1, 2], []),
        ([(1, "a"), (2, "b")], [(2, "B")], [2], [(1, "a")]),  # a removal wins over an upsert
        ([(5, "e")], [(1, "a"), (9, "i")], [], [(1, "a"), (5, "e"), (9, "i")]),
        ([(1, "a"), (3, "c")], [(2, "b"), (3, "C")], [1], [(2, "b"), (3, "C")]),
        ([(1, "a" * 100)], [(1, "short")], [], [(1, "short")]),
    ],
)
def test_update_merges_by_index(
    chain: Chain,
    owner: str,
    prefix: bytes,
    current: list[tuple[int, str]],
    upserts: list[tuple[int, str]],
    removals: list[int],
    expected: list[tuple[int, str]],
) -> None:
    def enc(items: list[tuple[int, str]]) -> bytes:
        return encode_values(HandleValue.text(i, f"T{i}", t) for i, t in items)

    create(chain, owner, "PN-1", enc(current))
    receipt = update(chain, owner, "PN-1", enc(current), enc(upserts), removals)
    assert only_event(chain, "IdentifierUpdated", receipt).values == enc(expected)


def test_update_refuses_a_handle_never_written(chain: Chain, owner: str, prefix: bytes) -> None:
    with chain.reverts("IdentifierNotFound", handle_key(PREFIX, "PN-1")):
        update(chain, owner, "PN-1", b"\x00", b"\x00", [])


def test_update_refuses_a_deleted_handle(chain: Chain, owner: str, prefix: bytes) -> None:
    create(chain, owner, "PN-1", b"\x00")
    chain.transact(chain.identifiers.functions.deleteIdentifier(NODE, "PN-1"), owner)
    with chain.reverts("IdentifierNotFound", handle_key(PREFIX, "PN-1")):
        update(chain, owner, "PN-1", b"\x00", b"\x00", [])


def test_update_refuses_a_batch_only_handle(chain: Chain, owner: str, prefix: bytes) -> None:
    batch(chain, owner, sorted_blob(["B-1"]))
    with chain.reverts("IdentifierNotFound", handle_key(PREFIX, "B-1")):
        update(chain, owner, "B-1", b"\x00", b"\x00", [])


def test_update_refuses_stale_values(chain: Chain, owner: str, prefix: bytes) -> None:
    first = text_values(URL="https://example.com/1")
    second = text_values(URL="https://example.com/2")
    create(chain, owner, "PN-1", first)
    update(chain, owner, "PN-1", first, second, [])
    with chain.reverts(
        "IdentifierStaleValues",
        handle_key(PREFIX, "PN-1"),
        commitment(ZERO32, second),
        commitment(ZERO32, first),
    ):
        update(chain, owner, "PN-1", first, b"\x00", [])


def test_update_refuses_the_wrong_template(chain: Chain, owner: str, product: bytes) -> None:
    values = product_values()
    create(chain, owner, "P-1", values, product)
    with chain.reverts(
        "IdentifierStaleValues",
        handle_key(PREFIX, "P-1"),
        commitment(product, values),
        commitment(ZERO32, values),
    ):
        update(chain, owner, "P-1", values, b"\x00", [], ZERO32)


@pytest.mark.parametrize(
    ("removals", "error", "args"),
    [
        ([3], "ValueIndexNotFound", (3,)),
        ([1, 3], "ValueIndexNotFound", (3,)),
        ([0], "ValueIndexNotFound", (0,)),
        ([100], "ValueIndexNotFound", (100,)),
        ([2, 99], "ValueIndexNotFound", (99,)),
        ([4], "ValueIndexNotFound", (4,)),  # only in the upserts, not held now
        ([2, 1], "ValuesUnordered", (2, 1)),
        ([2, 2], "ValuesUnordered", (2, 2)),
    ],
)
def test_update_refuses_bad_removals(
    chain: Chain, owner: str, prefix: bytes, removals: list[int], error: str, args: tuple[int, ...]
) -> None:
    current = text_values(A="1", B="2")
    create(chain, owner, "PN-1", current)
    with chain.reverts(error, *args):
        update(chain, owner, "PN-1", current, encode_values([HandleValue.text(4, "D", "4")]), removals)


@pytest.mark.parametrize(
    ("upserts", "error", "args"),
    [
        (b"", "ValuesMalformed", (0,)),
        (raw_values(URL) + b"\x01", "ValuesMalformed", (1 + len(URL),)),
        (raw_values(raw_value(100, "T", b"")), "ValueIndexInvalid", (100,)),
        (raw_values(raw_value(3, "T", b"", fmt=4)), "ValueFormatInvalid", (3, 4)),
        (raw_values(raw_value(3, "HS_ADMIN", b"")), "ValueTypeReserved", (3,)),
    ],
)
def test_update_refuses_invalid_upserts(
    chain: Chain, owner: str, prefix: bytes, upserts: bytes, error: str, args: tuple[int, ...]
) -> None:
    create(chain, owner, "PN-1", b"\x00")
    with chain.reverts(error, *args):
        update(chain, owner, "PN-1", b"\x00", upserts, [])


def test_update_refuses_more_than_32_values(chain: Chain, owner: str, prefix: bytes) -> None:
    current = encode_values(HandleValue.text(i, "T", "x") for i in range(1, 21))
    upserts = encode_values(HandleValue.text(i, "T", "y") for i in range(15, 35))
    create(chain, owner, "PN-1", current)
    with chain.reverts("ValuesTooMany", 34, 32):
        update(chain, owner, "PN-1", current, upserts, [])
    update(chain, owner, "PN-1", current, upserts, [1, 2])


def test_update_checks_the_template_on_the_result(chain: Chain, owner: str, product: bytes) -> None:
    values = product_values()
    create(chain, owner, "P-1", values, product)
    with chain.reverts("TemplateFieldMissing", product, 0):
        update(chain, owner, "P-1", values, b"\x00", [1], product)
    with chain.reverts("TemplateFieldUnknown", product, 7):
        update(chain, owner, "P-1", values, raw_values(raw_value(7, "A", b"1")), [], product)
    receipt = update(chain, owner, "P-1", values, text_values(URL="https://example.com/p/2"), [], product)
    assert only_event(chain, "IdentifierUpdated", receipt).values == product_values("https://example.com/p/2")


# --- deleteIdentifier -----------------------------------------------------------------------


def test_delete_leaves_the_tombstone(chain: Chain, owner: str, prefix: bytes) -> None:
    create(chain, owner, "PN-1", text_values(URL="https://example.com"))
    receipt = chain.transact(chain.identifiers.functions.deleteIdentifier(NODE, "PN-1"), owner)
    key = handle_key(PREFIX, "PN-1")
    assert dict(only_event(chain, "IdentifierDeleted", receipt)) == {
        "handleKey": key,
        "prefixNode": NODE,
        "suffix": "PN-1",
        "version": 2,
    }
    assert storage_word(chain, key) == TOMBSTONE
    assert chain.identifiers.functions.commitmentOf(key).call() == TOMBSTONE
    assert chain.identifiers.functions.versionOf(key).call() == 2


def test_delete_refuses_a_missing_or_deleted_handle(chain: Chain, owner: str, prefix: bytes) -> None:
    key = handle_key(PREFIX, "PN-1")
    with chain.reverts("IdentifierNotFound", key):
        chain.transact(chain.identifiers.functions.deleteIdentifier(NODE, "PN-1"), owner)
    create(chain, owner, "PN-1", b"\x00")
    chain.transact(chain.identifiers.functions.deleteIdentifier(NODE, "PN-1"), owner)
    with chain.reverts("IdentifierNotFound", key):
        chain.transact(chain.identifiers.functions.deleteIdentifier(NODE, "PN-1"), owner)


def test_delete_validates_the_suffix(chain: Chain, owner: str, prefix: bytes) -> None:
    with chain.reverts("SuffixInvalidCharacter", 0):
        chain.transact(chain.identifiers.functions.deleteIdentifier(NODE, "\x1b"), owner)


# --- registerBatch --------------------------------------------------------------------------


def realistic_records(count: int) -> list[BatchRecord]:
    return [
        BatchRecord(
            f"SN-{i:08d}",
            (
                HandleValue.text(1, "URL", f"https://example.com/products/{i}"),
                *((HandleValue.text(2, "NAME", f"Industrial pump model {i % 97}"),) if i % 3 else ()),
            ),
        )
        for i in range(count)
    ]


def test_a_batch_of_1000_records_has_the_sdk_root(chain: Chain, owner: str, prefix: bytes) -> None:
    records = realistic_records(1000)
    blob = encode_batch(NODE, records)
    leaves = merkle.batch_leaves(NODE, records)
    tree = merkle.MerkleTree(leaves)
    receipt = big_batch(chain, owner, blob)
    event = only_event(chain, "BatchRegistered", receipt)
    assert dict(event) == {
        "batchId": 1,
        "prefixNode": NODE,
        "registrant": owner,
        "root": tree.root,
        "count": 1000,
        "recordsHash": keccak(blob),
    }
    assert chain.identifiers.functions.batch(1).call() == (NODE, tree.root, 1000, receipt.blockNumber)
    assert chain.identifiers.functions.batchCount().call() == 1
    # The batch stores no per-handle word: the records stay "never written individually".
    assert storage_word(chain, handle_key(PREFIX, "SN-00000001")) == ZERO32
    harness = chain.harness("CodecHarness")
    for position in (0, 511, 999):
        assert harness.functions.verifyProof(tree.proof(position), tree.root, leaves[position]).call()


def test_batch_returns_its_id_and_root(chain: Chain, owner: str, prefix: bytes) -> None:
    records = realistic_records(3)
    blob = encode_batch(NODE, records)
    batch(chain, owner, blob)
    got = chain.identifiers.functions.registerBatch(NODE, blob).call({"from": owner})
    assert got == [2, merkle.root(merkle.batch_leaves(NODE, records))]


def test_batch_ids_count_from_one(chain: Chain, owner: str, prefix: bytes) -> None:
    for expected in (1, 2, 3):
        receipt = batch(chain, owner, sorted_blob([f"B-{expected}"]))
        assert only_event(chain, "BatchRegistered", receipt).batchId == expected
    assert chain.identifiers.functions.batchCount().call() == 3


def test_batch_suffixes_of_every_shape(chain: Chain, owner: str, prefix: bytes) -> None:
    suffixes = ["a", "x" * 31, "y" * 32, "z" * 33, "w" * 255, "零件-1", "é" * 16, "bolt/M8 ~", "\u00a0"]
    records = [
        BatchRecord(s, (HandleValue.text(1, "URL", f"https://example.com/{i}"),))
        for i, s in enumerate(suffixes)
    ]
    receipt = batch(chain, owner, encode_batch(NODE, records))
    assert only_event(chain, "BatchRegistered", receipt).root == merkle.root(
        merkle.batch_leaves(NODE, records)
    )


def test_a_batch_of_one_has_its_leaf_as_root(chain: Chain, owner: str, prefix: bytes) -> None:
    receipt = batch(chain, owner, record("only"))
    leaf = merkle.leaf(handle_key(PREFIX, "only"), commitment(ZERO32, b"\x00"))
    assert only_event(chain, "BatchRegistered", receipt).root == leaf


def test_a_batch_with_a_template(chain: Chain, owner: str, product: bytes) -> None:
    records = [
        BatchRecord(f"P-{i}", tuple(decode_values(product_values(f"https://example.com/{i}"))), product)
        for i in range(50)
    ]
    records += [BatchRecord(f"Q-{i}", (HandleValue.text(1, "ANY", "thing"),)) for i in range(50)]
    receipt = batch(chain, owner, encode_batch(NODE, records))
    assert only_event(chain, "BatchRegistered", receipt).root == merkle.root(
        merkle.batch_leaves(NODE, records)
    )


def test_batch_refuses_an_empty_blob(chain: Chain, owner: str, prefix: bytes) -> None:
    with chain.reverts("BatchEmpty"):
        batch(chain, owner, b"")


def test_batch_refuses_more_than_20000_records(chain: Chain, owner: str, prefix: bytes) -> None:
    blob = sorted_blob([format(i, "x") for i in range(20_001)])
    with chain.reverts("BatchTooLarge", 20_000):
        batch(chain, owner, blob)


def offsets(blob: bytes) -> list[int]:
    """Where each record of a blob of value-less records starts."""
    found, at = [], 0
    while at < len(blob):
        found.append(at)
        at += 1 + blob[at] + 32 + 1
    return found


def test_batch_refuses_truncated_records(chain: Chain, owner: str, prefix: bytes) -> None:
    blob = sorted_blob(["a", "b", "c"])
    last = offsets(blob)[-1]
    for cut in (blob[:-1], blob[: last + 1], blob[: last + 5], blob[: last + 34]):
        with chain.reverts("BatchMalformed", last):
            batch(chain, owner, cut)
    values = raw_values(URL)
    full = record("a", values)
    with chain.reverts("BatchMalformed", 0):
        batch(chain, owner, full[:-1])
    with chain.reverts("BatchMalformed", 0):
        batch(chain, owner, bytes((200,)) + b"x" * 50)


def test_batch_refuses_records_out_of_order(chain: Chain, owner: str, prefix: bytes) -> None:
    blob = sorted_blob(["a", "b", "c", "d"])
    starts = offsets(blob)
    records = [blob[s:e] for s, e in zip(starts, [*starts[1:], len(blob)], strict=True)]
    swapped = records[0] + records[2] + records[1] + records[3]
    with chain.reverts("BatchUnordered", starts[2]):
        batch(chain, owner, swapped)
    with chain.reverts("BatchUnordered", starts[1]):
        batch(chain, owner, records[0] + records[0])


@pytest.mark.parametrize(
    ("bad", "error", "args"),
    [
        (record(b""), "SuffixInvalidLength", (0,)),
        (record(b"ok\x00"), "SuffixInvalidCharacter", (2,)),
        (record(b"\xc2\x85"), "SuffixInvalidCharacter", (0,)),
        (record(b"\xed\xbf\xbf"), "SuffixInvalidCharacter", (0,)),
        (record(b"x" * 31 + b"\x01"), "SuffixInvalidCharacter", (31,)),
        (record(b"x" * 32 + b"\x7f"), "SuffixInvalidCharacter", (32,)),
        (record("x", raw_values(raw_value(0, "T", b""))), "ValueIndexInvalid", (0,)),
        (record("x", raw_values(raw_value(1, "T", b"\xff"))), "ValueDataNotUtf8", (1,)),
        (
            record("x", bytes((33,)) + b"".join(raw_value(i, "T", b"") for i in range(1, 34))),
            "ValuesTooMany",
            (33, 32),
        ),
        (record("x", b"\x00", keccak(b"nope")), "TemplateNotFound", (keccak(b"nope"),)),
    ],
)
def test_batch_refuses_records_breaking_a_rule(
    chain: Chain, owner: str, prefix: bytes, bad: bytes, error: str, args: tuple[Any, ...]
) -> None:
    # Suffixes are checked before the order, so a bad suffix can follow any good record.
    blob = encode_batch(NODE, realistic_records(5)) + bad if error.startswith("Suffix") else bad
    with chain.reverts(error, *args):
        batch(chain, owner, blob)


def test_batch_refuses_records_breaking_their_template(chain: Chain, owner: str, product: bytes) -> None:
    with chain.reverts("TemplateFieldMissing", product, 2):
        batch(chain, owner, record("x", text_values(URL="https://example.com/x"), product))
    with chain.reverts("TemplateFieldUnknown", product, 1):
        batch(chain, owner, record("x", text_values(COLOUR="blue"), product))
