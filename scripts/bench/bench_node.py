"""The nodes the benches drive: a fusion node (``idfuse node start``) for those that go through
the SDK (``batch``, ``verify``), and an anvil node, the compiled EVM ``batch --chain anvil`` and
``scale`` build on."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx


def start_node(data_dir: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """``idfuse node start`` on ``data_dir`` (ephemeral ports, 0.05 s blocks, its log in
    ``data_dir``'s parent), once its ``endpoints.json`` names the resolver: the process and the
    endpoints. Exits the bench when the node dies or is not up within 60 s."""
    idfuse = Path(sys.executable).with_name("idfuse")
    args = ["node", "start", "--data-dir", str(data_dir), "--rpc-port", "0", "--resolver-port", "0"]
    log = (data_dir.parent / "node.log").open("wb")
    process = subprocess.Popen([str(idfuse), *args, "--block-period", "0.05"], stdout=log, stderr=log)
    endpoints = data_dir / "endpoints.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the node exited: {(data_dir.parent / 'node.log').read_text()}")
        try:
            found = json.loads(endpoints.read_text())
            if "resolver_url" in found:
                return process, found
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        time.sleep(0.05)
    process.kill()
    sys.exit("the node did not start within 60 s")


ANVIL = Path(__file__).resolve().parents[2] / "contracts" / "node_modules" / ".bin" / "anvil"
"""Foundry's EVM node (Rust), pinned as an optional npm dependency of ``contracts/``."""
ANVIL_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
"""The first account of the dev chains' documented test mnemonic (anvil and Hardhat fund it)."""
ANVIL_GAS_LIMIT = 1_000_000_000


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Rpc:
    """A keep-alive JSON-RPC client; an error answer exits the bench."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.Client(timeout=600)

    def __call__(self, method: str, *params: Any) -> Any:
        body = self.client.post(
            self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        )
        answer = body.json()
        if "error" in answer:
            raise SystemExit(f"{method} failed: {answer['error']}")
        return answer["result"]


class Anvil:
    """An anvil node on a free port, in memory, automining one block per transaction."""

    def __init__(self, log: Path) -> None:
        if not ANVIL.exists():
            raise SystemExit(f"{ANVIL} is missing: run scripts/bootstrap (npm ci --prefix contracts)")
        self.url = f"http://127.0.0.1:{free_port()}"
        port = self.url.rsplit(":", 1)[1]
        command = [str(ANVIL), "--port", port, "--gas-limit", str(ANVIL_GAS_LIMIT), "--silent"]
        self.process = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        self.rpc = Rpc(self.url)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.rpc("eth_chainId")
                return
            except httpx.TransportError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise SystemExit(f"anvil did not start: {log.read_text()}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
