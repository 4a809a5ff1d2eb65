"""What `pip install idfuse` gets: the SDK with its artifacts, without the node's weight."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("eth", "plyvel", "fastapi", "uvicorn", "eth_tester")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("idfuse-*.whl")
    return zipfile.ZipFile(built)


def test_wheel_ships_both_packages_and_the_artifacts(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for contract in ("Consortium", "PrefixRegistry", "IdentifierRegistry"):
        assert f"idfuse_sdk/contracts/compiled/{contract}.json" in names
    assert "idfuse_sdk/py.typed" in names
    assert "idfuse_node/py.typed" in names
    assert not any(name.startswith(("sdk/", "node/", "tests/")) for name in names), (
        "no bare top-level packages"
    )


def test_base_requirements_leave_out_the_node(wheel: zipfile.ZipFile) -> None:
    (metadata,) = (n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    requires = [
        line.split(":", 1)[1].strip()
        for line in wheel.read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:")
    ]
    base = [r for r in requires if "extra ==" not in r]
    assert {r.split(">")[0].split("<")[0].split("=")[0].split("[")[0] for r in base} == {
        "web3",
        "eth-account",
        "eth-abi",
        "eth-keys",
        "eth-utils",
        "rlp",
        "httpx",
        "typer",
        "rich",
        "trie",
    }
    node = [r for r in requires if "extra == 'node'" in r or 'extra == "node"' in r]
    assert any(r.startswith("py-evm") for r in node)
    assert any(r.startswith("plyvel") for r in node)


def test_sdk_imports_without_node_dependencies() -> None:
    blocker = f"""
import sys, importlib.abc, pkgutil
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {HEAVY!r}:
            raise ImportError("blocked heavy dependency: " + name)
sys.meta_path.insert(0, Block())
import idfuse_sdk
for module in pkgutil.walk_packages(idfuse_sdk.__path__, "idfuse_sdk."):
    __import__(module.name)
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", blocker], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
