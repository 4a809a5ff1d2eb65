"""Long-running ``idfuse`` commands as subprocesses: output to files (no pipe can fill up),
readiness from ``endpoints.json``, clean stops and no leftovers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.keyleaks import REGISTRY

STARTUP_TIMEOUT = 30.0


def idfuse_exe() -> Path:
    """The ``idfuse`` console script of the interpreter running the tests."""
    exe = Path(sys.executable).with_name("idfuse")
    if not exe.exists():
        pytest.fail("the idfuse console script is not installed (run scripts/bootstrap)")
    return exe


def run_idfuse(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``idfuse args`` to completion."""
    command = [str(idfuse_exe()), *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=timeout)
    REGISTRY.record(" ".join(args[:2]), result)
    return result


class IdfuseProcess:
    """One ``idfuse ...`` process writing ``endpoints_file`` when it is ready."""

    def __init__(self, args: list[str], endpoints_file: Path, log_dir: Path, name: str) -> None:
        self.endpoints_file = endpoints_file
        self.out = log_dir / f"{name}.out"
        self.err = log_dir / f"{name}.err"
        REGISTRY.watch(self.out)
        REGISTRY.watch(self.err)
        self._previous = endpoints_file.stat().st_ino if endpoints_file.exists() else None
        with self.out.open("w") as out, self.err.open("w") as err:
            self.process = subprocess.Popen(
                [str(idfuse_exe()), *args],
                stdout=out,
                stderr=err,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def wait_ready(self, key: str | None = None) -> dict[str, Any]:
        """``endpoints.json`` once this process (not an earlier one) has written it, holding
        ``key`` when one is given."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the process exited with {self.process.returncode}: {self.output()}")
            try:
                if self.endpoints_file.stat().st_ino != self._previous:  # replaced atomically
                    found = dict(json.loads(self.endpoints_file.read_text()))
                    if key is None or key in found:
                        return found
            except (FileNotFoundError, json.JSONDecodeError):
                pass
            time.sleep(0.05)
        pytest.fail(f"no endpoints.json within {STARTUP_TIMEOUT}s: {self.output()}")

    def output(self) -> str:
        return self.out.read_text() + self.err.read_text()

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=30)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
