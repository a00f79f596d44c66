"""Matching texts, context values and mocks (pure functions)."""

from __future__ import annotations

from pathlib import Path

from callboard.flowtest.expect import MISSING, find_mock, lookup, matches, same_value
from callboard.flowtest.model import Mock
from tests.flowtest.conftest import run_cli


def test_text_is_exact_or_a_regex() -> None:
    assert matches("Hi there", "  Hi there\n")
    assert not matches("Hi", "Hi there")
    assert matches("/^Hi/", "Hi there") and not matches("/^there/", "Hi there")


def test_context_paths_and_values() -> None:
    ctx = {"flow": {"variables": {"n": "3", "ok": "true"}}, "widgets": {"w": {"list": [1, 2]}}}
    assert lookup(ctx, "flow.variables.n") == "3"
    assert lookup(ctx, "widgets.w.list.1") == 2
    assert lookup(ctx, "widgets.x") is MISSING
    assert same_value(3, "3") and same_value(True, "true") and same_value("/^\\d$/", "3")
    assert not same_value(4, "3") and not same_value({"a": 1}, {"a": 2})


def test_mocks_answer_in_order_then_the_last_repeats() -> None:
    mocks = (
        Mock(url="https://a.test/next*", body="1"),
        Mock(url="https://a.test/next*", body="2"),
        Mock(url="https://a.test/*", method="POST", body="post"),
    )
    used: set[int] = set()
    answers = [find_mock(mocks, "GET", "https://a.test/next?x=1", used) for _ in range(3)]
    assert [m.body if m else None for m in answers] == ["1", "2", "2"]
    post = find_mock(mocks, "post", "https://a.test/save", used)
    assert post is not None and post.body == "post"
    assert find_mock(mocks, "GET", "https://a.test/save", used) is None


def test_a_stored_flow_sid_needs_a_server(tmp_path: Path) -> None:
    path = tmp_path / "x.test.yaml"
    path.write_text("flow: FW" + "a" * 32 + "\ntests:\n  - steps: [{send: hi}]\n")
    r = run_cli(str(path))
    assert r.exit_code == 2
    assert "ERROR test 1" in r.output and "run it with --server URL" in r.output
