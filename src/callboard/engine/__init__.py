"""The pure execution engine: ``advance(bundle, state, event, env)``.

It runs whatever implements :mod:`callboard.contract.widget`: the widget types come in
with the bundle (``Bundle(..., widgets=...)``), so the engine never imports the widget
modules. Events and effects are in :mod:`callboard.contract.io`.
"""

from __future__ import annotations

from callboard.engine.context import ENDED, initial_context
from callboard.engine.core import advance
from callboard.engine.env import Env
from callboard.engine.state import (
    MAX_CONSECUTIVE,
    MAX_STEPS,
    Advance,
    Bundle,
    ExecutionState,
    FlowRef,
    StepRecord,
    StepWarning,
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
    "StepWarning",
    "advance",
    "initial_context",
]
