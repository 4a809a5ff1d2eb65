"""A Hardhat node as a test fixture: the external EVM engine deploy and indexer tests follow.

:class:`HardhatNode` runs ``hardhat node`` from ``contracts/`` (the binary ``npx hardhat``
resolves to, started directly so that stopping it leaves no npm wrapper behind) on a free
127.0.0.1 port, in a session of its own; ``stop()`` terminates the whole process group, kills
it if it lingers, and reaps it. Hardhat automines: each transaction is a block of its own.

Reorgs for the indexer tests: ``snapshot()`` records the chain, ``revert(id)`` rewinds to it
(blocks after it are dropped), and new blocks mined then have other hashes at the same heights
(their timestamps differ; ``mine`` can also be given a transaction first).

Hardhat is a pinned dev dependency in ``contracts/package.json``; ``scripts/bootstrap``
installs it. A missing Hardhat fails the fixture with that hint: it is never a skip.

``hardhat_node_fixture()`` makes a pytest fixture (session scope by default)::

    hardhat = hardhat_node_fixture()

    def test_something(hardhat):
        Web3(Web3.HTTPProvider(hardhat.url))
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import httpx
import pytest
from eth_account import Account

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / "contracts"
HARDHAT_BIN = CONTRACTS / "node_modules" / ".bin" / "hardhat"
CHAIN_ID = 31337
START_TIMEOUT = 60.0

DEV_MNEMONIC = "test test test test test test test test test test test junk"
"""Hardhat's documented default mnemonic; its accounts hold 10,000 ether each."""
DEV_KEYS = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
)
"""The first private keys of :data:`DEV_MNEMONIC` (m/44'/60'/0'/0/i), as ``hardhat node`` prints them."""


class HardhatError(RuntimeError):
    """The Hardhat node could not be started or answered a request with an error."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class HardhatNode:
    """One ``hardhat node`` process; start it with :meth:`start` (or use it as a context manager).

    :param hardfork: Run an older fork than Hardhat's default, e.g. ``"berlin"`` (no base fee).
    """

    def __init__(self, *, hardfork: str | None = None) -> None:
        self.hardfork = hardfork
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.accounts = [Account.from_key(key) for key in DEV_KEYS]
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        self._client = httpx.Client(timeout=30.0)
        self._next_id = 0

    @property
    def keys(self) -> tuple[str, ...]:
        """The funded development accounts' private keys (0x-prefixed hex)."""
        return DEV_KEYS

    def start(self) -> HardhatNode:
        """Start the node and wait until it answers ``eth_chainId``.

        :raises HardhatError: Hardhat is not installed, exits early, or does not answer in time.
        """
        if not HARDHAT_BIN.exists():
            raise HardhatError(
                f"Hardhat is not installed ({HARDHAT_BIN} is missing): run scripts/bootstrap "
                "(npm ci --prefix contracts)"
            )
        env = {**os.environ, "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true", "FORCE_COLOR": "0"}
        env.pop("IDFUSE_HARDHAT_HARDFORK", None)
        if self.hardfork is not None:
            env["IDFUSE_HARDHAT_HARDFORK"] = self.hardfork
        self._process = subprocess.Popen(
            [str(HARDHAT_BIN), "node", "--hostname", "127.0.0.1", "--port", str(self.port)],
            cwd=CONTRACTS,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            code = self._process.poll()
            if code is not None:
                self._process = None
                raise HardhatError(f"hardhat node exited with code {code} before answering:\n{self.output()}")
            try:
                if int(self.request("eth_chainId"), 16) == CHAIN_ID:
                    return self
            except (httpx.TransportError, HardhatError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise HardhatError(f"hardhat node did not answer at {self.url} in {START_TIMEOUT:.0f}s")
            time.sleep(0.2)

    def output(self) -> str:
        """What the node printed so far (stdout and stderr)."""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def request(self, method: str, *params: object) -> object:
        """Send one JSON-RPC request and return its result.

        :raises HardhatError: the node answered with an error.
        """
        self._next_id += 1
        response = self._client.post(
            self.url, json={"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": list(params)}
        )
        body = response.json()
        if "error" in body:
            raise HardhatError(f"{method} failed: {body['error']}")
        return body["result"]

    def snapshot(self) -> str:
        """Record the chain's state (``evm_snapshot``); returns the id :meth:`revert` takes."""
        return str(self.request("evm_snapshot"))

    def revert(self, snapshot_id: str) -> None:
        """Rewind to a snapshot (``evm_revert``): later blocks are dropped. A snapshot is used up
        by reverting to it (take a new one to revert there again).

        :raises HardhatError: the node does not know the snapshot.
        """
        if self.request("evm_revert", snapshot_id) is not True:
            raise HardhatError(f"evm_revert({snapshot_id}) did not revert")

    def mine(self, blocks: int = 1) -> None:
        """Mine ``blocks`` empty blocks (``hardhat_mine``; ``evm_mine`` for one)."""
        if blocks == 1:
            self.request("evm_mine")
        else:
            self.request("hardhat_mine", hex(blocks))

    def block_number(self) -> int:
        """The head block's number."""
        return int(str(self.request("eth_blockNumber")), 16)

    def stop(self) -> None:
        """Terminate the node's process group, kill it after 10 s, and reap it."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        elif process is not None:
            process.wait()
        self._client.close()
        self._log.close()

    def __enter__(self) -> HardhatNode:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def hardhat_node_fixture(scope: str = "session", *, hardfork: str | None = None):  # type: ignore[no-untyped-def]
    """A pytest fixture that yields a started :class:`HardhatNode` and stops it afterwards."""

    @pytest.fixture(scope=scope)  # type: ignore[arg-type]
    def hardhat() -> Iterator[HardhatNode]:
        with HardhatNode(hardfork=hardfork) as node:
            yield node

    return hardhat
