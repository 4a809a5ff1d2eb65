"""``idfuse`` commands as subprocesses, every one recorded for the key-leak scan
(:mod:`tests.keyleaks`): :func:`run` and :func:`run_idfuse` to completion; :func:`start` and
:class:`IdfuseProcess` long-running, output to files (no pipe can fill up), readiness from
``endpoints.json``, clean stops and no leftovers. Tests start ``idfuse`` only through these."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
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


def environment(env: Mapping[str, str] | None = None, unset: Sequence[str] = ()) -> dict[str, str]:
    """This process's environment without ``unset``, with ``env`` on top; keys in ``env`` are
    registered for the key-leak scan."""
    REGISTRY.register_inputs(dict(env or {}))
    return {**{k: v for k, v in os.environ.items() if k not in unset}, **(env or {})}


def run(
    command: Sequence[str | Path],
    *,
    name: str,
    env: Mapping[str, str] | None = None,
    unset: Sequence[str] = (),
    stdin: str = "",
    timeout: float = 60,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` to completion, output captured and recorded under ``name``.

    :param env: Variables added to this process's environment (keys in them are registered).
    :param unset: Variables taken out of it.
    :param stdin: The whole of its standard input (keys on it are registered); empty by default,
        so nothing ever waits on a prompt.
    """
    REGISTRY.register_inputs(stdin=stdin)
    result = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env=environment(env, unset),
        input=stdin,
        cwd=cwd,
    )
    REGISTRY.record(name, result)
    return result


def run_idfuse(
    *args: str,
    env: Mapping[str, str] | None = None,
    unset: Sequence[str] = (),
    stdin: str = "",
    timeout: float = 60,
    cwd: Path | None = None,
    prefix: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """Run ``idfuse args`` to completion (see :func:`run`); ``prefix`` goes before the
    executable (a wrapper such as ``setpriv``)."""
    command = [*prefix, str(idfuse_exe()), *args]
    return run(command, name=" ".join(args[:2]), env=env, unset=unset, stdin=stdin, timeout=timeout, cwd=cwd)


def start(
    command: Sequence[str | Path],
    out: Path,
    *,
    err: Path | None = None,
    env: Mapping[str, str] | None = None,
    append: bool = False,
) -> subprocess.Popen[bytes]:
    """Start ``command`` with its stdout in ``out`` and its stderr in ``err`` (in ``out`` when
    None), unbuffered; both files are scanned for keys at the end of the session."""
    mode = "a" if append else "w"
    REGISTRY.watch(out)
    with contextlib.ExitStack() as files:
        stdout = files.enter_context(out.open(mode))
        stderr: Any = subprocess.STDOUT
        if err is not None:
            REGISTRY.watch(err)
            stderr = files.enter_context(err.open(mode))
        return subprocess.Popen(
            [str(part) for part in command],
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            env=environment({"PYTHONUNBUFFERED": "1", **(env or {})}),
        )


class IdfuseProcess:
    """One ``idfuse ...`` process writing ``endpoints_file`` when it is ready."""

    def __init__(self, args: list[str], endpoints_file: Path, log_dir: Path, name: str) -> None:
        self.endpoints_file = endpoints_file
        self.out = log_dir / f"{name}.out"
        self.err = log_dir / f"{name}.err"
        self._previous = endpoints_file.stat().st_ino if endpoints_file.exists() else None
        self.process = start([idfuse_exe(), *args], self.out, err=self.err)

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
        self.kill()  # no leftover when the test fails here
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


class NodeProcess(IdfuseProcess):
    """``idfuse node start`` on ``data_dir`` with ports the system picks, a block every
    ``block_period`` seconds (the node's default when None) and ``extra`` options; its output
    goes beside ``data_dir`` as ``name.out`` and ``name.err``."""

    def __init__(
        self, data_dir: Path, *extra: str, name: str = "node", block_period: str | None = "0.05"
    ) -> None:
        args = ["node", "start", "--data-dir", str(data_dir), "--rpc-port", "0", "--resolver-port", "0"]
        if block_period is not None:
            args += ["--block-period", block_period]
        super().__init__([*args, *extra], data_dir / "endpoints.json", data_dir.parent, name)
        self.data_dir = data_dir

    def wait_serving(self) -> dict[str, Any]:
        """``endpoints.json`` once the node serves its resolver too."""
        return self.wait_ready("resolver_url")


@contextlib.contextmanager
def running_node(data_dir: Path, *extra: str, block_period: str | None = "0.05") -> Iterator[NodeProcess]:
    """A :class:`NodeProcess` that serves, killed on the way out."""
    node = NodeProcess(data_dir, *extra, block_period=block_period)
    try:
        node.wait_serving()
        yield node
    finally:
        node.kill()
