"""Bad command-line input the CLI refuses in one line before it reaches a node."""

from pathlib import Path

from tests.e2e.processes import run_idfuse


def _one_line_error(result, fragment: str) -> None:
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stdout + result.stderr


def test_a_value_without_type_and_data_is_named(tmp_path: Path) -> None:
    result = run_idfuse("id", "create", "88/x", "--value", "noequals", "--node", str(tmp_path))
    _one_line_error(result, "--value 'noequals': expected [INDEX:]TYPE[:FORMAT]=VALUE")


def test_an_unknown_value_format_is_named(tmp_path: Path) -> None:
    result = run_idfuse("id", "create", "88/x", "--value", "CERT:octal=17", "--node", str(tmp_path))
    _one_line_error(result, "--value CERT format must be string, base64 or hex, not 'octal'")


def test_hex_and_base64_values_must_decode(tmp_path: Path) -> None:
    for item, fragment in (
        ("CERT:hex=0xzz", "--value CERT is not valid hex"),
        ("B:base64=@@", "--value B is not valid base64"),
    ):
        _one_line_error(
            run_idfuse("id", "create", "88/x", "--value", item, "--node", str(tmp_path)), fragment
        )


def test_a_long_malformed_value_is_shortened(tmp_path: Path) -> None:
    result = run_idfuse("id", "create", "88/x", "--value", "x" * 500, "--node", str(tmp_path))
    _one_line_error(result, "...': expected")
    assert "x" * 100 not in result.stderr


def test_an_accounts_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "accounts"
    not_a_directory.write_text("")
    _one_line_error(run_idfuse("account", "list", "--dir", str(not_a_directory)), "is not a directory")


def test_a_missing_accounts_directory_lists_nothing(tmp_path: Path) -> None:
    result = run_idfuse("account", "list", "--dir", str(tmp_path / "none"), "--json")
    assert result.returncode == 0
    assert result.stdout.strip() == "[]"


def test_a_value_the_registry_refuses_is_named_before_the_node(tmp_path: Path) -> None:
    result = run_idfuse("id", "create", "88/x", "--value", "0:URL=x", "--node", str(tmp_path))
    _one_line_error(result, "value index must be 1-4294967295, got 0")


def test_a_template_the_registry_refuses_is_named_before_the_node(tmp_path: Path) -> None:
    result = run_idfuse(
        "template", "set", "88", "t", "1", "--field", "URL:min=5:max=2", "--node", str(tmp_path)
    )
    _one_line_error(result, "min_length <= max_length <= 8192, got 5 and 2")
