"""The test file format: every step kind, strict keys with file:line and a hint (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from callboard.flowtest.loader import load_test_file, parse_test_text
from callboard.flowtest.model import STEP_KINDS, TestFileError
from callboard.flowtest.schema import flow_test_schema
from tests.flowtest.conftest import run_cli

EVERY_STEP = """\
flow: survey.json
tests:
  - name: all steps
    from: "+1555"
    to: "+1666"
    allow_extra: true
    mocks:
      - {url: "https://x.test/*", method: get, status: 201, json: {a: 1}, headers: {X-A: b}}
      - {url: "https://y.test/", body: plain, content_type: text/csv}
    steps:
      - send: hello
      - expect: hi
      - expect: /h.*/
      - wait: 3600
      - expect_variables: {flow.variables.name: ada}
      - expect_path: [Trigger, ask]
      - expect_end: true
      - expect_say: /Press/
      - press: 9
      - speak: sales
      - expect_dial: "+15005550006"
      - hangup: true
"""


def test_every_step_kind_is_read_with_its_line(files: Path) -> None:
    f = parse_test_text(EVERY_STEP, "x.test.yaml", base=files)
    (test,) = f.tests
    assert {s.kind for s in test.steps} == set(STEP_KINDS)
    assert [str(s.where) for s in test.steps][:2] == ["x.test.yaml:11", "x.test.yaml:12"]
    assert test.steps[8].value == "9"  # digits given as a number are text
    assert (test.from_, test.to, test.allow_extra) == ("+1555", "+1666", True)
    first, second = test.mocks
    assert (first.method, first.status, first.body, first.headers) == (
        "GET",
        201,
        '{"a": 1}',
        {"X-A": "b"},
    )
    assert (second.body, second.content_type) == ("plain", "text/csv")
    assert f.definition is not None and f.definition["description"] == "survey"


def test_call_fields_set_the_caller_and_the_number_called(files: Path) -> None:
    text = EVERY_STEP.replace("    allow_extra: true\n", '    call: {from: "+1777", to: "+1888"}\n')
    (test,) = parse_test_text(text, "x.test.yaml", base=files).tests
    assert (test.call, test.from_, test.to) == ({"from": "+1777", "to": "+1888"}, "+1777", "+1888")
    text = EVERY_STEP.replace("    allow_extra: true\n", "    call:\n")
    (test,) = parse_test_text(text, "x.test.yaml", base=files).tests
    assert (test.call, test.from_) == ({}, "+1555")


def test_json_files_are_accepted(files: Path, tmp_path: Path) -> None:
    (tmp_path / "survey.json").write_text((files / "survey.json").read_text())
    path = tmp_path / "t.test.json"
    path.write_text('{"flow": "survey.json", "tests": [{"name": "n", "steps": [{"send": "x"}]}]}')
    assert load_test_file(path).tests[0].steps[0].kind == "send"


@pytest.mark.parametrize(
    ("change", "line", "message", "hint"),
    [
        (("      - expect: hi\n", "      - expcet: hi\n"), 12, "unknown key 'expcet'", "'expect'"),
        (("    from:", "    form:"), 4, "unknown key 'form' in test #1", "'from'"),
        (("method: get", "methd: get"), 8, "unknown key 'methd' in a mock", "'method'"),
        (("      - wait: 3600", "      - wait: soon"), 14, "'wait' wants a number", ""),
        (("flow: survey.json", "flow: nowhere.json"), 1, "cannot read the flow", ""),
        (("      - hangup: true", "      - hangup: true\n        press: 1"), 22, "exactly one", ""),
        (("tests:\n", "tests:\n  - [\n"), 4, "not valid YAML", ""),
        (("flow: survey.json\n", "flow: survey.json\nflows: 1\n"), 2, "unknown key", "'flow'"),
        (("      - expect: /h.*/", "      - expect: /h(/"), 13, "not a valid regex", ""),
        (("    allow_extra: true\n", "    call: &c {}\n    parameters: *c\n"), 7, "aliases", ""),
        (
            ("    allow_extra: true\n", "    call: {form: x}\n"),
            6,
            "unknown key 'form' in 'call'",
            "'from'",
        ),
    ],
)
def test_bad_files_name_the_file_and_line(
    files: Path, change: tuple[str, str], line: int, message: str, hint: str
) -> None:
    assert change[0] in EVERY_STEP
    text = EVERY_STEP.replace(change[0], change[1])
    with pytest.raises(TestFileError) as err:
        parse_test_text(text, "x.test.yaml", base=files)
    assert err.value.where == f"x.test.yaml:{line}", err.value.text()
    assert message in err.value.message
    assert hint in err.value.hint


def test_a_bad_file_exits_2_and_good_files_still_run(files: Path, tmp_path: Path) -> None:
    (tmp_path / "menu.json").write_text((files / "menu.json").read_text())
    good = (files / "menu.test.yaml").read_text()
    (tmp_path / "good.test.yaml").write_text(good)
    (tmp_path / "bad.test.yaml").write_text(good.replace("press:", "pres:", 1))
    r = run_cli(str(tmp_path), "-j", "1")
    assert r.exit_code == 2
    assert f"{tmp_path / 'bad.test.yaml'}:7: unknown key 'pres' in a step" in r.output
    assert "hint: did you mean 'press'?" in r.output
    assert "3 passed, 0 failed, 1 errors" in r.output


def test_a_bad_flow_exits_2(tmp_path: Path) -> None:
    (tmp_path / "f.json").write_text('{"states": "nope"}')
    (tmp_path / "a.test.yaml").write_text("flow: f.json\ntests:\n  - steps: []\n")
    r = run_cli(str(tmp_path))
    assert r.exit_code == 2 and "a.test.yaml:1: the flow 'f.json' is not valid" in r.output


def test_missing_paths_exit_2(tmp_path: Path) -> None:
    r = run_cli(str(tmp_path / "nope.test.yaml"))
    assert r.exit_code == 2 and "no such file or folder" in r.output
    r = run_cli(str(tmp_path))
    assert r.exit_code == 2 and "no test files" in r.output


def test_the_schema_lists_every_key_and_step_kind() -> None:
    schema = flow_test_schema()
    test = schema["properties"]["tests"]["items"]
    kinds = {next(iter(v["properties"])) for v in test["properties"]["steps"]["items"]["oneOf"]}
    assert kinds == set(STEP_KINDS)
    assert schema["additionalProperties"] is False and test["additionalProperties"] is False
