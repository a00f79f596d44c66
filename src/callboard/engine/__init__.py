"""The pure execution engine: ``advance(bundle, state, event, env)``.

Names are loaded lazily so that ``callboard.engine.io`` (events and effects, which the
widget modules import) can be imported without pulling in the engine core, which itself
imports the widget registry.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from callboard.engine.core import ENDED as ENDED
    from callboard.engine.core import Env as Env
    from callboard.engine.core import advance as advance
    from callboard.engine.core import initial_context as initial_context
    from callboard.engine.state import MAX_CONSECUTIVE as MAX_CONSECUTIVE
    from callboard.engine.state import MAX_STEPS as MAX_STEPS
    from callboard.engine.state import Advance as Advance
    from callboard.engine.state import Bundle as Bundle
    from callboard.engine.state import ExecutionState as ExecutionState
    from callboard.engine.state import FlowRef as FlowRef
    from callboard.engine.state import StepRecord as StepRecord
    from callboard.engine.state import Warning as Warning

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
