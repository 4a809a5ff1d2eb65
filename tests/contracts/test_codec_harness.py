"""The codec libraries through CodecHarness, on directed edge cases: UTF-8 exactly as Python's
strict decoder, the suffix rule, value types, commitments, merges and the Merkle tree.
(tests/sdk/test_crosscheck.py adds hypothesis-driven agreement with the SDK.)"""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils import keccak
from web3.contract import Contract

from idfuse_sdk import merkle
from idfuse_sdk.encoding import HandleValue, commitment, encode_values
from tests.contracts.chain import Chain, make_chain

SURROGATE = b"\xed\xa0\x80"
EMOJI = "🚀".encode()

# (bytes, first offending position for well-formedness, or None when Python accepts them)
UTF8_CASES: list[tuple[bytes, int | None]] = [
    (b"", None),
    (b"plain ascii \x00\x1f\x7f", None),
    (b"\xc0\x80", 0),  # overlong NUL
    (b"\xc1\xbf", 0),  # overlong 2-byte form
    (b"\xe0\x80\x80", 0),  # overlong 3-byte form
    (b"\xe0\x9f\xbf", 0),  # overlong U+07FF
    (b"\xe0\xa0\x80", None),  # U+0800, the first 3-byte scalar
    (b"\xed\x9f\xbf", None),  # U+D7FF, just below the surrogates
    (SURROGATE, 0),  # U+D800
    (b"\xed\xbf\xbf", 0),  # U+DFFF
    (b"\xee\x80\x80", None),  # U+E000
    (b"\xef\xbf\xbf", None),  # U+FFFF (a noncharacter, still well-formed)
    (b"\xf0\x8f\xbf\xbf", 0),  # overlong 4-byte form
    (b"\xf0\x90\x80\x80", None),  # U+10000
    (b"\xf4\x8f\xbf\xbf", None),  # U+10FFFF
    (b"\xf4\x90\x80\x80", 0),  # above U+10FFFF
    (b"\xf5\x80\x80\x80", 0),
    (b"\xff", 0),
    (b"\x80", 0),  # a lone continuation byte
    (b"ab\xe2\x82", 2),  # truncated at the end
    (b"ab\xe2\x82z", 2),  # continuation missing
    (b"\xf0\x9f\x9a", 0),
    (EMOJI, None),
    ("零件 ü é 🚀 end".encode(), None),
    (b"x" * 31 + EMOJI, None),  # a character across a word boundary
    (b"x" * 31 + b"\xe2\x82", 31),
    (b"x" * 64 + b"\xc3", 64),
    (b"x" * 40 + "é".encode() * 20 + b"\xff" + b"y" * 50, 80),
    ("é".encode() * 200 + b"\xc3\x28", 400),
]


@pytest.fixture(scope="module")
def harness_chain() -> Chain:
    return make_chain()


@pytest.fixture(scope="module")
def harness(harness_chain: Chain) -> Contract:
    return harness_chain.harness("CodecHarness")


@pytest.fixture(scope="module")
def sol(harness_chain: Chain, harness: Contract) -> Any:
    return lambda name, *args: harness_chain.outcome(harness, name, *args)


# --- UTF-8 and suffixes ---------------------------------------------------------------------


def python_first_invalid(raw: bytes) -> int | None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return None


@pytest.mark.parametrize(("raw", "position"), UTF8_CASES)
def test_utf8_is_what_python_decodes(sol: Any, raw: bytes, position: int | None) -> None:
    assert python_first_invalid(raw) == position  # the table itself is right
    assert sol("isUtf8", raw) == ("ok", (position is None,))
    assert sol("firstInvalidUtf8", raw, False) == ("ok", (len(raw) if position is None else position,))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"\xc0\x80", ("SuffixInvalidCharacter", (0,))),
        (b"ok" + SURROGATE, ("SuffixInvalidCharacter", (2,))),
        (b"\xf4\x90\x80\x80", ("SuffixInvalidCharacter", (0,))),
        (b"\xc2\x80", ("SuffixInvalidCharacter", (0,))),  # U+0080, a C1 control
        (b"a\xc2\x9f", ("SuffixInvalidCharacter", (1,))),  # U+009F, the last C1 control
        (b"a\xc2\xa0", ("ok", ())),  # U+00A0 is no control
        (EMOJI, ("ok", ())),
        (b"\x00", ("SuffixInvalidCharacter", (0,))),
        (b"x\x1f", ("SuffixInvalidCharacter", (1,))),
        (b" ~", ("ok", ())),
        (b"x" * 32 + b"\x7f", ("SuffixInvalidCharacter", (32,))),
        (b"x" * 31 + b"\n" + b"y" * 40, ("SuffixInvalidCharacter", (31,))),
        (b"x" * 200 + EMOJI + b"\x01", ("SuffixInvalidCharacter", (204,))),
        (b"x" * 255, ("ok", ())),
        (b"", ("SuffixInvalidLength", (0,))),
        (b"x" * 256, ("SuffixInvalidLength", (256,))),
        (b"\xff" * 300, ("SuffixInvalidLength", (300,))),  # the length is checked first
    ],
)
def test_suffix_rule(sol: Any, raw: bytes, expected: tuple[str, tuple[Any, ...]]) -> None:
    assert sol("validateSuffix", raw) == expected


def test_suffix_positions_agree_with_the_strict_decoder(sol: Any) -> None:
    for raw, position in UTF8_CASES:
        if raw and position is not None and len(raw) <= 255:
            name, args = sol("validateSuffix", raw)
            assert name == "SuffixInvalidCharacter"
            assert args[0] <= position  # a control character may come first
            assert sol("firstInvalidUtf8", raw, True) == ("ok", args)


def test_handle_key(sol: Any) -> None:
    node = keccak(b"node")
    assert sol("handleKey", node, "PN/零件".encode()) == ("ok", (keccak(node + keccak("PN/零件".encode())),))
    assert sol("handleKey", node, b"a\x7f") == ("SuffixInvalidCharacter", (1,))


# --- value types, values and merges ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "valid", "reserved"),
    [
        (b"URL", True, False),
        (b"!", True, False),
        (b"~" * 64, True, False),
        (b"A" * 33, True, False),
        (b"", False, False),
        (b"A" * 65, False, False),
        (b"A B", False, False),
        (b"A\x7f", False, False),
        (b"A" * 63 + b"\x80", False, False),
        (b"HS_ADMIN", True, True),
        (b"hs_admin", True, True),
        (b"HS_ADMIN2", True, False),
        (b"HS_SERV", True, True),
        (b"HS_SERVICE", True, False),
        (b"hS_sItE", True, True),
        (b"HS_SITE.PREFIX", True, True),
        (b"HS_SIT", True, False),
        (b"XHS_SITE", True, False),
    ],
)
def test_value_types(sol: Any, raw: bytes, valid: bool, reserved: bool) -> None:
    assert sol("classifyType", raw) == ("ok", (valid, reserved))


def test_commitment_is_keccak_of_template_and_values(sol: Any) -> None:
    values = encode_values(
        [HandleValue.text(1, "URL", "https://example.com"), HandleValue(2, "BIN", b"\xff\x00", 1)]
    )
    template = keccak(b"template")
    assert sol("commitment", template, values) == ("ok", (commitment(template, values), 2))
    assert sol("commitment", template, b"\x00") == ("ok", (keccak(template + b"\x00"), 0))


def test_values_with_long_types_and_non_ascii_data_take_the_careful_path(sol: Any) -> None:
    values = encode_values(
        [
            HandleValue.text(1, "T" * 64, "ascii"),
            HandleValue.text(2, "H", "Härte 零件 🚀" * 50),
            HandleValue.text(3, "HS_SITX", "x"),
            HandleValue.text(4, "hs_adminx", "y"),
        ]
    )
    assert sol("commitment", bytes(32), values) == ("ok", (commitment(bytes(32), values), 4))


def enc(*items: tuple[int, str]) -> bytes:
    return encode_values(HandleValue.text(i, f"T{i}", text) for i, text in items)


@pytest.mark.parametrize(
    ("current", "upserts", "removals", "expected"),
    [
        (enc(), enc(), [], ("ok", (enc(),))),
        (enc((1, "a")), enc((1, "A" * 70)), [], ("ok", (enc((1, "A" * 70)),))),
        (enc((1, "a"), (3, "c")), enc((2, "b")), [3], ("ok", (enc((1, "a"), (2, "b")),))),
        (enc((1, "a")), enc((2, "b")), [2], ("ValueIndexNotFound", (2,))),
        (enc((1, "a"), (2, "b")), enc(), [2, 1], ("ValuesUnordered", (2, 1))),
        (enc(*((i, "x") for i in range(1, 33))), enc((40, "y")), [], ("ValuesTooMany", (33, 32))),
    ],
)
def test_merge(sol: Any, current: bytes, upserts: bytes, removals: list[int], expected: Any) -> None:
    assert sol("mergeValues", current, upserts, removals) == expected


# --- Merkle ---------------------------------------------------------------------------------


def test_leaf_and_parent_hashes(sol: Any) -> None:
    a, b = keccak(b"a"), keccak(b"b")
    assert sol("leafHash", a, b) == ("ok", (keccak(b"\x00" + a + b),))
    low, high = sorted((a, b))
    assert sol("parentHash", a, b) == ("ok", (keccak(b"\x01" + low + high),))
    assert sol("parentHash", b, a) == sol("parentHash", a, b)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33])
def test_roots_and_proofs_match_the_sdk(sol: Any, size: int) -> None:
    leaves = [keccak(i.to_bytes(4, "big")) for i in range(size)]
    tree = merkle.MerkleTree(leaves)
    assert sol("merkleRoot", leaves) == ("ok", (tree.root,))
    for position in {0, size // 2, size - 1}:
        proof = tree.proof(position)
        assert sol("verifyProof", proof, tree.root, leaves[position]) == ("ok", (True,))
        assert sol("verifyProof", proof, tree.root, keccak(b"other")) == ("ok", (False,))


def test_root_of_nothing_is_zero(sol: Any) -> None:
    assert sol("merkleRoot", []) == ("ok", (bytes(32),))
