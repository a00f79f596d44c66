"""Running one test: its steps against a :class:`Driver`, expectations checked in order.

The driver plays the contact and reports what the flow did; this module knows nothing
of databases or HTTP. Each ``expect*`` step takes the next output of its kind not yet
taken (messages for ``expect``, ``<Say>`` for ``expect_say``, ``<Dial>`` for
``expect_dial``); messages or ``<Say>`` left over when the test ends fail it unless the
test sets ``allow_extra``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from callboard.flowtest.expect import MISSING, lookup, matches, same_value
from callboard.flowtest.model import FlowTest, Step, TestFile, Where

__all__ = ["Driver", "DriverError", "Failure", "Output", "TestResult", "run_test"]

EXPECT_KIND = {"expect": "message", "expect_say": "say", "expect_dial": "dial"}
NOUN = {"message": "message", "say": "<Say>", "dial": "<Dial>"}


class DriverError(Exception):
    """The driver could not do what a step asked (e.g. ``press`` with no call)."""


@dataclass(frozen=True, slots=True)
class Output:
    kind: str  # message | say | dial
    text: str


class Driver(Protocol):
    """One test's conversation with a flow (see :mod:`callboard.flowtest.driver`)."""

    def start(self, test: FlowTest) -> None: ...
    def send(self, text: str) -> None: ...
    def press(self, digits: str) -> None: ...
    def speak(self, speech: str) -> None: ...
    def hangup(self) -> None: ...
    def wait(self, seconds: float) -> None: ...
    def outputs(self) -> list[Output]: ...
    def context(self) -> dict[str, Any]: ...
    def ended(self) -> bool: ...
    def steps(self) -> list[tuple[str, str, str, dict[str, Any]]]: ...
    def notes(self) -> list[str]: ...
    def close(self) -> None: ...


@dataclass(slots=True)
class Failure:
    message: str
    where: str
    expected: str = ""
    got: str = ""
    path: list[str] = field(default_factory=list)
    contexts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"{self.where}: {self.message}"]
        if self.expected or self.got:
            lines += [f"    expected: {self.expected}", f"    got:      {self.got}"]
        if self.path:
            lines.append(f"    path so far: {' -> '.join(self.path)}")
        for widget, ctx in self.contexts:
            lines.append(f"    context of {widget}: {_short(ctx)}")
        lines += [f"    note: {note}" for note in self.notes]
        return "\n".join(lines)


@dataclass(slots=True)
class TestResult:
    __test__ = False

    file: str
    name: str
    status: str  # passed | failed | error
    failure: Failure | None = None
    seconds: float = 0.0
    taken: list[tuple[str, str, str]] = field(default_factory=list)  # (from, event, to)
    visited: list[str] = field(default_factory=list)


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Check:
    def __init__(self, driver: Driver, test: FlowTest) -> None:
        self.driver = driver
        self.test = test
        self.taken: dict[str, int] = {"message": 0, "say": 0, "dial": 0}

    def pending(self, kind: str) -> list[Output]:
        return [o for o in self.driver.outputs() if o.kind == kind][self.taken[kind] :]

    def fail(self, where: Where | str, message: str, expected: str = "", got: str = "") -> Failure:
        steps = self.driver.steps()
        path = path_of(steps)
        known = [(frm, _widget_context(frm, ctx)) for frm, _, _, ctx in steps if ctx]
        contexts = [(widget, c) for widget, c in known if c][-2:]
        return Failure(message, str(where), expected, got, path, contexts, self.driver.notes())

    def step(self, step: Step) -> Failure | None:
        d, kind, value = self.driver, step.kind, step.value
        if kind == "send":
            d.send(value)
        elif kind == "press":
            d.press(value)
        elif kind == "speak":
            d.speak(value)
        elif kind == "hangup":
            if value:
                d.hangup()
        elif kind == "wait":
            d.wait(float(value))
        elif kind in EXPECT_KIND:
            return self.expect(step, EXPECT_KIND[kind])
        elif kind == "expect_variables":
            return self.variables(step)
        elif kind == "expect_path":
            got = path_of(d.steps())
            if got[: len(value)] != value:
                return self.fail(
                    step.where, "the path differs", " -> ".join(value), " -> ".join(got)
                )
        elif kind == "expect_end" and d.ended() != value:
            state = "ended" if d.ended() else "still waiting"
            want = "ended" if value else "still waiting"
            return self.fail(step.where, "the execution's state differs", want, state)
        return None

    def expect(self, step: Step, kind: str) -> Failure | None:
        pending = self.pending(kind)
        if not pending:
            said = [o for o in self.driver.outputs() if o.kind == kind]
            last = f" (the last one was {said[-1].text!r})" if said else ""
            return self.fail(
                step.where,
                f"no {NOUN[kind]} came{last}",
                repr(step.value),
                f"nothing more{' (the execution has ended)' if self.driver.ended() else ''}",
            )
        self.taken[kind] += 1
        if not matches(step.value, pending[0].text):
            return self.fail(
                step.where,
                f"the next {NOUN[kind]} differs",
                repr(step.value),
                repr(pending[0].text),
            )
        return None

    def variables(self, step: Step) -> Failure | None:
        ctx = self.driver.context()
        for path, want in step.value.items():
            got = lookup(ctx, str(path))
            if got is MISSING:
                return self.fail(step.where, f"{path} is not set", _short(want), "(missing)")
            if not same_value(want, got):
                return self.fail(step.where, f"{path} differs", _short(want), _short(got))
        return None

    def leftovers(self) -> Failure | None:
        if self.test.allow_extra:
            return None
        for kind in ("message", "say"):
            extra = self.pending(kind)
            if extra:
                return self.fail(
                    self.test.where,
                    f"{len(extra)} {NOUN[kind]} not expected by any step "
                    "(add an expect step, or allow_extra: true)",
                    "nothing more",
                    repr(extra[0].text),
                )
        return None


def _widget_context(widget: str, ctx: dict[str, Any]) -> dict[str, Any]:
    """What a step's context says about its widget (else the flow variables)."""
    widgets = ctx.get("widgets")
    if isinstance(widgets, dict) and isinstance(widgets.get(widget), dict):
        return dict(widgets[widget])
    flow = ctx.get("flow")
    variables = flow.get("variables") if isinstance(flow, dict) else None
    return {"flow.variables": variables} if variables else {}


def path_of(steps: list[tuple[str, str, str, dict[str, Any]]]) -> list[str]:
    """Widgets visited, in order, starting with the first step's source (Trigger)."""
    path = [steps[0][0]] if steps else []
    path += [to for _, _, to, _ in steps if to and to != "Ended"]
    return path


def run_test(file: TestFile, test: FlowTest, driver: Driver) -> TestResult:
    """Run ``test`` with ``driver`` (closed afterwards) and say how it went."""
    began = time.monotonic()
    check = _Check(driver, test)
    result = TestResult(file.path, test.name, "passed")
    try:
        driver.start(test)
        failure: Failure | None = None
        for step in test.steps:
            try:
                failure = check.step(step)
            except DriverError as exc:
                failure = check.fail(step.where, str(exc))
            if failure is not None:
                break
        result.failure = failure or check.leftovers()
        steps = driver.steps()
        result.taken = [(a, e, b) for a, e, b, _ in steps]
        result.visited = path_of(steps)
    except DriverError as exc:
        result.failure = Failure(str(exc), str(test.where))
        result.status = "error"
    except Exception as exc:  # a bug, or the runtime failed: report it, run the others
        result.failure = Failure(f"internal error: {type(exc).__name__}: {exc}", str(test.where))
        result.status = "error"
    finally:
        driver.close()
    if result.failure is not None and result.status == "passed":
        result.status = "failed"
    result.seconds = time.monotonic() - began
    return result
