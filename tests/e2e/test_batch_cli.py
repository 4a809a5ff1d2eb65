"""``idfuse batch register`` as an enterprise runs it against a real fusion node: 10,000
identifiers from a CSV file beside a few created one by one, verified by an auditor and
resolved by pyhandle through the node's resolver; an outsider refused in one line; a run
stopped by Ctrl-C that a rerun completes with every record registered exactly once."""

from __future__ import annotations

import json
import signal
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from idfuse_sdk.client import IdfuseClient
from idfuse_sdk.contracts.abi import decode_log, event_topic
from idfuse_sdk.identifiers import prefix_node
from tests.e2e.processes import idfuse_exe, running_node, start
from tests.e2e.test_user_cli import idfuse, ok, one_line_error, wait_resolved

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pyhandle's imports warn on Python 3.11 (not ours to fix)
    from pyhandle.client.resthandleclient import RESTHandleClient

PREFIX = "88.100.1"
RECORDS = 10_000


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A running fusion node where the development account owns ``88``, ``88.100`` and
    ``88.100.1``, registered through the CLI."""
    with running_node(tmp_path_factory.mktemp("batch-cli") / "node") as process:
        data_dir = process.data_dir
        dev = json.loads((data_dir / "endpoints.json").read_text())["dev_account"]["address"]
        validator = ["--account", str(data_dir / "validator.keystore.json")]
        validator += ["--password-file", str(data_dir / "validator.password")]
        ok("prefix", "register", "88", "--owner", dev, "--node", str(data_dir), *validator)
        ok("prefix", "register", "88.100", "--node", str(data_dir))
        ok("prefix", "register", PREFIX, "--node", str(data_dir))
        yield data_dir


def csv_file(path: Path, tag: str, count: int) -> Path:
    rows = ["suffix,URL,2:EMAIL"] + [
        f"{tag}-{n:05d},https://e.example/{tag}/{n},m{n}@e.example" for n in range(count)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def registrations(node: Path) -> tuple[int, int]:
    """(registrations counted per event, distinct handle keys) under PREFIX: equal when no
    handle was registered twice."""
    with IdfuseClient.from_endpoints(node) as client:
        keys = client._run(client.flow_registered_keys(PREFIX))
        topics = [["0x" + event_topic(name).hex() for name in ("IdentifierCreated", "BatchRegistered")]]
        criteria = {
            "address": client.contracts["IdentifierRegistry"],
            "fromBlock": "0x0",
            "toBlock": "latest",
            "topics": [*topics, None, "0x" + prefix_node(PREFIX).hex()],
        }
        total = 0
        for log in client._run(client._rpc("eth_getLogs", [criteria])):
            decoded = decode_log(log)
            assert decoded is not None
            total += int(decoded.args["count"]) if decoded.name == "BatchRegistered" else 1
    return total, len(keys)


def journal_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def signal_after_first_chunk(command: list[str], stderr: Path, marker: str, signum: signal.Signals) -> int:
    """Run ``command`` with its stderr in ``stderr``, send ``signum`` once ``marker`` (the first
    chunk's progress line) appears, and return its exit code."""
    process = start(command, stderr.with_suffix(".out"), err=stderr)
    try:
        deadline = time.monotonic() + 120
        while marker not in stderr.read_text():
            assert process.poll() is None, stderr.read_text()
            assert time.monotonic() < deadline, stderr.read_text()
            time.sleep(0.02)
        process.send_signal(signum)
        return process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def test_help() -> None:
    for command in (["batch"], ["batch", "register"], ["batch", "status"]):
        result = idfuse(*command, "--help")
        assert result.returncode == 0, result.stderr
        assert "Usage: idfuse " + " ".join(command) in " ".join(result.stdout.split())


def test_ten_thousand_by_batch_a_few_singly_verified_and_resolved_by_pyhandle(
    node: Path, tmp_path: Path
) -> None:
    source = csv_file(tmp_path / "parts.csv", "PN", RECORDS)
    done = idfuse("batch", "register", PREFIX, str(source), "--node", str(node), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["records"], report["landed"], report["registered"]) == (RECORDS, RECORDS, RECORDS)
    assert (report["already_registered"], report["duplicates_in_file"], report["interrupted"]) == (
        [],
        [],
        False,
    )
    assert len(report["chunks"]) == 5
    assert len(set(report["tx_hashes"])) == 5
    progress = [line for line in done.stderr.splitlines() if line.startswith("chunk ")]
    assert len(progress) == 5
    assert progress[-1].endswith(f"{RECORDS}/{RECORDS} done")

    singles = [f"{PREFIX}/ONE-{n}" for n in range(3)]
    for n, handle in enumerate(singles):
        ok("id", "create", handle, "--value", f"URL=https://one.example/{n}", "--node", str(node))
    last = f"{PREFIX}/PN-{RECORDS - 1:05d}"
    wait_resolved(node, last, lambda answer: answer["source"] == "resolver")
    wait_resolved(node, singles[-1], lambda answer: answer["source"] == "resolver")

    for handle, state in [(f"{PREFIX}/PN-{n:05d}", "batch") for n in (0, 4_321, RECORDS - 1)] + [
        (singles[0], "live")
    ]:
        verified = json.loads(ok("verify", handle, "--node", str(node), "--json"))
        assert (verified["verified"], verified["state"], verified["differences"]) == (True, state, [])
        assert {"commit seals", "state proof", "values"} <= {check["name"] for check in verified["checks"]}

    resolver_url = json.loads((node / "endpoints.json").read_text())["resolver_url"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        handles = RESTHandleClient.instantiate_for_read_access(resolver_url, HTTPS_verify=False)
        for n in (0, 4_321, RECORDS - 1):
            handle = f"{PREFIX}/PN-{n:05d}"
            assert handles.get_value_from_handle(handle, "URL") == f"https://e.example/PN/{n}"
            assert handles.get_value_from_handle(handle, "EMAIL") == f"m{n}@e.example"
        assert handles.get_value_from_handle(singles[1], "URL") == "https://one.example/1"
        assert handles.retrieve_handle_record_json(f"{PREFIX}/PN-{RECORDS:05d}") is None

    again = json.loads(ok("batch", "register", PREFIX, str(source), "--node", str(node), "--json"))
    assert (again["landed"], again["landed_earlier"], again["registered"]) == (0, RECORDS, RECORDS)
    status = json.loads(ok("batch", "status", str(source), "--json"))
    assert (status["prefix"], status["records"], status["landed"], status["unconfirmed"]) == (
        PREFIX,
        RECORDS,
        RECORDS,
        [],
    )
    assert status["tx_hashes"] == report["tx_hashes"]
    by_event, distinct = registrations(node)
    assert by_event == distinct


def test_a_bad_file_names_its_line_and_sends_nothing(node: Path, tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("suffix,URL\nBAD-1,https://x\nBAD-2\n")
    line = one_line_error(idfuse("batch", "register", PREFIX, str(source), "--node", str(node)))
    assert line == f"error: {source} line 3: expected 2 cells, got 1"
    assert not Path(f"{source}.journal").exists()
    missing = one_line_error(
        idfuse("batch", "register", PREFIX, str(tmp_path / "none.csv"), "--node", str(node))
    )
    assert "none.csv" in missing


def test_an_outsider_is_refused_in_one_line_and_nothing_lands(node: Path, tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("outsider password\n")
    accounts = tmp_path / "accounts"
    outsider = json.loads(
        ok("account", "new", "--dir", str(accounts), "--password-file", str(password), "--json")
    )["address"]
    source = csv_file(tmp_path / "evil.csv", "EVIL", 10)
    refused = idfuse(
        "batch",
        "register",
        PREFIX,
        str(source),
        "--node",
        str(node),
        "--account",
        str(accounts / f"{outsider}.keystore.json"),
        "--password-file",
        str(password),
    )
    line = one_line_error(refused)
    assert line.startswith("error: PrefixUnauthorized(node=0x")
    assert "neither the prefix's owner nor one of its operators" in line
    assert [event["event"] for event in journal_events(Path(f"{source}.journal"))] == ["start"]
    assert (
        "not found" in one_line_error(idfuse("resolve", f"{PREFIX}/EVIL-00000", "--node", str(node))).lower()
    )


def test_ctrl_c_stops_between_chunks_and_a_rerun_completes_exactly_once(node: Path, tmp_path: Path) -> None:
    total = 4_000
    source = csv_file(tmp_path / "resume.csv", "RS", total)
    journal = tmp_path / "resume.journal"
    stderr = tmp_path / "stderr"
    command = [str(idfuse_exe()), "batch", "register", PREFIX, str(source), "--node", str(node)]
    command += ["--chunk-size", "1000", "--journal", str(journal)]
    assert signal_after_first_chunk(command, stderr, "chunk 1/4", signal.SIGINT) == 130
    lines = stderr.read_text().splitlines()
    assert "Traceback" not in stderr.read_text()
    mined = [event for event in journal_events(journal) if event["event"] == "mined"]
    landed = sum(event["count"] for event in mined)
    assert 1_000 <= landed < total
    assert (
        lines[-1] == f"interrupted: {landed} of {total} records landed; run the same command again to resume"
    )

    rerun = json.loads(ok(*command[1:], "--json"))
    assert rerun["landed_earlier"] == landed
    assert rerun["landed"] + rerun["landed_earlier"] == total
    assert (rerun["registered"], rerun["already_registered"], rerun["interrupted"]) == (total, [], False)
    assert [chunk["resumed"] for chunk in rerun["chunks"]] == [n < len(mined) for n in range(4)]
    by_event, distinct = registrations(node)
    assert by_event == distinct
    wait_resolved(node, f"{PREFIX}/RS-{total - 1:05d}", lambda answer: answer["source"] == "resolver")
    assert len([event for event in journal_events(journal) if event["event"] == "mined"]) == 4


def test_sigterm_stops_between_chunks_with_exit_143(node: Path, tmp_path: Path) -> None:
    source = csv_file(tmp_path / "term.csv", "TM", 1_500)
    stderr = tmp_path / "stderr"
    command = [str(idfuse_exe()), "batch", "register", PREFIX, str(source), "--node", str(node)]
    command += ["--chunk-size", "500"]
    assert signal_after_first_chunk(command, stderr, "chunk 1/3", signal.SIGTERM) == 143
    last = stderr.read_text().splitlines()[-1]
    assert last.startswith("interrupted: ")
    assert last.endswith(" of 1500 records landed; run the same command again to resume")
    status = json.loads(ok("batch", "status", str(source), "--json"))
    assert status["unconfirmed"] == []
    assert 500 <= status["landed"] < 1_500
