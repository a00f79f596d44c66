"""THE engine loop, shared by every runtime: advance → perform the effects that can be
performed at once → feed their results back → … until the execution waits for something
from outside or ends, with a cap on the events one input may cause.

The durable runner (:class:`callboard.runtime.runner.Runner`: server, worker, golden
tests through SQLite) and the in-memory one (:class:`callboard.runtime.local.LocalRunner`:
``callboard chat``/``call``, golden tests in memory) differ only in how they perform
effects (an :data:`EffectPerformer`) and what they do with each step.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from callboard.contract.io import Effect, EndExecution, Event
from callboard.engine.core import Env, advance
from callboard.engine.state import Advance, Bundle, ExecutionState

__all__ = ["MAX_EVENTS_PER_RUN", "EffectPerformer", "RunOutcome", "run_until_wait"]

MAX_EVENTS_PER_RUN = 10_000  # guard against a widget that never stops asking

EffectPerformer = Callable[[ExecutionState, Sequence[Effect]], list[Event]]
"""Performs what it can of one advance's effects now; returns the events carrying their
results (fed back in order). Effects it cannot perform now it keeps (timers, outbox)."""


@dataclass(slots=True)
class RunOutcome:
    state: ExecutionState | None  # the state afterwards (None: a refused Start)
    accepted: bool  # the first event was taken (False: ignored, e.g. stale)
    advances: list[Advance] = field(default_factory=list)


def run_until_wait(
    bundle: Bundle,
    state: ExecutionState | None,
    first: Event,
    env: Env,
    perform: EffectPerformer,
    *,
    on_advance: Callable[[Advance, int], None] | None = None,
    on_capped: Callable[[int], None] | None = None,
    limit: int = MAX_EVENTS_PER_RUN,
) -> RunOutcome:
    """Run ``first`` and what follows from it. ``on_advance(result, steps_before)`` sees
    every advance (``steps_before``: the execution's step count before it); an ignored
    event's advance changes no state and performs nothing. Past ``limit`` events the
    execution is ended as ``failed`` (``on_capped(limit)`` is told first)."""
    queue: deque[Event] = deque([first])
    outcome = RunOutcome(state, False)
    accepted: bool | None = None
    count = 0
    while queue:
        event = queue.popleft()
        count += 1
        if count > limit:
            queue.clear()
            if on_capped is not None:
                on_capped(limit)
            if state is None or state.status == "ended":
                break
            event = EndExecution("failed")
        before = state.step_count if state is not None else 0
        result = advance(bundle, state, event, env)
        if accepted is None:
            accepted = result.accepted
        outcome.advances.append(result)
        if on_advance is not None:
            on_advance(result, before)
        if not result.accepted:
            continue
        state = result.state
        queue.extend(perform(state, result.effects))
    outcome.state = state
    outcome.accepted = bool(accepted)
    return outcome
