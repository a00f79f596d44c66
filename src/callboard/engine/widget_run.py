"""The :class:`~callboard.contract.widget.Run` a widget sees while the engine runs it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from callboard.contract.widget import Widget
from callboard.engine.state import Frame
from callboard.flow.liquid import to_text
from callboard.flow.model import State

__all__ = ["Host", "WidgetRun"]


class Host(Protocol):
    """The part of the engine a widget run calls back into."""

    now: datetime

    @property
    def frame(self) -> Frame: ...

    def render(self, template: str, context: Mapping[str, Any], where: str) -> str: ...

    def new_token(self) -> str: ...

    def warn(self, code: int, message: str, widget: str = "") -> None: ...


class WidgetRun:
    """The :class:`~callboard.contract.widget.Run` a widget sees."""

    __slots__ = ("_machine", "_widget", "context", "memo", "state")

    def __init__(self, machine: Host, widget: Widget, state: State, memo: dict[str, Any]) -> None:
        self._machine = machine
        self._widget = widget
        self.state = state
        self.memo = memo
        self.context: dict[str, Any] = machine.frame.context

    @property
    def now(self) -> datetime:
        return self._machine.now

    def prop(self, name: str, default: Any = None) -> Any:
        value = self.state.properties.get(name)
        if value is None:
            spec = self._widget.prop_spec(name)
            if spec is not None and spec.default is not None:
                return spec.default
            return default
        return value

    def render(self, name: str, default: str = "") -> str:
        value = self.prop(name, default)
        if value is None:
            return default
        if not isinstance(value, str):
            value = to_text(value)  # true/false, objects and arrays as JSON: never a repr
        return self.render_text(value, f"properties.{name}")

    def render_text(self, template: str, where: str) -> str:
        return self._machine.render(template, self.context, f"{self.state.name}.{where}")

    def new_token(self) -> str:
        return self._machine.new_token()

    def warn(self, code: int, message: str) -> None:
        self._machine.warn(code, message, self.state.name)

    def previous_variables(self) -> Mapping[str, Any]:
        prev = self.context["widgets"].get(self.state.name)
        return prev if isinstance(prev, dict) else {}
