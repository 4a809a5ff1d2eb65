"""The user-facing ``idfuse`` commands as an enterprise, an auditor and an outsider run them:
subprocesses against a real fusion node (``idfuse node start``), one-line failures with
decoded reverts, and keys that are never printed."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from idfuse_sdk.cli.app import app
from idfuse_sdk.client import IdfuseClient
from tests.e2e.processes import run_idfuse, running_node
from tests.lying_resolver import lying_resolver
from tests.waiting import eventually

RESOLVE_TIMEOUT = 60.0
HANDLE = "88.100.1/PN-0001"


def idfuse(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``idfuse args`` to completion, with extra environment variables ``env``."""
    return run_idfuse(*args, env=env, stdin=stdin or "", timeout=120)


def ok(*args: str, env: dict[str, str] | None = None) -> str:
    """The stdout of a command that must succeed."""
    result = idfuse(*args, env=env)
    assert result.returncode == 0, f"idfuse {' '.join(args)}: {result.stdout}{result.stderr}"
    assert "Traceback" not in result.stderr
    return result.stdout


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The single ``error: ...`` line of a failed command (and no traceback)."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def resolve_json(node: Path, handle: str, *extra: str) -> dict[str, Any]:
    return dict(json.loads(ok("resolve", handle, "--node", str(node), "--json", *extra)))


def wait_resolved(node: Path, handle: str, done: Any) -> dict[str, Any]:
    """``idfuse resolve --json`` once ``done(answer)`` holds (the live indexer caught up)."""
    last = [""]

    def answer() -> dict[str, Any] | None:
        result = idfuse("resolve", handle, "--node", str(node), "--json")
        last[0] = result.stdout + result.stderr
        if result.returncode != 0:
            return None
        found = dict(json.loads(result.stdout))
        return found if done(found) else None

    return eventually(
        answer,
        lambda: f"{handle} resolving as expected (last: {last[0]})",
        timeout=RESOLVE_TIMEOUT,
        interval=0.2,
    )


def values_by_type(answer: dict[str, Any]) -> dict[str, Any]:
    return {value["type"]: value["data"] for value in answer["values"]}


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A running fusion node's data directory."""
    with running_node(tmp_path_factory.mktemp("user-cli") / "node", block_period=None) as process:
        yield process.data_dir


@pytest.fixture(scope="module")
def enterprise_prefixes(node: Path) -> Path:
    """``88`` allocated by the bootstrap admin (the validator) to the development account, which
    registers ``88.100`` and ``88.100.1`` one by one."""
    dev = json.loads((node / "endpoints.json").read_text())["dev_account"]["address"]
    out = ok(
        "prefix",
        "register",
        "88",
        "--owner",
        dev,
        "--node",
        str(node),
        "--account",
        str(node / "validator.keystore.json"),
        "--password-file",
        str(node / "validator.password"),
    )
    assert out.startswith("registered 88 by bootstrap allocation; tx 0x")
    assert ok("prefix", "register", "88.100", "--node", str(node)).startswith(
        "registered 88.100 by registerChild; tx 0x"
    )
    child = json.loads(ok("prefix", "register", "88.100.1", "--node", str(node), "--json"))
    assert child["how"] == "registerChild"
    assert child["tx_hash"].startswith("0x")
    return node


def test_help_of_every_command_works() -> None:
    commands = [
        ["account", "new"],
        ["account", "import"],
        ["account", "list"],
        ["prefix", "register"],
        ["prefix", "show"],
        ["prefix", "transfer"],
        ["prefix", "accept"],
        ["prefix", "operator"],
        ["prefix", "service"],
        ["prefix", "suspend"],
        ["prefix", "resume"],
        ["prefix", "vote"],
        ["template", "set"],
        ["template", "show"],
        ["id", "create"],
        ["id", "update"],
        ["id", "delete"],
        ["resolve"],
        ["verify"],
        ["account"],
        ["prefix"],
        ["template"],
        ["id"],
    ]
    # In process: two dozen interpreters would take half a minute; test_cli.py runs --help through
    # the console script itself.
    runner = CliRunner()
    for command in commands:
        result = runner.invoke(app, [*command, "--help"], prog_name="idfuse")
        assert result.exit_code == 0, (command, result.output)
        assert "Usage: idfuse " + " ".join(command) in " ".join(result.stdout.split())


def test_an_enterprise_registers_shows_updates_and_deletes(enterprise_prefixes: Path) -> None:
    node = str(enterprise_prefixes)
    shown = json.loads(ok("prefix", "show", "88.100.1", "--node", node, "--json"))
    dev = json.loads((enterprise_prefixes / "endpoints.json").read_text())["dev_account"]["address"]
    assert shown["owner"] == dev
    assert shown["status"] == "active"
    assert dev in ok("prefix", "show", "88.100.1", "--node", node)

    out = ok(
        "template",
        "set",
        "88.100.1",
        "part",
        "1",
        "--field",
        "URL:required",
        "--field",
        "SERIAL:max=64",
        "--field",
        "EMAIL",
        "--node",
        node,
    )
    assert out.startswith("registered template part v1 of 88.100.1: id 0x")
    fields = json.loads(ok("template", "show", "88.100.1", "part", "1", "--node", node, "--json"))["fields"]
    assert [(f["type"], f["required"], f["max_length"]) for f in fields] == [
        ("URL", True, 8192),
        ("SERIAL", False, 64),
        ("EMAIL", False, 8192),
    ]

    created = json.loads(
        ok(
            "id",
            "create",
            HANDLE,
            "--value",
            "URL=https://example.com/pn-1",
            "--value",
            "5:SERIAL=S-1",
            "--value",
            "EMAIL=ops@example.com",
            "--template",
            "part:1",
            "--node",
            node,
            "--json",
        )
    )
    assert created["version"] == 1
    assert created["indexes"] == [1, 2, 5]  # auto-assigned 1, 2; 5 as given
    second = ok("id", "create", "88.100.1/PN-0002", "--value", "URL=https://example.com/pn-2", "--node", node)
    assert second.startswith("created 88.100.1/PN-0002 version 1 (indexes 1); tx 0x")

    answer = wait_resolved(enterprise_prefixes, HANDLE, lambda a: True)
    assert answer["source"] == "resolver"
    by_index = {value["index"]: (value["type"], value["data"]) for value in answer["values"]}
    assert by_index[1] == ("URL", "https://example.com/pn-1")
    assert by_index[2] == ("EMAIL", "ops@example.com")
    assert by_index[5] == ("SERIAL", "S-1")
    assert [v["type"] for v in resolve_json(enterprise_prefixes, HANDLE, "--type", "URL")["values"]] == [
        "URL"
    ]
    assert [v["index"] for v in resolve_json(enterprise_prefixes, HANDLE, "--index", "5")["values"]] == [5]
    table = ok("resolve", HANDLE, "--node", node)
    assert f"{HANDLE} (from the resolver)" in table
    assert "S-1" in table
    assert "EMAIL" in table

    updated = ok(
        "id", "update", HANDLE, "--value", "1:URL=https://example.com/v2", "--remove", "2", "--node", node
    )
    assert updated.startswith(f"updated {HANDLE} version 2 (indexes 1); tx 0x")
    answer = wait_resolved(
        enterprise_prefixes, HANDLE, lambda a: values_by_type(a).get("URL") == "https://example.com/v2"
    )
    assert "EMAIL" not in values_by_type(answer)
    assert values_by_type(answer)["SERIAL"] == "S-1"

    deleted = ok("id", "delete", "88.100.1/PN-0002", "--node", node)
    assert deleted.startswith("deleted 88.100.1/PN-0002 version 2; tx 0x")
    deadline = time.monotonic() + RESOLVE_TIMEOUT
    while (gone := idfuse("resolve", "88.100.1/PN-0002", "--node", node)).returncode == 0:
        assert time.monotonic() < deadline, "the deleted handle still resolves"
        time.sleep(0.2)
    assert "deleted" in one_line_error(gone)

    again = idfuse("id", "create", HANDLE, "--value", "URL=https://x", "--node", node)
    assert one_line_error(again).startswith("error: IdentifierAlreadyExists(handleKey=0x")
    no_index = idfuse("id", "update", HANDLE, "--value", "URL=https://x", "--node", node)
    assert one_line_error(no_index) == "error: --value URL=...: give the index to change, e.g. 1:URL=..."


def test_hex_and_base64_values_are_written_as_bytes(enterprise_prefixes: Path) -> None:
    node = str(enterprise_prefixes)
    handle = "88.100.1/BIN-1"
    created = ok(
        "id",
        "create",
        handle,
        "--value",
        "CERT:hex=0x00ff10",
        "--value",
        "3:BLOB:base64=AAEC",
        "--node",
        node,
    )
    assert created.startswith(f"created {handle} version 1 (indexes 1, 3); tx 0x")
    answer = wait_resolved(enterprise_prefixes, handle, lambda a: True)
    written = [value for value in answer["values"] if value["index"] < 100]  # HS_ADMIN is derived
    assert [(value["index"], value["type"], value["format"]) for value in written] == [
        (1, "CERT", "hex"),
        (3, "BLOB", "base64"),
    ]
    with IdfuseClient.from_endpoints(enterprise_prefixes / "endpoints.json") as client:
        resolved = client.resolve(handle, types=["CERT", "BLOB"]).values
    assert [value.data for value in resolved] == [b"\x00\xff\x10", b"\x00\x01\x02"]
    assert f"{handle}: verified (live)" in ok("verify", handle, "--node", node)


def test_governance_says_how_many_votes_are_missing(enterprise_prefixes: Path) -> None:
    node = str(enterprise_prefixes)
    # The development account is a member, the validator a validator: 2 voting members, so a
    # proposal needs 2 yes votes and the proposer's counts.
    proposed = json.loads(ok("prefix", "register", "89", "--node", node, "--json"))
    assert (proposed["how"], proposed["state"], proposed["votes_needed"]) == ("proposal", "open", 1)
    text = ok("prefix", "register", "90", "--node", node)
    assert "needs 1 more yes vote(s) (1 of 2)" in text
    validator = ["--account", str(enterprise_prefixes / "validator.keystore.json")]
    validator += ["--password-file", str(enterprise_prefixes / "validator.password")]
    voted = ok("prefix", "vote", str(proposed["proposal_id"]), "--node", node, *validator)
    assert voted.startswith(f"voted; proposal {proposed['proposal_id']} is executed; tx 0x")
    assert json.loads(ok("prefix", "show", "89", "--node", node, "--json"))["status"] == "active"
    twice = idfuse("prefix", "vote", str(proposed["proposal_id"]), "--node", node, *validator)
    assert one_line_error(twice).startswith("error: ConsortiumProposalClosed(")


def test_an_auditor_verifies_a_handle_and_a_prefix(enterprise_prefixes: Path) -> None:
    node = str(enterprise_prefixes)
    ok("id", "create", "88.100.1/AUDIT-1", "--value", "URL=https://example.com/a", "--node", node)
    wait_resolved(enterprise_prefixes, "88.100.1/AUDIT-1", lambda a: True)
    report = json.loads(ok("verify", "88.100.1/AUDIT-1", "--node", node, "--json"))
    assert (report["kind"], report["verified"], report["state"], report["differences"]) == (
        "identifier",
        True,
        "live",
        [],
    )
    assert {"commit seals", "state proof", "values"} <= {check["name"] for check in report["checks"]}
    table = ok("verify", "88.100.1/AUDIT-1", "--node", node)
    assert "88.100.1/AUDIT-1: verified (live)" in table
    at = str(report["resolver_checkpoint"]["block_number"])
    pinned = json.loads(ok("verify", "88.100.1/AUDIT-1", "--block", at, "--node", node, "--json"))
    assert (pinned["verified"], pinned["block_number"]) == (True, int(at))
    prefix = json.loads(ok("verify", "88.100", "--node", node, "--json"))
    assert (prefix["kind"], prefix["verified"], prefix["state"]) == ("prefix", True, "active")


def test_an_outsider_is_refused_in_one_line(enterprise_prefixes: Path, tmp_path: Path) -> None:
    node = str(enterprise_prefixes)
    password = tmp_path / "password"
    password.write_text("outsider password\n")
    accounts = tmp_path / "accounts"
    created = json.loads(
        ok("account", "new", "--dir", str(accounts), "--password-file", str(password), "--json")
    )
    outsider = created["address"]
    assert json.loads(ok("account", "list", "--dir", str(accounts), "--json")) == [created]
    assert outsider in ok("account", "list", "--dir", str(accounts))

    # Selected by address from the accounts directory ($IDFUSE_ACCOUNTS_DIR); the node from $IDFUSE_NODE.
    env = {"IDFUSE_ACCOUNTS_DIR": str(accounts), "IDFUSE_NODE": node}
    as_outsider = ["--account", outsider, "--password-file", str(password)]
    refused = idfuse("id", "create", "88.100.1/EVIL", "--value", "URL=https://evil", *as_outsider, env=env)
    line = one_line_error(refused)
    assert line.startswith("error: PrefixUnauthorized(node=0x")
    assert f"caller={outsider})" in line
    assert "neither the prefix's owner nor one of its operators" in line

    not_member = idfuse("prefix", "register", "91", *as_outsider, env=env)
    assert one_line_error(not_member) == (
        f"error: ConsortiumNotMember(account={outsider}) (the signing account is not a consortium member)"
    )

    # A write the contract would allow is refused by the pool: the outsider is no member.
    ok("prefix", "transfer", "88.100.1", outsider, "--node", node)
    pool = one_line_error(idfuse("prefix", "accept", "88.100.1", *as_outsider, env=env))
    assert f"sender not allowed by consortium: {outsider.lower()}" in pool
    assert pool.endswith("(the Consortium must add this account as a member first)")
    ok("prefix", "transfer", "88.100.1", "--cancel", "--node", node)

    wrong = tmp_path / "wrong"
    wrong.write_text("not the password\n")
    bad = idfuse("id", "delete", HANDLE, "--account", outsider, "--password-file", str(wrong), env=env)
    assert "wrong password for keystore" in one_line_error(bad)
    assert "not the password" not in bad.stderr


def test_account_import_never_echoes_the_key(tmp_path: Path) -> None:
    key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
    address = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
    password = tmp_path / "password"
    password.write_text("import password\n")
    accounts = tmp_path / "accounts"
    common = ["--dir", str(accounts), "--password-file", str(password)]
    imported = idfuse("account", "import", *common, stdin="0x" + key + "\n")
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.splitlines()[0] == f"imported account {address}"
    assert key not in imported.stdout + imported.stderr
    assert (accounts / f"{address}.keystore.json").stat().st_mode & 0o777 == 0o600

    from_env = idfuse("account", "import", *common, "--json", env={"MY_KEY": key})
    assert one_line_error(from_env) == "error: no private key on stdin; pipe it in, or use --key-env VAR"
    duplicate = idfuse("account", "import", *common, "--key-env", "MY_KEY", env={"MY_KEY": key})
    assert "already exists" in one_line_error(duplicate)
    assert key not in duplicate.stdout + duplicate.stderr
    broken = idfuse("account", "import", *common, stdin=key[:-2] + "zz\n")
    assert (
        one_line_error(broken)
        == "error: the private key is not 64 hexadecimal digits (0x optional) of a valid key"
    )
    assert key[:20] not in broken.stderr
    assert json.loads(ok("account", "list", "--dir", str(accounts), "--json"))[0]["address"] == address


def test_verify_exits_1_and_names_what_differs(enterprise_prefixes: Path, tmp_path: Path) -> None:
    endpoints = json.loads((enterprise_prefixes / "endpoints.json").read_text())
    liar = "0x" + "11" * 20
    with lying_resolver(endpoints["resolver_url"], liar) as url:
        lying = tmp_path / "endpoints.json"
        lying.write_text(json.dumps({**endpoints, "resolver_url": url}))
        result = idfuse("verify", "88.100", "--node", str(lying), "--json")
        assert result.returncode == 1
        report = json.loads(result.stdout)
        assert report["verified"] is False
        assert report["differences"] == ["owner"]
        owner = next(check for check in report["checks"] if check["name"] == "owner")
        assert owner["found"].lower() == liar
        assert owner["expected"].lower() == endpoints["dev_account"]["address"].lower()
        table = idfuse("verify", "88.100", "--node", str(lying))
        assert "88.100: NOT verified" in table.stdout
        assert one_line_error(table) == "error: 88.100 is not verified; differing: owner"
