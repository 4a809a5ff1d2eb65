"""``keccak``: Keccak-256 as Ethereum uses it, through the fastest backend installed.

eth-hash chooses pycryptodome before pysha3 when both are installed; pycryptodome's Keccak goes
through ctypes and costs about 3.5 µs a short hash here, safe-pysha3's C extension about 0.7 µs.
Node ids, handle keys, commitments and Merkle nodes are hashed on every resolution, index
write and verification, so idfuse asks for pysha3 (a dependency, through ``eth-hash[pysha3]``)
and falls back to eth-hash's own choice where it cannot be imported.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["keccak"]


def _choose() -> Callable[[bytes], bytes]:
    try:
        from eth_hash.backends.pysha3 import keccak256
    except ImportError:
        from eth_hash.auto import keccak as auto

        return auto
    return keccak256


keccak: Callable[[bytes], bytes] = _choose()
"""Keccak-256 of ``data`` (32 bytes)."""
