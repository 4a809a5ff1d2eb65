"""The `idfuse` console script as a user runs it."""

from __future__ import annotations

import json

from idfuse_sdk import __version__
from tests.e2e.processes import run_idfuse as _idfuse


def test_version() -> None:
    result = _idfuse("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"idfuse {__version__}"


def test_help_lists_commands() -> None:
    result = _idfuse("--help")
    assert result.returncode == 0
    assert "contracts" in result.stdout


def test_contracts_json() -> None:
    result = _idfuse("contracts", "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert {"Consortium", "PrefixRegistry", "IdentifierRegistry"} <= set(listed)
    assert all(entry["compiler"].startswith("0.8.37+") for entry in listed.values())


def test_unknown_command_fails_cleanly() -> None:
    result = _idfuse("no-such-command")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
