"""Compile contracts/src with the npm-pinned solc into committed JSON artifacts.

Deployable contracts land in ``sdk/idfuse_sdk/contracts/compiled/`` (shipped as package
data, so Python users never need Node.js); test harnesses from ``contracts/src/test/`` land
in ``tests/contracts/artifacts/``. Every artifact records the compiler version and a digest
of all sources and settings, so a test can tell a stale artifact without running solc.

Usage: scripts/build_contracts [--check]
  --check   compile and compare with the committed artifacts; exit 1 when they differ.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ROOT / "contracts"
SOURCES = CONTRACTS / "src"
SOLCJS = CONTRACTS / "node_modules" / "solc" / "solc.js"
PACKAGE_ARTIFACTS = ROOT / "sdk" / "idfuse_sdk" / "contracts" / "compiled"
TEST_ARTIFACTS = ROOT / "tests" / "contracts" / "artifacts"

EVM_VERSION = "london"
SETTINGS: dict[str, object] = {
    "optimizer": {"enabled": True, "runs": 200},
    "viaIR": True,
    "evmVersion": EVM_VERSION,
    "outputSelection": {
        "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "storageLayout"]}
    },
}


def source_files() -> dict[str, str]:
    """All Solidity sources keyed by their path relative to contracts/src."""
    return {
        path.relative_to(SOURCES).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(SOURCES.rglob("*.sol"))
    }


def pinned_solc_version() -> str:
    """The exact solc version contracts/package.json pins."""
    package = json.loads((CONTRACTS / "package.json").read_text(encoding="utf-8"))
    version: str = package["dependencies"]["solc"]
    return version


def source_digest(sources: dict[str, str] | None = None) -> str:
    """sha256 over every source, the settings and the pinned compiler version."""
    sources = source_files() if sources is None else sources
    digest = hashlib.sha256()
    digest.update(pinned_solc_version().encode())
    digest.update(json.dumps(SETTINGS, sort_keys=True).encode())
    for name, text in sorted(sources.items()):
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()


def compile_sources(sources: dict[str, str]) -> tuple[str, dict[str, dict[str, object]]]:
    """Run solcjs --standard-json; returns (long compiler version, contracts by source)."""
    if not SOLCJS.exists():
        sys.exit("solc is not installed: run `npm ci --prefix contracts` first")
    request = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": SETTINGS,
    }
    version = subprocess.run(
        ["node", str(SOLCJS), "--version"], check=True, capture_output=True, text=True
    ).stdout.strip()
    # solcjs reads stdin with readFileSync(0), which fails with EAGAIN on a pipe that is
    # momentarily empty, and exits before an asynchronous pipe write of its output drains,
    # cutting it at 64 KiB: give it files for both (file I/O in Node.js is synchronous).
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as stdin,
        tempfile.TemporaryFile("w+", encoding="utf-8") as stdout,
    ):
        json.dump(request, stdin)
        stdin.seek(0)
        subprocess.run(
            ["node", str(SOLCJS), "--standard-json", "--base-path", str(SOURCES)],
            stdin=stdin,
            stdout=stdout,
            check=True,
        )
        stdout.seek(0)
        text = stdout.read()
    # solcjs may print warnings before the JSON document.
    output = json.loads(text[text.index("{") :])
    errors = [e for e in output.get("errors", []) if e["severity"] == "error"]
    for message in output.get("errors", []):
        print(message["formattedMessage"], file=sys.stderr)
    if errors:
        sys.exit(f"solc reported {len(errors)} error(s)")
    return version, output["contracts"]


def artifacts(version: str, contracts: dict[str, dict[str, object]], digest: str) -> dict[Path, str]:
    """Rendered artifact files keyed by their destination path."""
    rendered: dict[Path, str] = {}
    for source, by_name in sorted(contracts.items()):
        for name, output in sorted(by_name.items()):
            evm = output["evm"]  # type: ignore[index]
            bytecode = evm["bytecode"]["object"]  # type: ignore[index]
            if not bytecode:  # interfaces and abstract contracts
                continue
            if source.startswith("lib/"):  # libraries are internal-only; nothing to deploy
                continue
            folder = TEST_ARTIFACTS if source.startswith("test/") else PACKAGE_ARTIFACTS
            document = {
                "_generated": f"by scripts/build_contracts with solc {version}; do not edit",
                "contractName": name,
                "sourceName": source,
                "compiler": version,
                "evmVersion": EVM_VERSION,
                "sourceDigest": digest,
                "abi": output["abi"],  # type: ignore[index]
                "bytecode": "0x" + bytecode,
                "deployedBytecode": "0x" + evm["deployedBytecode"]["object"],  # type: ignore[index]
                "storageLayout": output.get("storageLayout"),  # type: ignore[union-attr]
            }
            rendered[folder / f"{name}.json"] = json.dumps(document, indent=1, sort_keys=True) + "\n"
    return rendered


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--check", action="store_true", help="compare with committed artifacts instead of writing"
    )
    args = parser.parse_args()
    sources = source_files()
    version, contracts = compile_sources(sources)
    rendered = artifacts(version, contracts, source_digest(sources))
    existing = set(PACKAGE_ARTIFACTS.glob("*.json")) | set(TEST_ARTIFACTS.glob("*.json"))
    if args.check:
        stale = sorted(
            str(path.relative_to(ROOT))
            for path, text in rendered.items()
            if not path.exists() or path.read_text(encoding="utf-8") != text
        )
        stale += sorted(str(p.relative_to(ROOT)) for p in existing - set(rendered))
        if stale:
            print("stale artifacts (run scripts/build_contracts):", *stale, sep="\n  ")
            return 1
        print(f"{len(rendered)} artifacts are current")
        return 0
    for path in existing - set(rendered):
        path.unlink()
    for path, text in rendered.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    print(f"wrote {len(rendered)} artifacts with solc {version}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
