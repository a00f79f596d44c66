"""Coverage: the widgets and transitions (widget + event → next) no test took."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Coverage", "Transition", "flow_coverage", "transitions_of"]


@dataclass(frozen=True, slots=True, order=True)
class Transition:
    widget: str
    event: str
    next: str

    def __str__(self) -> str:
        return f"{self.widget} --{self.event}--> {self.next}"


@dataclass(frozen=True, slots=True)
class Coverage:
    flow: str
    widgets: list[str]  # every widget of the flow, in definition order
    transitions: list[Transition]  # every wired transition
    untaken_widgets: list[str]
    untaken_transitions: list[Transition]

    def to_json(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "widgets": len(self.widgets),
            "transitions": len(self.transitions),
            "untaken_widgets": self.untaken_widgets,
            "untaken_transitions": [
                {"widget": t.widget, "event": t.event, "next": t.next}
                for t in self.untaken_transitions
            ],
        }

    def text(self) -> str:
        done_t = len(self.transitions) - len(self.untaken_transitions)
        done_w = len(self.widgets) - len(self.untaken_widgets)
        lines = [
            f"{self.flow}: {done_w}/{len(self.widgets)} widgets, "
            f"{done_t}/{len(self.transitions)} transitions"
        ]
        lines += [f"    widget never reached: {w}" for w in self.untaken_widgets]
        lines += [f"    transition never taken: {t}" for t in self.untaken_transitions]
        return "\n".join(lines)


def transitions_of(definition: dict[str, Any]) -> tuple[list[str], list[Transition]]:
    """The widgets and the wired transitions of a flow definition (JSON)."""
    widgets: list[str] = []
    out: list[Transition] = []
    for state in definition.get("states", []):
        if not isinstance(state, dict):
            continue
        name = str(state.get("name", ""))
        widgets.append(name)
        for t in state.get("transitions", []) or []:
            if isinstance(t, dict) and t.get("next"):
                tr = Transition(name, str(t.get("event", "")), str(t["next"]))
                if tr not in out:
                    out.append(tr)
    return widgets, out


def flow_coverage(
    flow: str, definition: dict[str, Any], taken: Iterable[tuple[str, str, str]]
) -> Coverage:
    """What of ``definition`` the steps ``taken`` (from, event, to) left out."""
    widgets, transitions = transitions_of(definition)
    seen = {Transition(a, e, b) for a, e, b in taken}
    reached = {t.next for t in seen} | {t.widget for t in seen}
    return Coverage(
        flow,
        widgets,
        transitions,
        [w for w in widgets if w not in reached],
        [t for t in transitions if t not in seen],
    )
