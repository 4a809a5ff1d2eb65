"""Keys are never printed: a registry of the private keys the suite knows, a record of what the
node and the CLI printed, and the scan at the end of the session that finds one in the other.

What is scanned (all written to files, so nothing is held in memory or lost to a full pipe):

* the stdout and stderr of every ``idfuse`` subprocess, all started through
  ``tests/e2e/processes.py`` (:meth:`record` for completed runs, :meth:`watch` for the files a
  long-running process writes to);
* every log record emitted in-process while the suite runs, and the stdout, stderr and log text
  pytest captured for each test.

Which keys: every key registered with :meth:`register_key` (``processes.run`` and
``processes.start`` register what they hand to a subprocess in the environment or on stdin),
and every key in a keystore under the session's temporary directory that sits beside its
password file (``X.keystore.json`` with ``X.password``: node data directories' validator and
dev accounts, CLI accounts). A key
matches as 64 hex digits in any case, so with or without ``0x``.

:func:`pytest_sessionfinish` fails the session when a key was printed, and
:func:`pytest_terminal_summary` says where (the file and an 8-digit fingerprint, never the
key). ``tests/conftest.py`` installs these hooks; ``pytest -p tests.keyleaks`` does too.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

_HEX_KEY = re.compile(r"(?:0x)?([0-9a-fA-F]{64})\Z")
_KEYSTORE_SUFFIX = ".keystore.json"


def fingerprint(key: bytes) -> str:
    """A name for ``key`` that is safe to print: 8 hex digits of its SHA-256."""
    return hashlib.sha256(key).hexdigest()[:8]


def key_bytes(value: object) -> bytes | None:
    """``value`` as a 32-byte private key when it is one (bytes, 64 hex digits with or
    without ``0x``, or an object with ``to_bytes()``/``key``), else None."""
    if hasattr(value, "to_bytes") and not isinstance(value, int):
        value = value.to_bytes()
    elif hasattr(value, "key"):
        value = value.key
    if isinstance(value, bytes | bytearray) and len(value) == 32:
        return bytes(value)
    if isinstance(value, str):
        match = _HEX_KEY.match(value.strip())
        if match:
            return bytes.fromhex(match.group(1))
    return None


def keystore_keys(root: Path) -> set[bytes]:
    """The keys of every keystore under ``root`` that has its password file beside it; a
    keystore that does not open with it (a test made it wrong on purpose) is skipped."""
    keys: set[bytes] = set()
    seen: set[bytes] = set()
    for keystore in sorted(root.rglob("*" + _KEYSTORE_SUFFIX)):
        password_file = keystore.with_name(keystore.name[: -len(_KEYSTORE_SUFFIX)] + ".password")
        try:
            content = keystore.read_bytes()
            password = password_file.read_text().removesuffix("\n").removesuffix("\r")
        except (OSError, UnicodeDecodeError):
            continue
        digest = hashlib.sha256(content + b"\0" + password.encode()).digest()
        if digest in seen:
            continue
        seen.add(digest)
        try:
            keys.add(bytes(Account.decrypt(content.decode(), password)))
        except (ValueError, TypeError, KeyError, UnicodeDecodeError):
            continue
    return keys


@dataclass(frozen=True)
class Leak:
    """A key (by fingerprint) found in a file."""

    path: Path
    key_fingerprint: str


def find_leaks(keys: Iterable[bytes], files: Iterable[Path]) -> list[Leak]:
    """Every (file, key) where the file's text holds the key as hex, in any case."""
    by_hex = {key.hex(): key for key in keys}
    if not by_hex:
        return []
    pattern = re.compile("|".join(sorted(by_hex)), re.IGNORECASE)
    leaks: list[Leak] = []
    for path in files:
        try:
            text = path.read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        found = {match.group(0).lower() for match in pattern.finditer(text)}
        leaks.extend(Leak(path, fingerprint(by_hex[hex_key])) for hex_key in sorted(found))
    return leaks


class _FileHandler(logging.Handler):
    """Appends every record it sees (message and traceback) to a file."""

    def __init__(self, path: Path) -> None:
        super().__init__(logging.NOTSET)
        self.path = path
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except (TypeError, ValueError):  # a record that cannot format is the caller's bug, not a leak
            return
        self.path.parent.mkdir(mode=0o700, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(text + "\n")


@dataclass
class KeyLeakRegistry:
    """The keys known and the output printed, under ``directory``."""

    directory: Path
    keys: set[bytes] = field(default_factory=set)
    watched: list[Path] = field(default_factory=list)
    _count: int = 0

    def register_key(self, value: object) -> None:
        """Remember ``value`` when it is a private key (see :func:`key_bytes`)."""
        key = key_bytes(value)
        if key is not None:
            self.keys.add(key)

    def register_inputs(self, env: dict[str, str] | None = None, stdin: str | None = None) -> None:
        """Remember every key handed to a subprocess in ``env`` values or on ``stdin``."""
        for value in (env or {}).values():
            self.register_key(value)
        for line in (stdin or "").splitlines():
            self.register_key(line)

    def record(self, name: str, result: subprocess.CompletedProcess[Any]) -> None:
        """Keep the stdout and stderr of a completed subprocess."""
        self._count += 1
        self.directory.mkdir(mode=0o700, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:60]
        path = self.directory / f"{self._count:05d}-{safe}.txt"
        with path.open("w", encoding="utf-8", errors="replace") as out:
            for stream in (result.stdout, result.stderr):
                if isinstance(stream, bytes):
                    stream = stream.decode("utf-8", "replace")
                out.write(stream or "")
                out.write("\n")

    def watch(self, path: Path) -> None:
        """Scan the file at ``path`` (a process's output) at the end of the session."""
        if path not in self.watched:
            self.watched.append(path)

    def printed(self) -> list[Path]:
        """Every file holding printed output."""
        existing = sorted(self.directory.glob("*")) if self.directory.is_dir() else []
        return [*existing, *self.watched]

    def log_handler(self) -> logging.Handler:
        """A handler that keeps every log record in this registry."""
        return _FileHandler(self.directory / "in-process.log")

    def scan(self, keystore_root: Path | None = None) -> list[Leak]:
        """The registered keys, and those in keystores under ``keystore_root``, found in
        everything printed."""
        files = self.printed()
        if not files:
            return []
        keys = set(self.keys)
        if keystore_root is not None and keystore_root.exists():
            keys |= keystore_keys(keystore_root)
        return find_leaks(keys, files)


def _new_registry() -> KeyLeakRegistry:
    # Created on first use: importing this module (a helper a subprocess imports) makes nothing.
    name = f"idfuse-printed-{os.getpid()}-{secrets.token_hex(4)}"
    return KeyLeakRegistry(Path(tempfile.gettempdir()) / name)


REGISTRY: KeyLeakRegistry = _new_registry()
"""The session's registry: the e2e helpers record into it."""

_handler: logging.Handler | None = None
_leaks: list[Leak] = []


def pytest_configure(config: pytest.Config) -> None:
    """Keep every in-process log record from here on."""
    global _handler
    _handler = REGISTRY.log_handler()
    logging.getLogger().addHandler(_handler)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Keep what pytest captured for each test (stdout, stderr, log)."""
    text = "".join(content for _, content in report.sections)
    if text:
        REGISTRY.directory.mkdir(mode=0o700, exist_ok=True)
        with (REGISTRY.directory / "captured.txt").open("a", encoding="utf-8", errors="replace") as out:
            out.write(text)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fail the session when a known key appears in anything printed."""
    if _handler is not None:
        logging.getLogger().removeHandler(_handler)
    factory = getattr(session.config, "_tmp_path_factory", None)
    root = factory.getbasetemp() if factory is not None else None
    _leaks.extend(REGISTRY.scan(root))
    if _leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        shutil.rmtree(REGISTRY.directory, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say loudly where a key was printed (by fingerprint, never the key)."""
    if not _leaks:
        return
    terminalreporter.section("PRIVATE KEY LEAKED", sep="!", red=True, bold=True)
    for leak in _leaks:
        terminalreporter.write_line(f"KEY LEAK: key {leak.key_fingerprint} printed in {leak.path}", red=True)
    terminalreporter.write_line(f"all printed output is kept in {REGISTRY.directory}", red=True)
