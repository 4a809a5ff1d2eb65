"""idfuse_sdk.hashing: the fast Keccak agrees with eth-utils' on every input."""

from eth_utils.crypto import keccak as reference
from hypothesis import given
from hypothesis import strategies as st

from idfuse_sdk.hashing import keccak


def test_known_vectors() -> None:
    assert keccak(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert keccak(b"abc").hex() == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"


def test_the_node_install_uses_the_c_backend() -> None:
    # The node extra brings safe-pysha3 (eth-hash[pysha3]); the test environment installs it.
    from eth_hash.backends.pysha3 import keccak256

    assert keccak is keccak256


@given(st.binary(max_size=300))
def test_agrees_with_eth_utils(data: bytes) -> None:
    assert keccak(data) == reference(data)
