"""The engine: ``advance(bundle, state, event, env) -> Advance``.

Pure: no I/O, no clock, no randomness of its own. Time and SIDs come from ``env``; I/O
leaves as effects (see :mod:`callboard.contract.io`) and comes back as events.

One call takes one event, runs widgets until the execution waits or ends, and returns
the new state, the steps recorded (one per widget finished), the effects to perform and
the warnings raised. An event the execution cannot take (a message while no widget
waits for one, a stale timer, anything after the end) is ignored: ``accepted`` is false
and the state is returned unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callboard.contract.io import (
    CancelTimer,
    EndExecution,
    Event,
    InboundMessage,
    Start,
    StartTimer,
)
from callboard.contract.widget import Done, EnterSubflow, Outcome, Wait, Widget
from callboard.engine.context import ENDED, initial_context
from callboard.engine.env import Env
from callboard.engine.state import (
    MAX_CONSECUTIVE,
    MAX_STEPS,
    Advance,
    Bundle,
    ExecutionState,
    FlowRef,
    Frame,
    StepRecord,
    StepWarning,
    Waiting,
    copy_json,
)
from callboard.engine.widget_run import WidgetRun
from callboard.flow.liquid import TemplateError, render_template
from callboard.flow.model import State

__all__ = ["ENDED", "Env", "advance", "initial_context"]


def advance(bundle: Bundle, state: ExecutionState | None, event: Event, env: Env) -> Advance:
    """Apply one event to an execution. ``state`` is None only for :class:`Start`."""
    return _Machine(bundle, env).run(state, event)


class _Machine:
    def __init__(self, bundle: Bundle, env: Env) -> None:
        self.bundle = bundle
        self.widgets = bundle.widgets
        self.env = env
        self.now = env.now()
        self.steps: list[StepRecord] = []
        self.effects: list[Any] = []
        self.warnings: list[StepWarning] = []
        self.step_warnings: list[StepWarning] = []
        self.st: ExecutionState = ExecutionState(status="active", frames=[])
        # the trigger event the next widget entered sees (Trigger widgets only)
        self.next_trigger = ""
        self.reserved_step = ""  # the SID the next recorded step takes (a Run Subflow's)
        # the Liquid cache of the flow last rendered in (flow SID, its revision's caches)
        self.caches_of: tuple[str, dict[str, Any] | None] = ("", None)

    # ------------------------------------------------------------------ helpers
    @property
    def frame(self) -> Frame:
        return self.st.frames[-1]

    def flow(self) -> FlowRef | None:
        return self.bundle.flow(self.st.frames[-1].flow_sid)

    def new_token(self) -> str:
        self.st.seq += 1
        return f"t{self.st.seq}"

    def warn(self, code: int, message: str, widget: str = "") -> None:
        w = StepWarning(code, message, widget)
        self.warnings.append(w)
        self.step_warnings.append(w)

    def render(self, template: str, context: Mapping[str, Any], where: str) -> str:
        if "{" not in template:
            return template
        sid = self.st.frames[-1].flow_sid
        if self.caches_of[0] != sid or not sid:
            ref = self.bundle.flow(sid)
            self.caches_of = (sid, ref.definition.caches if ref is not None else None)
        cache = self.caches_of[1]
        try:
            return render_template(template, context, now=self.now, cache=cache)
        except TemplateError as exc:
            self.warn(81018, f"Liquid error in {where}: {exc}", where.split(".", 1)[0])
            return ""

    def result(self, accepted: bool = True) -> Advance:
        return Advance(self.st, self.steps, self.effects, self.warnings, accepted)

    def ignored(self, state: ExecutionState, warning: StepWarning | None = None) -> Advance:
        return Advance(state, [], [], [warning] if warning else [], accepted=False)

    # ------------------------------------------------------------------ entry
    def run(self, state: ExecutionState | None, event: Event) -> Advance:
        if isinstance(event, Start):
            if state is not None:
                return self.ignored(state, StepWarning(81002, "Execution already started"))
            return self.start(event)
        if state is None:
            raise ValueError("advance() needs a state for every event but Start")
        if state.status == "ended":
            return self.ignored(
                state, StepWarning(81002, f"Unexpected event {event.kind}: the execution has ended")
            )
        if isinstance(event, EndExecution):
            self.st = state
            self.end(event.reason)
            return self.result()
        waiting = state.waiting
        if waiting is None:
            return self.ignored(state, StepWarning(81002, f"Unexpected event {event.kind} ignored"))
        if isinstance(event, InboundMessage):
            if not waiting.accepts_messages:
                return self.ignored(
                    state,
                    StepWarning(
                        81002,
                        f"Unexpected event incomingMessage ignored: widget {waiting.widget} "
                        "is not waiting for a reply",
                        waiting.widget,
                    ),
                )
        elif getattr(event, "token", None) != waiting.token:
            return self.ignored(state)  # stale or repeated: silently ignored
        self.st = state
        ref = self.flow()
        node = ref.definition.state(waiting.widget) if ref else None
        widget = self.widgets.get(node.type) if node else None
        if node is None or widget is None:
            self.end("failed")
            return self.result()
        run = WidgetRun(self, widget, node, copy_json(waiting.memo))
        outcome = widget.resume(run, event)
        if outcome is None:
            self.warnings.clear()
            return self.ignored(
                state,
                StepWarning(81002, f"Unexpected event {event.kind} ignored", waiting.widget),
            )
        self.leave_wait(outcome)
        self.enter(self.handle(node, widget, outcome))
        return self.result()

    def start(self, event: Start) -> Advance:
        main = self.bundle.main
        self.st = ExecutionState(
            status="active",
            frames=[Frame(main.sid, main.revision, initial_context(event))],
        )
        self.enter(main.definition.initial_state, trigger=event.trigger)
        return self.result()

    # ------------------------------------------------------------------ running
    def enter(self, name: str | None, trigger: str = "") -> None:
        """Run widgets from ``name`` until the execution waits or ends.

        A loop, not a recursion: entering a subflow pushes a frame and returns its
        first widget, so a flow that runs a subflow again and again (up to the step
        limit) does not grow the Python stack."""
        if trigger:
            self.next_trigger = trigger
        while name is not None:
            ref = self.flow()
            node = ref.definition.state(name) if ref else None
            if node is None:
                self.warn(81022, f"Transition to widget {name!r}, which does not exist")
                self.end("failed")
                return
            widget = self.widgets.get(node.type)
            if widget is None or not widget.runnable:
                self.warn(81020, f"Widget type {node.type!r} is not supported", name)
                self.end("failed")
                return
            if self.st.step_count >= MAX_STEPS:
                self.warn(81000, f"Execution reached the limit of {MAX_STEPS} steps", name)
                self.end("step_limit")
                return
            key = f"{len(self.st.frames)}:{name}"
            self.st.consecutive = self.st.consecutive + 1 if self.st.last_widget == key else 1
            self.st.last_widget = key
            if self.st.consecutive > MAX_CONSECUTIVE:
                self.warn(
                    81001,
                    f"Widget {name} ran {MAX_CONSECUTIVE} times in a row: "
                    "single widget looping back on itself",
                    name,
                )
                self.end("loop_limit")
                return
            self.step_warnings = []
            memo: dict[str, Any] = {"trigger": self.next_trigger} if self.next_trigger else {}
            self.next_trigger = ""
            outcome = widget.start(WidgetRun(self, widget, node, memo))
            name = self.handle(node, widget, outcome)

    def handle(self, node: State, widget: Widget, outcome: Outcome) -> str | None:
        """Apply a widget's outcome; returns the next widget to run, if any."""
        if isinstance(outcome, Wait):
            timers = [e.token for e in outcome.effects if isinstance(e, StartTimer)]
            self.effects.extend(outcome.effects)
            self.st.waiting = Waiting(
                widget=node.name,
                token=outcome.token,
                memo=outcome.memo,
                timers=timers,
                accepts_messages=outcome.accepts_messages,
                since=self.now.isoformat(),
            )
            return None
        if isinstance(outcome, EnterSubflow):
            return self.enter_subflow(node, outcome)
        ctx = self.frame.context
        if outcome.variables is not None:
            ctx["widgets"][node.name] = outcome.variables
        if outcome.flow_variables:
            ctx["flow"]["variables"].update(outcome.flow_variables)
        if outcome.channel:
            ctx["flow"]["channel"].update(outcome.channel)
        self.effects.extend(outcome.effects)
        i = outcome.transition_index
        if (
            i is not None
            and 0 <= i < len(node.transitions)
            and node.transitions[i].event == outcome.event
        ):
            nxt = node.transitions[i].next
        else:
            nxt = node.next_for(outcome.event)
        self.record(node, outcome.event, nxt)
        if nxt is None:
            return self.finish_frame()
        return nxt

    def leave_wait(self, outcome: Outcome) -> None:
        waiting = self.st.waiting
        if waiting is None:
            return
        keep: set[str] = set()
        if isinstance(outcome, Wait):
            keep = {e.token for e in outcome.effects if isinstance(e, StartTimer)}
        for token in waiting.timers:
            if token not in keep:
                self.effects.append(CancelTimer(token))
        self.st.waiting = None

    def record(self, node: State, event: str, nxt: str | None) -> None:
        self.st.step_count += 1
        sid, self.reserved_step = self.reserved_step or self.env.sid("FT"), ""
        frame = self.frame
        self.steps.append(
            StepRecord(
                sid=sid,
                name=event,
                transitioned_from=node.name,
                transitioned_to=nxt if nxt is not None else ENDED,
                type=node.type,
                context=copy_json(frame.context),
                date=self.now,
                flow_sid=frame.flow_sid,
                warnings=self.step_warnings,
                parent_step_sid=frame.caller_step or None,
            )
        )
        self.step_warnings = []

    # ------------------------------------------------------------------ subflows
    def enter_subflow(self, node: State, outcome: EnterSubflow) -> str | None:
        ref = self.bundle.subflows.get(outcome.flow_sid)
        if len(self.st.frames) > 1:
            self.warn(81024, "Subflows cannot run other subflows (nesting depth is 1)", node.name)
            return self.handle(node, self.widget_of(node), Done("failed", variables={}))
        if ref is None:
            self.warn(81024, f"Subflow {outcome.flow_sid} has no revision to run", node.name)
            return self.handle(node, self.widget_of(node), Done("failed", variables={}))
        parent = self.frame.context
        trigger = copy_json(parent["trigger"])
        trigger["parent"] = {
            "parameters": outcome.parameters,
            "flow_sid": self.frame.flow_sid,
            "execution_sid": parent["flow"]["sid"],
        }
        context = {
            "contact": copy_json(parent["contact"]),
            "trigger": trigger,
            "widgets": {},
            "flow": {
                "flow_sid": ref.sid,
                "sid": parent["flow"]["sid"],
                "channel": copy_json(parent["flow"]["channel"]),
                "data": copy_json(parent["flow"].get("data", {})),
                "variables": {},
            },
        }
        step_sid = self.env.sid("FT")  # the Run Subflow step's, recorded when it returns
        self.st.frames.append(
            Frame(ref.sid, ref.revision, context, caller=node.name, caller_step=step_sid)
        )
        self.next_trigger = "incomingParent"
        return ref.definition.initial_state

    def finish_frame(self) -> str | None:
        """A transition without ``next``: the subflow returns, or the execution ends."""
        if len(self.st.frames) == 1:
            self.end("completed")
            return None
        sub = self.st.frames.pop()
        ref = self.flow()
        caller = ref.definition.state(sub.caller) if ref else None
        if caller is None:
            self.end("failed")
            return None
        out = copy_json(sub.context["flow"]["variables"])
        self.step_warnings = []
        if self.st.step_count >= MAX_STEPS:  # the subflow used up the shared budget
            self.warn(81000, f"Execution reached the limit of {MAX_STEPS} steps", caller.name)
            self.end("step_limit")
            return None
        self.reserved_step = sub.caller_step  # the Run Subflow step gets the reserved SID
        return self.handle(caller, self.widget_of(caller), Done("completed", variables=out))

    def end(self, reason: str) -> None:
        waiting = self.st.waiting
        if waiting is not None:
            self.effects.extend(CancelTimer(t) for t in waiting.timers)
        self.st.waiting = None
        self.st.status = "ended"
        self.st.ended_reason = reason
        del self.st.frames[1:]

    def widget_of(self, node: State) -> Widget:
        """The widget of a state already run (its type was found when it started)."""
        widget = self.widgets.get(node.type)
        assert widget is not None
        return widget
