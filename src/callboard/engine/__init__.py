"""The pure execution engine: ``advance(bundle, state, event, env)``.

Names are loaded lazily so that ``callboard.engine.io`` (events and effects, which the
widget modules import) can be imported without pulling in the engine core, which itself
imports the widget registry.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_WHERE = {
    "ENDED": "core",
    "Env": "core",
    "advance": "core",
    "initial_context": "core",
    "MAX_CONSECUTIVE": "state",
    "MAX_STEPS": "state",
    "Advance": "state",
    "Bundle": "state",
    "ExecutionState": "state",
    "FlowRef": "state",
    "StepRecord": "state",
    "Warning": "state",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'callboard.engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"callboard.engine.{module}"), name)
    globals()[name] = value
    return value
