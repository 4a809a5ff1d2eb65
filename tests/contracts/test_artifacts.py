"""Committed artifacts must match the Solidity sources: a stale artifact fails here."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from idfuse_sdk.contracts.artifacts import load, load_all

ROOT = Path(__file__).resolve().parents[2]
DEPLOYABLE = {"Consortium", "PrefixRegistry", "IdentifierRegistry"}


def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_contracts", ROOT / "scripts" / "build_contracts.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _all_artifact_files() -> list[Path]:
    build = _build_module()
    return sorted([*build.PACKAGE_ARTIFACTS.glob("*.json"), *build.TEST_ARTIFACTS.glob("*.json")])


def test_every_deployable_contract_ships() -> None:
    assert set(load_all()) >= DEPLOYABLE


def test_artifacts_record_the_pinned_compiler_and_current_sources() -> None:
    build = _build_module()
    digest = build.source_digest()
    pinned = build.pinned_solc_version()
    files = _all_artifact_files()
    assert files, "no artifacts: run scripts/build_contracts"
    for path in files:
        document = json.loads(path.read_text())
        assert document["compiler"].startswith(pinned + "+"), f"{path.name} built by {document['compiler']}"
        assert document["evmVersion"] == "london"
        assert document["sourceDigest"] == digest, f"{path.name} is stale: run scripts/build_contracts"


def test_digest_changes_when_a_source_changes() -> None:
    build = _build_module()
    sources = build.source_files()
    name = next(iter(sources))
    changed = {**sources, name: sources[name] + "\n// edited\n"}
    assert build.source_digest(changed) != build.source_digest(sources)


def test_lock_pins_the_same_solc_as_package_json() -> None:
    build = _build_module()
    lock = json.loads((ROOT / "contracts" / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/solc"]["version"] == build.pinned_solc_version()


def test_artifact_loads_with_abi_and_bytecode() -> None:
    artifact = load("PrefixRegistry")
    assert artifact.bytecode.startswith("0x")
    assert len(artifact.bytecode) > 100
    assert any(item.get("name") == "registerChild" for item in artifact.abi)


def test_recompiling_reproduces_the_committed_artifacts() -> None:
    if not (ROOT / "contracts" / "node_modules" / "solc").exists() or shutil.which("node") is None:
        pytest.fail("the pinned solc is not installed: run scripts/bootstrap (needs Node.js and npm)")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_contracts.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
