"""The Flow Definition model: what Studio exports, parsed for the engine.

A :class:`FlowDefinition` keeps the exact JSON value it was built from (``raw``), so
exporting a flow gives back the same JSON value, unknown widget types, unknown properties
and canvas offsets included. The typed view (states, transitions, conditions) is what the
engine reads. Parsing is lenient about *content* (the validator reports content problems,
see :mod:`callboard.validation.definition`) and only refuses values it cannot read at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Condition",
    "FlowDefinition",
    "FlowFormatError",
    "State",
    "Transition",
    "load_flow",
    "parse_flow_text",
]

MAX_DEFINITION_BYTES = 5 * 1024 * 1024


class FlowFormatError(ValueError):
    """A definition that cannot be read at all (not JSON, not an object, ...).

    ``path`` is a JSON pointer in Studio's ``#/states/3/...`` style.
    """

    def __init__(self, message: str, path: str = "#") -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True, slots=True)
class Condition:
    friendly_name: str
    arguments: tuple[str, ...]
    type: str
    value: str


@dataclass(frozen=True, slots=True)
class Transition:
    event: str
    next: str | None
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True, slots=True)
class State:
    name: str
    type: str
    index: int
    transitions: tuple[Transition, ...]
    properties: Mapping[str, Any]

    def transition(self, event: str) -> Transition | None:
        """The first transition for ``event``; None when the widget has none (same as unwired)."""
        for t in self.transitions:
            if t.event == event:
                return t
        return None

    def next_for(self, event: str) -> str | None:
        t = self.transition(event)
        return t.next if t is not None else None


@dataclass(eq=False)
class FlowDefinition:
    """A parsed flow definition. One instance per flow revision; it also owns that
    revision's caches (compiled Liquid templates), so keep instances around."""

    raw: dict[str, Any]
    description: str
    initial_state: str
    flags: Mapping[str, Any]
    states: tuple[State, ...]
    by_name: dict[str, State]
    caches: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def allow_concurrent_calls(self) -> bool:
        value = self.flags.get("allow_concurrent_calls", True)
        return bool(value)

    def state(self, name: str) -> State | None:
        return self.by_name.get(name)

    def to_json(self) -> dict[str, Any]:
        """The definition as exported: a deep copy of the JSON value it was read from."""
        copied: dict[str, Any] = json.loads(json.dumps(self.raw))
        return copied

    @classmethod
    def from_json(cls, data: Any) -> FlowDefinition:
        """Build the model from a decoded JSON value (raises :class:`FlowFormatError`)."""
        if not isinstance(data, dict):
            raise FlowFormatError(f"a flow definition is a JSON object, found {_kind(data)}")
        states_raw = data.get("states")
        if not isinstance(states_raw, list):
            raise FlowFormatError(
                "'states' is required and must be an array of widgets", "#/states"
            )
        states: list[State] = []
        by_name: dict[str, State] = {}
        for i, s in enumerate(states_raw):
            if not isinstance(s, dict):
                raise FlowFormatError(
                    f"a widget is a JSON object, found {_kind(s)}", f"#/states/{i}"
                )
            state = _parse_state(s, i)
            states.append(state)
            by_name.setdefault(state.name, state)
        initial = data.get("initial_state")
        flags = data.get("flags")
        description = data.get("description")
        return cls(
            raw=data,
            description=description if isinstance(description, str) else "",
            initial_state=initial if isinstance(initial, str) else "",
            flags=flags if isinstance(flags, dict) else {},
            states=tuple(states),
            by_name=by_name,
        )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _parse_state(s: dict[str, Any], i: int) -> State:
    name = s.get("name")
    wtype = s.get("type")
    props = s.get("properties")
    transitions: list[Transition] = []
    raw_transitions = s.get("transitions")
    if isinstance(raw_transitions, list):
        for t in raw_transitions:
            if not isinstance(t, dict):
                continue
            event = t.get("event")
            nxt = t.get("next")
            conds: list[Condition] = []
            raw_conds = t.get("conditions")
            if isinstance(raw_conds, list):
                for c in raw_conds:
                    if isinstance(c, dict):
                        args = c.get("arguments")
                        conds.append(
                            Condition(
                                friendly_name=str(c.get("friendly_name") or ""),
                                arguments=tuple(_as_text(a) for a in args)
                                if isinstance(args, list)
                                else (),
                                type=str(c.get("type") or ""),
                                value=_as_text(c.get("value")),
                            )
                        )
            transitions.append(
                Transition(
                    event=event if isinstance(event, str) else "",
                    next=nxt if isinstance(nxt, str) and nxt != "" else None,
                    conditions=tuple(conds),
                )
            )
    return State(
        name=name if isinstance(name, str) else f"#{i}",
        type=wtype if isinstance(wtype, str) else "",
        index=i,
        transitions=tuple(transitions),
        properties=props if isinstance(props, dict) else {},
    )


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        try:
            return json.dumps(value)
        except (RecursionError, ValueError, TypeError):  # hostile nesting, non-JSON keys
            return ""
    return str(value)


def parse_flow_text(text: str | bytes, source: str = "definition") -> Any:
    """Decode JSON text, turning decode errors into a message that names the place."""
    if len(text) > MAX_DEFINITION_BYTES:
        raise FlowFormatError(
            f"{source} is {len(text)} bytes; the limit is {MAX_DEFINITION_BYTES} bytes"
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FlowFormatError(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except UnicodeDecodeError:
        raise FlowFormatError(f"{source} is not UTF-8 text") from None
    except RecursionError:
        raise FlowFormatError(f"{source} is not valid JSON: nested too deeply") from None


def load_flow(text: str | bytes, source: str = "definition") -> FlowDefinition:
    """Parse JSON text into a :class:`FlowDefinition`."""
    return FlowDefinition.from_json(parse_flow_text(text, source))
