"""Validation of Studio Flow Definition JSON, the way Studio's Validate endpoint does it.

:func:`validate` returns every error at once as :class:`Problem` entries
(``property_path`` in Studio's ``#/states/3/properties/timeout`` style, ``message`` in
the wording of Studio's JSON-schema validator where Studio's wording is known);
:func:`validate_flow` returns errors and warnings separately. Neither ever raises on a
JSON value, however hostile: deeply nested, huge, or of the wrong type anywhere.

Errors are what Studio refuses with 81022 (wrong JSON types, missing required keys,
unknown widget types and events, transitions to widgets that don't exist, ...);
warnings are what Studio accepts but what will misbehave at run time (broken Liquid,
which Studio only reports as warning 81018 when the field renders; an invalid regex in a
split; widgets no transition reaches). The full rule list and the decisions taken where
Studio's behaviour is not documented are in ``docs/validation.md``.

Property checks are driven by each widget module's declared ``props`` (see
:class:`callboard.contract.widget.Prop`); widget-specific rules come from
``Widget.extra_checks``. The widget types are those of the catalog passed in
(``callboard.widgets.registry.WIDGETS`` unless told otherwise). Unknown properties are
not problems: they are kept for export.
This module checks the top level and each state; transitions and Split Based On's
conditions are checked by :mod:`callboard.validation.transitions`, property values by
:mod:`callboard.validation.props`.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from callboard.contract.widget import Widget, WidgetCatalog
from callboard.validation.props import (
    REQUIRED,
    PropChecker,
    enumeration,
    has_liquid,
    pointer,
    show,
    type_message,
)
from callboard.validation.transitions import STUDIO_OPERATORS, TransitionChecker
from callboard.widgets.registry import WIDGETS

__all__ = [
    "MAX_STATES",
    "SCHEMA_URL",
    "STUDIO_OPERATORS",
    "STUDIO_TYPES",
    "Problem",
    "ValidationReport",
    "validate",
    "validate_flow",
]

SCHEMA_URL = "https://schemas.twilio.com/studio/draft/2019-09/flow-definition"
MAX_STATES = 1000
STATE_KEYS = ("name", "type", "transitions", "properties")
TOP_LEVEL_KEYS = frozenset({"description", "states", "initial_state", "flags", "$schema"})
NAME_RULE = "^[A-Za-z][A-Za-z0-9_-]*$"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_FLOW_SID = re.compile(r"FW[0-9a-fA-F]{32}")

STUDIO_TYPES = (
    "add-member-to-chat-channel", "add-twiml-redirect", "capture-payments", "connect-call-to",
    "connect-virtual-agent", "connect-virtual-agent-v2", "create-chat-channel", "create-task",
    "enqueue-call", "fork-stream", "gather-input-on-call", "make-http-request",
    "make-outgoing-call-v1", "make-outgoing-call-v2", "record-call", "record-voicemail",
    "resume-conversation", "run-conversation-relay", "run-function", "run-function-v2",
    "run-subflow", "say-play", "send-and-wait-for-reply", "send-message", "send-to-auto-pilot",
    "send-to-flex", "set-variables", "split-based-on", "start-conversation", "trigger",
    "understand", "update-sync-object",
)  # fmt: skip
"""Widget types Studio knows (its schema's list plus newer widgets): a type here that
Callboard has no module for is "not supported"; any other is not a widget type at all."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation finding, as Studio reports it in 81022's ``details``."""

    property_path: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"property_path": self.property_path, "message": self.message}

    def __str__(self) -> str:
        return f"{self.property_path}: {self.message}"


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Errors (the flow is invalid) and warnings (valid, but suspicious)."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "errors": [p.to_json() for p in self.errors],
            "warnings": [p.to_json() for p in self.warnings],
        }


def validate(data: Any, widgets: WidgetCatalog = WIDGETS) -> list[Problem]:
    """Every error in a decoded flow definition (empty when it is valid)."""
    return validate_flow(data, widgets).errors


def validate_flow(data: Any, widgets: WidgetCatalog = WIDGETS) -> ValidationReport:
    """Errors and warnings of a decoded flow definition, checked against ``widgets``."""
    v = _Validator(widgets)
    v.flow(data)
    return ValidationReport(errors=v.errors, warnings=v.warnings)


class _Validator:
    def __init__(self, widgets: WidgetCatalog) -> None:
        self.widgets = widgets
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self._seen: set[tuple[bool, str, str]] = set()
        self.props = PropChecker(self.error, self.warn, {})
        self.transitions = TransitionChecker(self.error, self.warn, self.props)

    def error(self, path: str, message: str) -> None:
        if (True, path, message) not in self._seen:
            self._seen.add((True, path, message))
            self.errors.append(Problem(path, message))

    def warn(self, path: str, message: str) -> None:
        if (False, path, message) not in self._seen:
            self._seen.add((False, path, message))
            self.warnings.append(Problem(path, message))

    # ------------------------------------------------------------------ top level

    def flow(self, data: Any) -> None:
        if not isinstance(data, Mapping):
            self.error("#", type_message(data, "object"))
            return
        states = data.get("states")
        names: dict[str, int] = {}
        if "states" not in data:
            self.error("#/states", REQUIRED)
        elif not isinstance(states, list):
            self.error("#/states", type_message(states, "array"))
            states = None
        elif not states:
            self.error("#/states", "there must be a minimum of 1 items in the array")
        elif len(states) > MAX_STATES:
            self.error("#/states", f"there must be a maximum of {MAX_STATES} items in the array")
        if isinstance(states, list):
            names = self._names(states)
        self._initial_state(data, names, states)
        self._flags(data)
        if "description" in data and not isinstance(data["description"], str):
            self.error("#/description", type_message(data["description"], "string"))
        if "$schema" in data and data["$schema"] != SCHEMA_URL:
            self.error("#/$schema", f"must be a constant value {SCHEMA_URL}")
        for key in data:
            if key not in TOP_LEVEL_KEYS:
                self.warn(pointer("#", key), "is not a flow definition key; kept but ignored")
        if isinstance(states, list):
            for i, state in enumerate(states):
                self.state(i, state, names)
            self._reachability(data, states, names)

    def _names(self, states: list[Any]) -> dict[str, int]:
        names: dict[str, int] = {}
        for i, state in enumerate(states):
            name = state.get("name") if isinstance(state, Mapping) else None
            if not isinstance(name, str):
                continue
            path = f"#/states/{i}/name"
            if name in names:
                self.error(
                    path, f"Widget name {show(name)} is not unique (also #/states/{names[name]})"
                )
                continue
            names[name] = i
            if name == "":
                self.error(path, "must be at least 1 characters long")
            elif not _NAME.fullmatch(name):
                self.error(
                    path,
                    f"does not match the regex pattern {NAME_RULE} (a widget name starts "
                    "with a letter and has only letters, digits, _ and -)",
                )
        return names

    def _initial_state(self, data: Mapping[str, Any], names: dict[str, int], states: Any) -> None:
        initial = data.get("initial_state")
        if "initial_state" not in data:
            self.error("#/initial_state", REQUIRED)
        elif not isinstance(initial, str):
            self.error("#/initial_state", type_message(initial, "string"))
        elif initial == "":
            self.error("#/initial_state", "must be at least 1 characters long")
        elif isinstance(states, list) and initial not in names:
            self.error("#/initial_state", "Initial state references a widget that doesn't exist")
        elif isinstance(states, list):
            state = states[names[initial]]
            if isinstance(state, Mapping) and state.get("type") != "trigger":
                self.warn(
                    "#/initial_state",
                    "is not a trigger widget; executions start there with the trigger's event",
                )

    def _flags(self, data: Mapping[str, Any]) -> None:
        if "flags" not in data:
            return
        flags = data["flags"]
        if not isinstance(flags, Mapping):
            self.error("#/flags", type_message(flags, "object"))
        elif "allow_concurrent_calls" not in flags:
            self.error("#/flags/allow_concurrent_calls", REQUIRED)
        elif not isinstance(flags["allow_concurrent_calls"], bool):
            value = flags["allow_concurrent_calls"]
            self.error("#/flags/allow_concurrent_calls", type_message(value, "boolean"))

    def _reachability(
        self, data: Mapping[str, Any], states: list[Any], names: dict[str, int]
    ) -> None:
        initial = data.get("initial_state")
        if not isinstance(initial, str) or initial not in names:
            return
        seen = {names[initial]}
        queue = deque(seen)
        while queue:
            state = states[queue.popleft()]
            transitions = state.get("transitions") if isinstance(state, Mapping) else None
            if not isinstance(transitions, list):
                continue
            for t in transitions:
                nxt = t.get("next") if isinstance(t, Mapping) else None
                if isinstance(nxt, str) and nxt in names and names[nxt] not in seen:
                    seen.add(names[nxt])
                    queue.append(names[nxt])
        for i, state in enumerate(states):
            if i not in seen and isinstance(state, Mapping):
                self.warn(f"#/states/{i}", "no transition leads to this widget")

    # ------------------------------------------------------------------ states

    def state(self, i: int, state: Any, names: dict[str, int]) -> None:
        sp = f"#/states/{i}"
        if not isinstance(state, Mapping):
            self.error(sp, type_message(state, "object"))
            return
        for key in STATE_KEYS:
            if key not in state:
                self.error(pointer(sp, key), REQUIRED)
        for key in state:
            if key not in STATE_KEYS:
                self.error(
                    pointer(sp, key),
                    "is not defined in the schema and the schema does not allow additional "
                    "properties",
                )
        name = state.get("name")
        if "name" in state and not isinstance(name, str):
            self.error(f"{sp}/name", type_message(name, "string"))
        widget = self._type(sp, state)
        properties = state.get("properties")
        if "properties" in state and not isinstance(properties, Mapping):
            self.error(f"{sp}/properties", type_message(properties, "object"))
            properties = None
        if widget is not None and isinstance(properties, Mapping):
            self._properties(sp, widget, properties)
        if "transitions" in state:
            self.transitions.check(sp, state["transitions"], widget, names)

    def _type(self, sp: str, state: Mapping[str, Any]) -> Widget | None:
        if "type" not in state:
            return None
        wtype = state["type"]
        if not isinstance(wtype, str):
            self.error(f"{sp}/type", type_message(wtype, "string"))
            return None
        widget = self.widgets.get(wtype)
        if widget is None:
            if wtype in STUDIO_TYPES:
                self.error(f"{sp}/type", f"widget type {show(wtype)} is not supported by Callboard")
            else:
                self.error(
                    f"{sp}/type", enumeration(sorted(w.type for w in self.widgets.all_widgets()))
                )
        return widget

    def _properties(self, sp: str, widget: Widget, properties: Mapping[str, Any]) -> None:
        pp = f"{sp}/properties"
        for prop in widget.props:
            if prop.name not in properties:
                if prop.required:
                    self.error(pointer(pp, prop.name), REQUIRED)
                continue
            self.props.check(pointer(pp, prop.name), prop, properties[prop.name])
        if widget.type == "run-subflow":
            self._flow_sid(pp, properties)
        try:
            extra = widget.extra_checks(properties)
        except Exception as exc:  # a widget bug must not hide the other problems
            self.warn(pp, f"the {widget.type} widget's own checks failed: {type(exc).__name__}")
            return
        for rel, message in extra:
            rel = str(rel)
            path = rel if rel.startswith("#") else f"{sp}/{rel.lstrip('/')}"
            self.error(path, str(message))

    def _flow_sid(self, pp: str, properties: Mapping[str, Any]) -> None:
        sid = properties.get("flow_sid")
        if isinstance(sid, str) and (has_liquid(sid) or not _FLOW_SID.fullmatch(sid.strip())):
            self.error(f"{pp}/flow_sid", "must be a valid, non-liquid flow sid")
