"""``callboard test``: passing, failing (exit 1, readable diff), JUnit XML, coverage, -k."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.flowtest.conftest import run_cli
from tests.flowtest.shared_flows import SHARED, shared_flows, write_smoke_files


def test_the_example_files_pass(files: Path) -> None:
    r = run_cli(str(files / "survey.test.yaml"), str(files / "menu.test.yaml"), "-j", "2")
    assert r.exit_code == 0, r.output
    assert "PASS  happy path" in r.output and "PASS  voice menu" in r.output
    assert "7 passed, 0 failed (7 tests in 2 files)" in r.output


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/studio-flows is absent")
def test_hand_written_tests_of_shared_flows_pass(files: Path) -> None:
    r = run_cli(str(files / "shared"), "-j", "1")
    assert r.exit_code == 0, r.output
    assert "13 passed, 0 failed" in r.output


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/studio-flows is absent")
def test_every_shared_flow_with_a_wired_trigger_runs(tmp_path: Path) -> None:
    written = write_smoke_files(tmp_path)
    assert len(written) >= 12
    r = run_cli(str(tmp_path))
    assert r.exit_code == 0, r.output
    assert " 0 failed" in r.output and "FAIL" not in r.output
    assert len(shared_flows()) >= 15


def _copy(files: Path, tmp_path: Path, name: str, old: str, new: str) -> Path:
    for flow in ("survey.json", "menu.json"):
        shutil.copy(files / flow, tmp_path / flow)
    text = (files / name).read_text(encoding="utf-8")
    assert old in text
    target = tmp_path / name
    target.write_text(text.replace(old, new), encoding="utf-8")
    return target


def test_a_wrong_expectation_fails_with_a_diff(files: Path, tmp_path: Path) -> None:
    path = _copy(files, tmp_path, "survey.test.yaml", "your order is shipped/", "is lost/")
    r = run_cli(str(path), "-k", "happy", "-j", "1")
    assert r.exit_code == 1, r.output
    assert "FAIL  happy path" in r.output
    assert f"{path}:16: the next message differs" in r.output
    assert "expected: '/Thanks ada, is lost/'" in r.output
    assert "got:      'Thanks ada, your order is shipped.'" in r.output
    assert "path so far: Trigger -> ask_name -> check_name -> save_name -> lookup -> thanks" in (
        r.output
    )
    assert "0 passed, 1 failed" in r.output


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("ada, widgets", "eve, widgets", "flow.variables.name differs"),
        ("lookup, thanks]", "thanks]", "the path differs"),
        ("      - expect_end: true\n  - name: no answer", "  - name: no answer", "1 message"),
        ('"Still there?"', '"Hello?"', "the next message differs"),
        ("status: 404", "status: 200", "the next message differs"),
    ],
)
def test_each_kind_of_expectation_can_fail(
    files: Path, tmp_path: Path, old: str, new: str, message: str
) -> None:
    if "1 message" in message:  # an unexpected message: drop the expect before the end
        old, new = "      - expect: /Thanks ada, your order is shipped/\n", ""
    path = _copy(files, tmp_path, "survey.test.yaml", old, new)
    r = run_cli(str(path), "-j", "1")
    assert r.exit_code == 1, r.output
    assert message in r.output


def test_voice_expectations_fail_readably(files: Path, tmp_path: Path) -> None:
    path = _copy(files, tmp_path, "menu.test.yaml", "/\\+15005550006/", "+15005550007")
    r = run_cli(str(path), "-k", "sales", "-j", "1")
    assert r.exit_code == 1, r.output
    assert "the next <Dial> differs" in r.output and "number +15005550006" in r.output


def test_junit_xml_has_suites_cases_and_failures(files: Path, tmp_path: Path) -> None:
    path = _copy(files, tmp_path, "survey.test.yaml", "Still there?", "Anyone?")
    out = tmp_path / "junit.xml"
    r = run_cli(str(path), "--junit", str(out), "-j", "1")
    assert r.exit_code == 1
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "1", "0")
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == str(path)
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "0")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "happy path",
        "no answer",
        "order not found",
        "started by the REST API",
    ]
    assert all(c.get("classname") == str(path) and float(c.get("time", "x")) >= 0 for c in cases)
    failures = [(c.get("name"), c.find("failure")) for c in cases if c.find("failure") is not None]
    assert len(failures) == 1 and failures[0][0] == "no answer"
    node = failures[0][1]
    assert node is not None and node.get("message") == "the next message differs"
    assert "expected: 'Anyone?'" in (node.text or "")


def test_coverage_lists_exactly_the_transitions_not_taken(files: Path, tmp_path: Path) -> None:
    out = tmp_path / "coverage.json"
    r = run_cli(str(files / "survey.test.yaml"), "--coverage", "--coverage-json", str(out))
    assert r.exit_code == 0, r.output
    assert "survey.json: 9/10 widgets, 8/9 transitions" in r.output
    assert "transition never taken: check_name --match--> refuse" in r.output
    (report,) = json.loads(out.read_text())
    assert report["untaken_widgets"] == ["refuse"]
    assert report["untaken_transitions"] == [
        {"widget": "check_name", "event": "match", "next": "refuse"}
    ]
    r = run_cli(str(files / "survey.test.yaml"), "-k", "happy", "--coverage-json", str(out))
    (report,) = json.loads(out.read_text())
    assert report["untaken_widgets"] == ["nudge", "refuse", "sorry", "greet"]
    assert {(t["widget"], t["next"]) for t in report["untaken_transitions"]} == {
        ("Trigger", "greet"),
        ("ask_name", "nudge"),
        ("check_name", "refuse"),
        ("lookup", "sorry"),
    }


def test_k_selects_by_name(files: Path) -> None:
    r = run_cli(str(files / "menu.test.yaml"), "-k", "*hangs*")
    assert r.exit_code == 0 and "1 passed" in r.output and "voice menu" not in r.output


def test_the_default_is_test_files_under_the_current_folder(
    files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _copy(files, tmp_path, "menu.test.yaml", "voice menu", "voice menu")
    monkeypatch.chdir(tmp_path)
    r = run_cli("-j", "1")
    assert r.exit_code == 0 and "3 passed" in r.output


def test_a_request_no_mock_answers_is_named_in_the_failure(files: Path, tmp_path: Path) -> None:
    path = _copy(
        files,
        tmp_path,
        "survey.test.yaml",
        'url: "https://api.example.com/orders/*"',
        'url: "https://other.test/*"',
    )
    r = run_cli(str(path), "-k", "happy", "-j", "1")
    assert r.exit_code == 1
    assert "note: no mock for GET https://api.example.com/orders/ada" in r.output
