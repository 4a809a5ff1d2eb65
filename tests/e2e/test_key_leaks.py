"""The key-leak scan finds a key printed by a subprocess, in any spelling, and fails the session."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from eth_account import Account

from idfuse_sdk.keystore import create_keystore, write_secret_file
from tests.e2e.processes import start
from tests.keyleaks import REGISTRY, KeyLeakRegistry, fingerprint, keystore_keys

REPO = Path(__file__).resolve().parents[2]
KEY = bytes.fromhex("5e" * 31 + "a1")
OTHER = bytes.fromhex("6f" * 31 + "b2")


def printing(text: str) -> subprocess.CompletedProcess[str]:
    """A subprocess that prints ``text`` on stderr, as a careless error message would."""
    code = f"import sys; print('starting'); print({text!r}, file=sys.stderr)"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)


def test_a_key_printed_in_any_spelling_is_found(tmp_path: Path) -> None:
    registry = KeyLeakRegistry(tmp_path / "printed")
    registry.directory.mkdir()
    registry.register_inputs(
        {"IDFUSE_PRIVATE_KEY": "0x" + KEY.hex(), "PATH": "/bin"}, stdin=OTHER.hex() + "\n"
    )
    assert registry.keys == {KEY, OTHER}
    registry.record("clean", printing("error: wrong password for keystore /x/y.json"))
    assert registry.scan() == []
    for spelling in ("0x" + KEY.hex(), KEY.hex().upper(), "key=0X" + KEY.hex().upper() + "!"):
        registry.record("leaky", printing(f"error: bad key {spelling}"))
    watched = tmp_path / "node.err"
    watched.write_text(f"Traceback ...\nValueError: {OTHER.hex()}\n")
    registry.watch(watched)
    leaks = registry.scan()
    assert sorted((leak.path.name, leak.key_fingerprint) for leak in leaks) == [
        ("00002-leaky.txt", fingerprint(KEY)),
        ("00003-leaky.txt", fingerprint(KEY)),
        ("00004-leaky.txt", fingerprint(KEY)),
        ("node.err", fingerprint(OTHER)),
    ]


def test_keys_come_from_keystores_beside_their_password_files(tmp_path: Path) -> None:
    data_dir = tmp_path / "node"
    data_dir.mkdir()
    create_keystore(data_dir / "dev-account.keystore.json", "pw", KEY, kdf="pbkdf2", iterations=2)
    write_secret_file(data_dir / "dev-account.password", "pw\n")
    create_keystore(data_dir / "lonely.keystore.json", "pw", OTHER, kdf="pbkdf2", iterations=2)
    create_keystore(data_dir / "wrong.keystore.json", "pw", OTHER, kdf="pbkdf2", iterations=2)
    write_secret_file(data_dir / "wrong.password", "not it")
    assert keystore_keys(tmp_path) == {KEY}
    registry = KeyLeakRegistry(tmp_path / "printed")
    registry.directory.mkdir()
    registry.record("leaky", printing(f"sealing with {Account.from_key(KEY).key.hex()}"))
    assert [leak.key_fingerprint for leak in registry.scan(tmp_path)] == [fingerprint(KEY)]


INNER = """
import sys
from tests.e2e.processes import run

def test_prints():
    code = "print('error: ' + {printed!r})"
    run([sys.executable, "-c", code], name="cli", env={{"IDFUSE_PRIVATE_KEY": {key!r}}})
"""


def run_session(tmp_path: Path, printed: str) -> subprocess.CompletedProcess[str]:
    """A pytest session with the key-leak plugin whose one test hands KEY to a subprocess
    through the shared runner (:func:`tests.e2e.processes.run`) which prints ``printed``."""
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent(INNER.format(key="0x" + KEY.hex(), printed=printed))
    )
    command = [sys.executable, "-m", "pytest", "-p", "tests.keyleaks", "-p", "no:cacheprovider", "-q"]
    command += ["--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path / "test_inner.py")]
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=tmp_path, env=environment)


def test_a_session_whose_subprocess_printed_a_key_fails_loudly(tmp_path: Path) -> None:
    leaky = run_session(tmp_path, "invalid key " + KEY.hex().upper())
    assert leaky.returncode == 1, leaky.stdout + leaky.stderr
    assert "1 passed" in leaky.stdout
    assert f"KEY LEAK: key {fingerprint(KEY)} printed in " in leaky.stdout
    assert KEY.hex() not in (leaky.stdout + leaky.stderr).lower()
    kept = re.search(r"all printed output is kept in (\S+)", leaky.stdout)
    assert kept is not None
    shutil.rmtree(kept.group(1))
    clean = run_session(tmp_path, "invalid key for 0x" + Account.from_key(KEY).address[2:])
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "KEY LEAK" not in clean.stdout


def test_a_started_process_output_is_scanned_and_its_keys_registered(tmp_path: Path) -> None:
    out, err = tmp_path / "p.out", tmp_path / "p.err"
    code = "import os, sys; print(os.environ['K'][:4]); print('e', file=sys.stderr)"
    process = start([sys.executable, "-c", code], out, err=err, env={"K": OTHER.hex()})
    assert process.wait(timeout=60) == 0
    assert (out.read_text(), err.read_text()) == (OTHER.hex()[:4] + "\n", "e\n")
    assert {out, err} <= set(REGISTRY.printed())
    assert OTHER in REGISTRY.keys
