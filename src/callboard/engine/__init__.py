"""The pure execution engine: ``advance(bundle, state, event, env)``."""

from callboard.engine.core import ENDED, Env, advance, initial_context
from callboard.engine.state import (
    MAX_CONSECUTIVE,
    MAX_STEPS,
    Advance,
    Bundle,
    ExecutionState,
    FlowRef,
    StepRecord,
    Warning,
)

__all__ = [
    "ENDED",
    "MAX_CONSECUTIVE",
    "MAX_STEPS",
    "Advance",
    "Bundle",
    "Env",
    "ExecutionState",
    "FlowRef",
    "StepRecord",
    "Warning",
    "advance",
    "initial_context",
]
