"""Load the compiled contract artifacts shipped in this package.

Artifacts are written by ``scripts/build_contracts`` and committed; each names its compiler
and the digest of the sources it was built from (see ``tests/contracts/test_artifacts.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from idfuse_sdk.exceptions import ArtifactNotFoundError

_PACKAGE = "idfuse_sdk.contracts.compiled"


@dataclass(frozen=True)
class Artifact:
    """One compiled contract."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    compiler: str
    source_digest: str
    storage_layout: dict[str, Any] = field(default_factory=dict)
    """solc's ``storageLayout`` (``storage``, ``types``): where an auditor finds a variable."""


def _from_document(document: dict[str, Any]) -> Artifact:
    return Artifact(
        name=document["contractName"],
        abi=document["abi"],
        bytecode=document["bytecode"],
        deployed_bytecode=document["deployedBytecode"],
        compiler=document["compiler"],
        source_digest=document["sourceDigest"],
        storage_layout=document.get("storageLayout") or {},
    )


def load(name: str) -> Artifact:
    """The artifact of contract ``name`` (e.g. ``"PrefixRegistry"``).

    :raises ArtifactNotFoundError: when no such contract ships with this package.
    """
    entry = resources.files(_PACKAGE).joinpath(f"{name}.json")
    if not entry.is_file():
        raise ArtifactNotFoundError(f"no compiled contract named {name!r} ships with idfuse")
    return _from_document(json.loads(entry.read_text(encoding="utf-8")))


def load_all() -> dict[str, Artifact]:
    """Every shipped artifact keyed by contract name."""
    found: dict[str, Artifact] = {}
    for entry in sorted(resources.files(_PACKAGE).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            artifact = _from_document(json.loads(entry.read_text(encoding="utf-8")))
            found[artifact.name] = artifact
    return found
