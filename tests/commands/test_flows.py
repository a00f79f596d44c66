"""``callboard flows validate`` (click's CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from callboard.cli import cli
from tests.flow.test_validate import CORPUS, base


def _write(tmp_path: Path, name: str, content: Any) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def _invalid() -> dict[str, Any]:
    flow = base()
    flow["states"][3]["properties"]["body"] = 5
    flow["states"][2]["transitions"][0]["next"] = "nowhere"
    return flow


def _run(*args: str, stdin: str = "") -> Result:
    return CliRunner().invoke(cli, ["flows", "validate", *args], input=stdin)


def test_valid_file(tmp_path: Path) -> None:
    good = _write(tmp_path, "good.json", base())
    result = _run(good)
    assert result.exit_code == 0
    assert result.stdout == f"{good}: valid\n"


def test_invalid_file_lists_every_problem(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.json", _invalid())
    result = _run(bad)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{bad}: #/states/2/transitions/0/next: Transition references a widget that doesn't exist",
        f"{bad}: #/states/3/properties/body: integer found, string expected",
    ]


def test_several_files_valid_and_invalid(tmp_path: Path) -> None:
    good = _write(tmp_path, "good.json", base())
    bad = _write(tmp_path, "bad.json", _invalid())
    result = _run(good, bad, good)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"{good}: valid" and lines[-1] == f"{good}: valid"
    assert len(lines) == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"states": [1,}', "is not valid JSON: Expecting value at line 1, column 15"),
        ('{\n  "states": [\n    {"name": "a",\n  ]\n}', "at line 4, column 3"),
        ("", "is not valid JSON: Expecting value at line 1, column 1"),
        ("[" * 100_000, "is not valid JSON: nested too deeply"),
    ],
)
def test_malformed_json_exits_2_with_line_and_column(
    tmp_path: Path, content: str, message: str
) -> None:
    path = _write(tmp_path, "broken.json", content)
    result = _run(path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"{path} is not valid JSON")
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"description": "caf\xe9"}')
    result = _run(str(path))
    assert result.exit_code == 2
    assert result.stderr == f"{path} is not UTF-8 text\n"


def test_missing_file_exits_2_and_other_files_are_still_checked(tmp_path: Path) -> None:
    good = _write(tmp_path, "good.json", base())
    bad = _write(tmp_path, "bad.json", _invalid())
    missing = str(tmp_path / "missing.json")
    result = _run(missing, bad, good)
    assert result.exit_code == 2  # unreadable wins over invalid
    assert result.stderr == f"{missing}: cannot read the file: No such file or directory\n"
    assert f"{good}: valid" in result.stdout
    assert f"{bad}: #/states/3/properties/body" in result.stdout


def test_directory_is_unreadable(tmp_path: Path) -> None:
    result = _run(str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{tmp_path}: cannot read the file: ")


def test_json_output(tmp_path: Path) -> None:
    good = _write(tmp_path, "good.json", base())
    bad = _write(tmp_path, "bad.json", _invalid())
    broken = _write(tmp_path, "broken.json", "{")
    result = _run("--json", good, bad, broken)
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    files = document["files"]
    assert [f["file"] for f in files] == [good, bad, broken]
    assert files[0] == {"file": good, "valid": True, "errors": [], "warnings": []}
    assert files[1]["valid"] is False
    assert files[1]["errors"][1] == {
        "property_path": "#/states/3/properties/body",
        "message": "integer found, string expected",
    }
    assert files[2]["valid"] is False
    assert "line 1, column 2" in files[2]["error"]


def test_warnings_are_shown_on_request_and_strict_fails_on_them(tmp_path: Path) -> None:
    flow = base()
    flow["states"][3]["properties"]["body"] = "Hi {{ name"
    path = _write(tmp_path, "warn.json", flow)
    quiet = _run(path)
    assert quiet.exit_code == 0 and quiet.stdout == f"{path}: valid\n"
    loud = _run("--warnings", path)
    assert loud.exit_code == 0
    lines = loud.stdout.splitlines()
    assert lines[0].startswith(f"{path}: warning: #/states/3/properties/body: invalid Liquid")
    assert lines[1] == f"{path}: valid"
    strict = _run("--strict", path)
    assert strict.exit_code == 1
    assert "warning: #/states/3/properties/body" in strict.stdout


def test_standard_input() -> None:
    result = _run("-", stdin=json.dumps(base()))
    assert result.exit_code == 0
    assert result.stdout == "<stdin>: valid\n"


def test_a_json_value_that_is_not_a_flow() -> None:
    result = _run("-", stdin="[]")
    assert result.exit_code == 1
    assert result.stdout == "<stdin>: #: array found, object expected\n"


def test_no_file_is_a_usage_error() -> None:
    result = _run()
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr


def test_help_mentions_exit_statuses() -> None:
    result = CliRunner().invoke(cli, ["flows", "validate", "--help"])
    assert result.exit_code == 0
    assert "Exit status: 0 when every file is valid" in result.stdout
    group = CliRunner().invoke(cli, ["flows", "--help"])
    assert "validate" in group.stdout


def test_the_corpus_validates_from_the_command_line() -> None:
    if not CORPUS:
        pytest.skip("../shared/studio-flows is not available")
    result = _run(*(str(p) for p in CORPUS))
    assert result.stdout.splitlines() == [f"{p}: valid" for p in CORPUS]
    assert result.exit_code == 0
