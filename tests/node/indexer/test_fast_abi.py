"""The events module's fast ABI decoder answers exactly what eth_abi answers, or None (then eth_abi
decides): canonical encodings of random arguments, and arbitrary mutations of them."""

import pytest
from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError
from hypothesis import given
from hypothesis import strategies as st

from idfuse_node.indexer.events import _fast_decode

TYPES = ("string", "bytes32", "bytes", "uint64", "bytes32", "address", "bool", "uint8")


def _args():
    return st.tuples(
        st.text(max_size=80),
        st.binary(min_size=32, max_size=32),
        st.binary(max_size=200),
        st.integers(0, 2**64 - 1),
        st.binary(min_size=32, max_size=32),
        st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex()),
        st.booleans(),
        st.integers(0, 255),
    )


@given(_args())
def test_canonical_encodings_decode_as_eth_abi_does(args):
    data = encode(list(TYPES), list(args))
    assert _fast_decode(TYPES, data) == list(decode(list(TYPES), data, strict=True))


@given(_args(), st.integers(0, 10_000), st.integers(0, 255), st.binary(max_size=40))
def test_mutated_encodings_never_disagree(args, position, byte, tail):
    data = bytearray(encode(list(TYPES), list(args)))
    data[position % len(data)] = byte
    mutated = bytes(data) + tail
    fast = _fast_decode(TYPES, mutated)
    if fast is None:
        return
    try:
        expected = list(decode(list(TYPES), mutated, strict=True))
    except DecodingError as error:
        raise AssertionError(f"fast path accepted what eth_abi refuses: {error}") from None
    assert fast == expected


def test_a_type_the_fast_decoder_does_not_handle_is_refused_not_guessed():
    # a zero word of bytes4 (or int256) is not the integer 0: the caller must not ask
    with pytest.raises(KeyError):
        _fast_decode(("bytes4",), b"\0" * 32)
