"""Run Subflow as a widget (properties, checks); running subflows is in
tests/engine/test_subflows.py."""

from __future__ import annotations

from typing import Any

import pytest

from callboard.widgets import registry
from callboard.widgets.run_subflow import revision_selector
from tests.widgets.kit import SUB, Harness, set_vars, trigger, w

WIDGET = registry.get("run-subflow")
assert WIDGET is not None


@pytest.mark.parametrize(
    ("props", "problems"),
    [
        ({"flow_sid": SUB, "flow_revision": "LatestPublished"}, []),
        ({"flow_sid": SUB, "flow_revision": "LatestRevision"}, []),
        ({"flow_sid": SUB, "flow_revision": "12"}, []),
        ({"flow_sid": SUB, "flow_revision": 12}, []),
        ({"flow_sid": SUB}, []),
        ({"flow_sid": "{{flow.data.sid}}"}, ["properties/flow_sid"]),
        ({"flow_sid": "FW123"}, ["properties/flow_sid"]),
        ({"flow_sid": "FX" + "b" * 32}, ["properties/flow_sid"]),
        ({"flow_sid": ""}, ["properties/flow_sid"]),
        ({"flow_sid": SUB, "flow_revision": "Latest"}, ["properties/flow_revision"]),
        ({"flow_sid": SUB, "flow_revision": "0"}, ["properties/flow_revision"]),
        ({"flow_sid": SUB, "flow_revision": "{{x}}"}, ["properties/flow_revision"]),
        (
            {"flow_sid": "bad", "flow_revision": "-1"},
            ["properties/flow_sid", "properties/flow_revision"],
        ),
        ({"flow_sid": 5}, []),  # wrong JSON types are the type checker's to report
    ],
)
def test_extra_checks(props: dict[str, Any], problems: list[str]) -> None:
    assert WIDGET is not None
    found = WIDGET.extra_checks(props)
    assert [path for path, _ in found] == problems
    if "properties/flow_sid" in problems:
        assert ("properties/flow_sid", "must be a valid, non-liquid flow sid") in found


@pytest.mark.parametrize(
    ("value", "selector"),
    [
        (None, "LatestPublished"),
        ("LatestPublished", "LatestPublished"),
        ("LatestRevision", "LatestRevision"),
        ("7", 7),
        (7, 7),
        (" 3 ", 3),
        ("0", "LatestPublished"),
        (True, "LatestPublished"),
    ],
)
def test_revision_selector(value: Any, selector: str | int) -> None:
    assert revision_selector(value) == selector


def test_parameters_are_rendered_strings() -> None:
    parent = [
        trigger("sub"),
        w(
            "sub",
            "run-subflow",
            flow_sid=SUB,
            flow_revision="LatestPublished",
            parameters=[
                {"key": "name", "value": "{{flow.data.name | upcase}}"},
                {"key": "n", "value": 5},
                {"key": "", "value": "dropped"},
            ],
        ),
    ]
    child = [
        trigger("echo", event="incomingParent"),
        set_vars("echo", got="{{trigger.parent.parameters | to_json}}"),
    ]
    h = Harness(parent, {SUB: child})
    h.start(parameters={"name": "ann"})
    assert h.context["widgets"]["sub"] == {"got": '{"name":"ANN","n":"5"}'}


def test_schema() -> None:
    assert WIDGET is not None
    assert [(e.name, e.label) for e in WIDGET.events] == [
        ("completed", "Completed"),
        ("failed", "Failed"),
    ]
    sid = WIDGET.prop_spec("flow_sid")
    assert sid is not None and sid.required and not sid.liquid
    revision = WIDGET.prop_spec("flow_revision")
    assert revision is not None and revision.default == "LatestPublished" and not revision.liquid
