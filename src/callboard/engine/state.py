"""Execution state, steps and the result of one ``advance``.

All of it is plain JSON when serialised, so the runtime stores it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from callboard.contract.io import Effect
from callboard.contract.widget import WidgetCatalog
from callboard.flow.model import FlowDefinition

__all__ = [
    "MAX_CONSECUTIVE",
    "MAX_STEPS",
    "Advance",
    "Bundle",
    "ExecutionState",
    "FlowRef",
    "Frame",
    "StepRecord",
    "StepWarning",
    "Waiting",
    "copy_json",
]

MAX_STEPS = 1000  # steps per execution, subflow steps included (warning 81000)
MAX_CONSECUTIVE = 10  # runs of the same widget in a row (warning 81001)


@dataclass(frozen=True, slots=True)
class FlowRef:
    """One revision of one flow, as the runtime resolved it."""

    sid: str
    revision: int
    definition: FlowDefinition


@dataclass(frozen=True, slots=True)
class Bundle:
    """The flow to run, the subflows its Run Subflow widgets name (keyed by flow SID;
    the runtime picks the revision each widget asks for) and the widget types to run them
    with (``callboard.widgets.registry.WIDGETS``, or a catalog of test widgets). A
    missing subflow makes its Run Subflow widget take ``failed``."""

    main: FlowRef
    subflows: dict[str, FlowRef] = field(default_factory=dict)
    widgets: WidgetCatalog = field(kw_only=True)

    def flow(self, sid: str) -> FlowRef | None:
        if sid == self.main.sid:
            return self.main
        return self.subflows.get(sid)


@dataclass(frozen=True, slots=True)
class StepWarning:
    """A warning raised while running (Studio debugger code, e.g. 81002, 81018)."""

    code: int
    message: str
    widget: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "widget": self.widget}


@dataclass(slots=True)
class Waiting:
    """The widget the execution waits in, and for what."""

    widget: str
    token: str
    memo: dict[str, Any]
    timers: list[str]
    accepts_messages: bool
    since: str  # ISO time the widget was entered

    def to_json(self) -> dict[str, Any]:
        return {
            "widget": self.widget,
            "token": self.token,
            "memo": self.memo,
            "timers": self.timers,
            "accepts_messages": self.accepts_messages,
            "since": self.since,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Waiting:
        return cls(
            widget=d["widget"],
            token=d["token"],
            memo=d.get("memo") or {},
            timers=list(d.get("timers") or []),
            accepts_messages=bool(d.get("accepts_messages")),
            since=d.get("since", ""),
        )


@dataclass(slots=True)
class Frame:
    """One flow being run: the main flow (depth 0) or a subflow called by ``caller``."""

    flow_sid: str
    revision: int
    context: dict[str, Any]
    caller: str = ""  # the Run Subflow widget in the frame below
    # The SID of the Run Subflow step (reserved when the subflow starts, used when the
    # caller's step is recorded): every step the subflow runs carries it as its
    # ``parent_step_sid``, as Studio's Step resource does.
    caller_step: str = ""

    def to_json(self) -> dict[str, Any]:
        out = {
            "flow_sid": self.flow_sid,
            "revision": self.revision,
            "context": self.context,
            "caller": self.caller,
        }
        if self.caller_step:
            out["caller_step"] = self.caller_step
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Frame:
        return cls(
            flow_sid=d["flow_sid"],
            revision=int(d.get("revision", 0)),
            context=d["context"],
            caller=d.get("caller", ""),
            caller_step=d.get("caller_step", ""),
        )


@dataclass(slots=True)
class ExecutionState:
    status: Literal["active", "ended"]
    frames: list[Frame]
    step_count: int = 0
    last_widget: str = ""
    consecutive: int = 0
    waiting: Waiting | None = None
    ended_reason: str = ""
    seq: int = 0  # counter for tokens

    @property
    def context(self) -> dict[str, Any]:
        """The execution's context (the main flow's; Execution Context in the API)."""
        return self.frames[0].context

    @property
    def current(self) -> str | None:
        return self.waiting.widget if self.waiting else None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "frames": [f.to_json() for f in self.frames],
            "step_count": self.step_count,
            "last_widget": self.last_widget,
            "consecutive": self.consecutive,
            "waiting": self.waiting.to_json() if self.waiting else None,
            "ended_reason": self.ended_reason,
            "seq": self.seq,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ExecutionState:
        w = d.get("waiting")
        return cls(
            status=d["status"],
            frames=[Frame.from_json(f) for f in d["frames"]],
            step_count=int(d.get("step_count", 0)),
            last_widget=d.get("last_widget", ""),
            consecutive=int(d.get("consecutive", 0)),
            waiting=Waiting.from_json(w) if w else None,
            ended_reason=d.get("ended_reason", ""),
            seq=int(d.get("seq", 0)),
        )


@dataclass(slots=True)
class StepRecord:
    """One Step as Studio records it: widget ``transitioned_from`` finished with event
    ``name`` and went to ``transitioned_to`` (or ``"Ended"``). ``context`` is the
    context snapshot after the widget's variables were written."""

    sid: str
    name: str
    transitioned_from: str
    transitioned_to: str
    type: str
    context: dict[str, Any]
    date: datetime
    flow_sid: str
    warnings: list[StepWarning] = field(default_factory=list)
    parent_step_sid: str | None = None  # the Run Subflow step, for a subflow's steps

    def to_json(self) -> dict[str, Any]:
        return {
            "parent_step_sid": self.parent_step_sid,
            "sid": self.sid,
            "name": self.name,
            "transitioned_from": self.transitioned_from,
            "transitioned_to": self.transitioned_to,
            "type": self.type,
            "context": self.context,
            "date": self.date.isoformat(),
            "flow_sid": self.flow_sid,
            "warnings": [w.to_json() for w in self.warnings],
        }


@dataclass(slots=True)
class Advance:
    """What one call of :func:`callboard.engine.advance` produced."""

    state: ExecutionState
    steps: list[StepRecord]
    effects: list[Effect]
    warnings: list[StepWarning]  # every warning, including those attached to steps
    accepted: bool = True  # False: the event was ignored (81002) and nothing changed

    @property
    def ended(self) -> bool:
        return self.state.status == "ended"


_ATOMS = frozenset({str, int, float, bool, type(None)})


def copy_json(value: Any) -> Any:
    """Deep copy of a JSON-like value (much faster than copy.deepcopy).

    Hot path (a context snapshot per step): exact-type checks; a dict is copied whole
    (C speed) and only its containers are replaced by copies; leaves are copied without a
    call; dict/list subclasses take the generic branch.
    """
    t = type(value)
    if t is dict:
        out = value.copy()
        for k, v in out.items():
            if type(v) not in _ATOMS:
                out[k] = copy_json(v)  # an existing key: the dict does not change size
        return out
    if t is list:
        return [v if type(v) in _ATOMS else copy_json(v) for v in value]
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value
