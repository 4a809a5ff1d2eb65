"""idfuse_sdk.nodefinder: one rule for the node's data directory, shared with the node."""

from __future__ import annotations

from pathlib import Path

import pytest

from idfuse_sdk.nodefinder import default_accounts_dir, default_data_dir, node_location


def test_the_data_dir_follows_idfuse_data_dir_then_xdg_then_home() -> None:
    assert default_data_dir({"IDFUSE_DATA_DIR": "/srv/n", "XDG_DATA_HOME": "/x"}) == Path("/srv/n")
    assert default_data_dir({"XDG_DATA_HOME": "/x"}) == Path("/x/idfuse/node")
    assert default_data_dir({}) == Path.home() / ".local" / "share" / "idfuse" / "node"


def test_accounts_dir_follows_its_variable_then_xdg() -> None:
    assert default_accounts_dir({"IDFUSE_ACCOUNTS_DIR": "/a"}) == Path("/a")
    assert default_accounts_dir({"XDG_DATA_HOME": "/x"}) == Path("/x/idfuse/accounts")


def test_node_location_prefers_the_option_then_idfuse_node_then_the_data_dir() -> None:
    env = {"IDFUSE_NODE": "/from/env", "IDFUSE_DATA_DIR": "/data"}
    assert node_location("/given", env) == Path("/given")
    assert node_location(None, env) == Path("/from/env")
    assert node_location(None, {"IDFUSE_DATA_DIR": "/data"}) == Path("/data")


def test_the_node_uses_the_same_rule(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from idfuse_node.datadir import default_data_dir as node_default

    monkeypatch.delenv("IDFUSE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert node_default() == default_data_dir() == tmp_path / "idfuse" / "node"
