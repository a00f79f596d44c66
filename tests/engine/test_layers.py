"""The pure core's layering: flow < contract < widgets, engine < validation.

Every import statement counts, wherever it stands (module level, in a function, under
``TYPE_CHECKING``). The engine runs the widgets of the catalog it is handed, so it runs
a catalog of test widgets as well as the registry.
"""

from __future__ import annotations

import ast
from pathlib import Path

from callboard.contract.io import Start
from callboard.contract.widget import Done, EventSpec, Outcome, Run, Widget
from callboard.engine import Bundle, FlowRef, advance
from callboard.engine.env import FakeEnv
from callboard.flow.model import FlowDefinition

SRC = Path(__file__).resolve().parents[2] / "src" / "callboard"

# package -> the callboard packages it may import (itself included)
ALLOWED = {
    "flow": {"flow"},
    "contract": {"flow", "contract"},
    "widgets": {"flow", "contract", "widgets"},
    "engine": {"flow", "contract", "engine"},
    "validation": {"flow", "contract", "widgets", "validation"},
}


def imports(path: Path) -> set[str]:
    """Every callboard module or package named by an import statement in ``path``."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            out.add(node.module or "")
    return {name for name in out if name.split(".")[0] == "callboard"}


def test_core_packages_import_only_the_layers_below() -> None:
    wrong = []
    for package, allowed in ALLOWED.items():
        for path in sorted((SRC / package).glob("*.py")):
            for name in imports(path):
                target = name.split(".")[1] if "." in name else ""
                if target not in allowed:
                    wrong.append(f"{package}/{path.name} imports {name}")
    assert wrong == []


def test_no_lazy_module_attributes_in_the_core() -> None:
    lazy = [
        str(path.relative_to(SRC))
        for package in ALLOWED
        for path in (SRC / package).glob("*.py")
        if "def __getattr__(" in path.read_text(encoding="utf-8")
    ]
    assert lazy == []


class Echo(Widget):
    type = "echo"
    label = "Echo"
    group = "Test"
    events = (EventSpec("done", "Done"),)

    def start(self, run: Run) -> Outcome:
        return Done("done", variables={"said": run.render_text("hi {{flow.data.x}}", "t")})


class Catalog:
    def __init__(self, *widgets: Widget) -> None:
        self.table = {w.type: w for w in widgets}

    def get(self, widget_type: str) -> Widget | None:
        return self.table.get(widget_type)

    def all_widgets(self) -> list[Widget]:
        return list(self.table.values())


FLOW = FlowDefinition.from_json(
    {
        "description": "catalog",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "transitions": [{"event": "incomingRequest", "next": "say"}],
                "properties": {},
            },
            {"name": "say", "type": "echo", "transitions": [], "properties": {}},
        ],
    }
)
START = Start("incomingRequest", "FN1", "FW1", "+1555", "+1666", parameters={"x": "there"})


def test_the_engine_runs_the_widgets_of_the_catalog_it_is_handed() -> None:
    from callboard.widgets.registry import WIDGETS

    trigger = WIDGETS.get("trigger")
    assert trigger is not None and WIDGETS.get("echo") is None
    bundle = Bundle(FlowRef("FW1", 1, FLOW), widgets=Catalog(trigger, Echo()))
    result = advance(bundle, None, START, FakeEnv())
    assert result.state.status == "ended" and result.state.ended_reason == "completed"
    assert result.state.context["widgets"]["say"] == {"said": "hi there"}
    assert [s.transitioned_from for s in result.steps] == ["Trigger", "say"]


def test_a_type_missing_from_the_catalog_is_not_supported() -> None:
    from callboard.widgets.registry import WIDGETS

    result = advance(Bundle(FlowRef("FW1", 1, FLOW), widgets=WIDGETS), None, START, FakeEnv())
    assert result.state.ended_reason == "failed"
    assert [(w.code, w.widget) for w in result.warnings] == [(81020, "say")]


def test_the_validator_checks_against_the_catalog_it_is_handed() -> None:
    from callboard.validation.definition import validate
    from callboard.widgets.registry import WIDGETS

    trigger = WIDGETS.get("trigger")
    assert trigger is not None
    catalog = Catalog(trigger, Echo())
    assert validate(FLOW.raw, catalog) == []
    [problem] = validate(FLOW.raw)  # the registry has no "echo"
    assert problem.property_path == "#/states/1/type"
    assert problem.message.startswith("does not have a value in the enumeration [")
    studio = {**FLOW.raw, "states": [FLOW.raw["states"][0], {**FLOW.raw["states"][1]}]}
    studio["states"][1]["type"] = "send-message"
    [problem] = validate(studio, catalog)  # a Studio type this catalog lacks
    assert problem.message == "widget type 'send-message' is not supported by Callboard"
