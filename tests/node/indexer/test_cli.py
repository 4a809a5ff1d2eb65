"""``idfuse indexer``: help that helps, and failures the user can fix in one line with exit 1."""

import json
import subprocess

from tests.e2e.processes import run_idfuse as _idfuse


def test_help_names_every_option():
    result = _idfuse("indexer", "--help")
    assert result.returncode == 0
    for option in (
        "--rpc",
        "--data-dir",
        "--endpoints",
        "--start-block",
        "--finality-depth",
        "--ignore-finalized-tag",
        "--batch-blocks",
        "--poll-interval",
        "--compact-after",
    ):
        assert option in result.stdout


def test_a_poll_interval_out_of_range_is_refused(tmp_path):
    for value in ("0", "-1", "61", "soon"):
        result = _idfuse(
            "indexer", "--rpc", "http://127.0.0.1:9", "--data-dir", str(tmp_path), "--poll-interval", value
        )
        assert result.returncode == 2, result
        assert "--poll-interval" in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "index").exists()


def test_a_negative_compact_after_is_refused(tmp_path):
    result = _idfuse(
        "indexer", "--rpc", "http://127.0.0.1:9", "--data-dir", str(tmp_path), "--compact-after", "-1"
    )
    assert result.returncode == 2, result
    assert "--compact-after" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "index").exists()


def _one_line_failure(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert words in lines[0]


def test_no_endpoints_file_is_one_line(tmp_path):
    result = _idfuse("indexer", "--rpc", "http://127.0.0.1:9", "--data-dir", str(tmp_path))
    _one_line_failure(result, "endpoints.json")


def test_endpoints_without_the_registries_is_one_line(tmp_path):
    endpoints = tmp_path / "endpoints.json"
    endpoints.write_text(json.dumps({"contracts": {"Consortium": "0x" + "11" * 20}}))
    result = _idfuse(
        "indexer", "--rpc", "http://127.0.0.1:9", "--data-dir", str(tmp_path), "--endpoints", str(endpoints)
    )
    _one_line_failure(result, "PrefixRegistry")
