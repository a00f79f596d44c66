"""Test files for the real Studio exports in ../shared/studio-flows (read in place,
never copied): one smoke test per flow, started the way its Trigger is wired."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

SHARED = Path(__file__).resolve().parents[3] / "shared" / "studio-flows"
START = {
    "incomingMessage": "message",
    "incomingCall": "call",
    "incomingConversationMessage": "conversation",
    "incomingRequest": "request",
}


def shared_flows() -> list[Path]:
    return sorted(SHARED.glob("*.json")) if SHARED.is_dir() else []


def smoke_test(flow: Path) -> dict[str, Any]:
    """A test file (as data) taking each wired Trigger event once."""
    definition = json.loads(flow.read_text(encoding="utf-8"))
    trigger = next(s for s in definition["states"] if s["type"] == "trigger")
    tests: list[dict[str, Any]] = []
    for t in trigger["transitions"]:
        kind = START.get(t["event"])
        if kind is None or not t.get("next"):
            continue
        test: dict[str, Any] = {"name": f"{kind} starts {t['next']}", "allow_extra": True}
        steps: list[dict[str, Any]] = []
        if kind == "call":
            test["call"] = {}
        elif kind == "request":
            test["parameters"] = {"name": "Ada"}
        else:
            if kind == "conversation":
                test["conversation"] = {}
            steps.append({"send": "hello"})
        steps.append({"expect_path": ["Trigger", t["next"]]})
        test["steps"] = steps
        test["mocks"] = [{"url": "*", "json": {"ok": True}}]
        tests.append(test)
    return {"flow": str(flow), "tests": tests}


def write_smoke_files(folder: Path) -> list[Path]:
    out = []
    for flow in shared_flows():
        data = smoke_test(flow)
        if not data["tests"]:
            continue
        path = folder / f"{flow.stem}.test.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        out.append(path)
    return out
