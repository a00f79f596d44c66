"""Transition and condition checks for :mod:`callboard.validation.definition`: each state's
``transitions`` (known, non-duplicate events; ``next`` naming an existing widget) and the
``conditions`` of Split Based On's repeatable ``match`` transitions (operators, arguments,
values)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callboard.contract.widget import Widget
from callboard.flow.conditions import OPERATORS, check_value
from callboard.validation.props import (
    REQUIRED,
    PropChecker,
    Sink,
    enumeration,
    pointer,
    show,
    type_message,
)

__all__ = [
    "CONDITION_KEYS",
    "DANGLING",
    "STUDIO_OPERATORS",
    "TRANSITION_KEYS",
    "TransitionChecker",
]

TRANSITION_KEYS = frozenset({"event", "next", "conditions"})
CONDITION_KEYS = ("friendly_name", "arguments", "type", "value")
DANGLING = "Transition references a widget that doesn't exist"

STUDIO_OPERATORS = (
    "equal_to", "not_equal_to", "matches_any_of", "does_not_match_any_of", "is_blank",
    "is_not_blank", "regex", "contains", "does_not_contain", "starts_with",
    "does_not_start_with", "less_than", "greater_than", "is_before_time", "is_after_time",
    "is_before_date", "is_after_date",
)  # fmt: skip
"""Split Based On's 17 operators, in Studio's order (:data:`callboard.flow.conditions.OPERATORS`
must list the same)."""


def _check_value(operator: str, value: str) -> str | None:
    try:
        return check_value(operator, value)
    except Exception:  # an unknown operator (reported separately) or a checker bug
        return None


class TransitionChecker:
    """Checks a state's transitions, reporting through ``error`` and ``warn``; Liquid in
    condition arguments and values goes through ``props``."""

    def __init__(self, error: Sink, warn: Sink, props: PropChecker) -> None:
        self.error = error
        self.warn = warn
        self.props = props
        self.operators = tuple(OPERATORS)

    def check(
        self, sp: str, transitions: Any, widget: Widget | None, names: dict[str, int]
    ) -> None:
        if not isinstance(transitions, list):
            self.error(f"{sp}/transitions", type_message(transitions, "array"))
            return
        events = [e.name for e in widget.events] if widget is not None else None
        repeatable = widget.repeatable_events if widget is not None else ()
        first: dict[str, int] = {}
        for j, t in enumerate(transitions):
            tp = f"{sp}/transitions/{j}"
            if not isinstance(t, Mapping):
                self.error(tp, type_message(t, "object"))
                continue
            event = t.get("event")
            if "event" not in t:
                self.error(f"{tp}/event", REQUIRED)
            elif not isinstance(event, str):
                self.error(f"{tp}/event", type_message(event, "string"))
            elif events is not None and event not in events and event not in repeatable:
                self.error(f"{tp}/event", enumeration(events))
            elif event not in repeatable:
                if event in first:
                    self.error(
                        f"{tp}/event",
                        f"duplicate transition for event {show(event)} "
                        f"(first at {sp}/transitions/{first[event]})",
                    )
                else:
                    first[event] = j
            self._next(tp, t, names)
            if isinstance(event, str) and event in repeatable:
                if "conditions" not in t:
                    self.error(f"{tp}/conditions", REQUIRED)
                else:
                    self._conditions(f"{tp}/conditions", t["conditions"])
            elif "conditions" in t and widget is not None:
                self.warn(f"{tp}/conditions", "conditions are ignored on this transition")
            for key in t:
                if key not in TRANSITION_KEYS:
                    self.warn(pointer(tp, key), "is not a transition key; kept but ignored")

    def _next(self, tp: str, t: Mapping[str, Any], names: dict[str, int]) -> None:
        if "next" not in t:
            return
        nxt = t["next"]
        if nxt is None:
            self.warn(f"{tp}/next", "null found, string expected; treated as not connected")
        elif not isinstance(nxt, str):
            self.error(f"{tp}/next", type_message(nxt, "string"))
        elif nxt != "" and nxt not in names:
            self.error(f"{tp}/next", DANGLING)

    def _conditions(self, cp: str, conditions: Any) -> None:
        if not isinstance(conditions, list):
            self.error(cp, type_message(conditions, "array"))
            return
        if not conditions:
            self.warn(cp, "a transition without conditions never matches")
        for k, cond in enumerate(conditions):
            path = f"{cp}/{k}"
            if not isinstance(cond, Mapping):
                self.error(path, type_message(cond, "object"))
                continue
            for key in CONDITION_KEYS:
                if key not in cond:
                    self.error(f"{path}/{key}", REQUIRED)
            name = cond.get("friendly_name")
            if "friendly_name" in cond and not isinstance(name, str):
                self.error(f"{path}/friendly_name", type_message(name, "string"))
            self._arguments(f"{path}/arguments", cond)
            operator = cond.get("type")
            if "type" in cond and not isinstance(operator, str):
                self.error(f"{path}/type", type_message(operator, "string"))
                operator = None
            elif isinstance(operator, str) and operator not in self.operators:
                self.error(f"{path}/type", enumeration(self.operators))
                operator = None
            value = cond.get("value")
            if "value" in cond and not isinstance(value, str):
                self.error(f"{path}/value", type_message(value, "string"))
            elif isinstance(value, str):
                self.props.liquid(f"{path}/value", value)
                problem = _check_value(operator, value) if operator else None
                if problem is not None:
                    self.warn(f"{path}/value", f"{problem}; the condition never matches")

    def _arguments(self, path: str, cond: Mapping[str, Any]) -> None:
        if "arguments" not in cond:
            return
        arguments = cond["arguments"]
        if not isinstance(arguments, list):
            self.error(path, type_message(arguments, "array"))
            return
        for a, argument in enumerate(arguments):
            if isinstance(argument, str):
                self.props.liquid(f"{path}/{a}", argument)
            else:
                self.error(f"{path}/{a}", type_message(argument, "string"))
