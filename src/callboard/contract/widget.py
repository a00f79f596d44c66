"""The contract between the engine and a widget module.

It sits below both: the widget modules (``callboard.widgets``) implement it, the engine
(``callboard.engine``) runs whatever implements it, and neither imports the other. The
engine finds a state's widget through the :class:`WidgetCatalog` it is handed (in
:attr:`callboard.engine.state.Bundle.widgets`); ``callboard.widgets.registry.WIDGETS``
is the catalog of every widget module.

A widget module declares everything about one widget type: its properties (with types,
defaults and editor hints, published to the editor and used by the validator), its
events (with Studio's canvas labels), its output variables, and its behaviour:

* :meth:`Widget.start` runs when the execution enters the widget;
* :meth:`Widget.resume` runs when an event arrives while the widget waits.

Both return an :class:`Outcome`: :class:`Done` (the widget finished with an event and
sets ``widgets.<name>``), :class:`Wait` (effects to perform, then wait for an event), or
:class:`EnterSubflow` (Run Subflow only). ``resume`` returns ``None`` for an event the
widget does not accept; the engine records warning 81002 and changes nothing.

Widgets are stateless singletons. What a widget must remember while it waits goes into
``Wait.memo`` and comes back as ``run.memo``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal, Protocol

from callboard.contract.io import Effect, Event
from callboard.flow.model import State

__all__ = [
    "OFFSET",
    "Done",
    "EnterSubflow",
    "EventSpec",
    "Outcome",
    "Prop",
    "Run",
    "Wait",
    "Widget",
    "WidgetCatalog",
]

PropKind = Literal[
    "string",  # JSON string (Liquid allowed unless liquid=False)
    "integer",  # JSON integer
    "number",  # JSON number
    "boolean",  # JSON true/false
    "key_values",  # array of {"key": str, "value": str}
    "string_list",  # array of strings
    "object",  # JSON object (e.g. offset)
    "any",
]

Editor = Literal[
    "text", "textarea", "liquid", "select", "number", "checkbox", "key_values", "list", "hidden"
]


@dataclass(frozen=True, slots=True)
class Prop:
    """One property of a widget's ``properties`` object.

    ``kind`` is the JSON type Studio's validator expects. ``also`` lists other JSON kinds
    accepted because real exports contain them (e.g. ``3600`` for a string timeout).
    """

    name: str
    kind: PropKind = "string"
    required: bool = False
    default: Any = None
    enum: tuple[str, ...] = ()
    liquid: bool = True
    also: tuple[PropKind, ...] = ()
    label: str = ""
    help: str = ""
    editor: Editor = "text"
    minimum: float | None = None
    maximum: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "required": self.required,
            "default": self.default,
            "enum": list(self.enum),
            "liquid": self.liquid,
            "also": list(self.also),
            "label": self.label or self.name.replace("_", " ").capitalize(),
            "help": self.help,
            "editor": self.editor,
            "minimum": self.minimum,
            "maximum": self.maximum,
        }


@dataclass(frozen=True, slots=True)
class EventSpec:
    """A transition event, with the label Studio's canvas shows on its handle."""

    name: str
    label: str


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True)
class Done:
    """The widget finished: take the transition for ``event``.

    ``variables`` replaces ``widgets.<name>`` (``None`` leaves it as it is).
    ``flow_variables`` are written into ``flow.variables`` (Set Variables only).
    ``channel`` is merged into ``flow.channel`` (Start / Resume Conversation: the
    execution becomes a conversation execution).
    ``transition_index`` names the exact entry of the state's ``transitions`` to follow
    (Split Based On, whose ``match`` event repeats); ``None`` takes the first transition
    for ``event``.
    """

    event: str
    variables: dict[str, Any] | None = None
    flow_variables: dict[str, Any] | None = None
    effects: tuple[Effect, ...] = ()
    transition_index: int | None = None
    channel: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Wait:
    """Perform ``effects`` and wait for an event carrying ``token``.

    The engine cancels every :class:`~callboard.contract.io.StartTimer` among the effects
    when the wait ends. ``memo`` is kept in the execution state and handed back as
    ``run.memo`` on :meth:`Widget.resume`; it must be plain JSON.
    """

    token: str
    effects: tuple[Effect, ...] = ()
    memo: dict[str, Any] = field(default_factory=dict)
    accepts_messages: bool = False


@dataclass(frozen=True, slots=True)
class EnterSubflow:
    """Run the subflow ``flow_sid`` inline with ``parameters`` (Run Subflow)."""

    flow_sid: str
    parameters: dict[str, Any]


Outcome = Done | Wait | EnterSubflow


class Run(Protocol):
    """What the engine gives a widget while it runs."""

    @property
    def state(self) -> State:
        """The widget's definition (name, type, transitions, properties)."""
        ...

    @property
    def context(self) -> Mapping[str, Any]:
        """The execution context (``trigger``, ``widgets``, ``flow``, ``contact``)."""
        ...

    @property
    def memo(self) -> dict[str, Any]:
        """What the widget stored in its :class:`Wait` (empty in ``start``)."""
        ...

    @property
    def now(self) -> datetime:
        """The injected clock's time (UTC, aware)."""
        ...

    def prop(self, name: str, default: Any = None) -> Any:
        """The raw property value, or the declared default, or ``default``."""
        ...

    def render(self, name: str, default: str = "") -> str:
        """Property ``name`` rendered with Liquid (errors become warning 81018 and render
        as an empty string)."""
        ...

    def render_text(self, template: str, where: str) -> str:
        """Render any template text (``where`` names it in warnings)."""
        ...

    def new_token(self) -> str:
        """A fresh, unique token for a wait."""
        ...

    def warn(self, code: int, message: str) -> None:
        """Record a warning (Studio debugger code) on the current step."""
        ...

    def previous_variables(self) -> Mapping[str, Any]:
        """``widgets.<this widget>`` as it was before this run (for merges)."""
        ...


class Widget(ABC):
    """Base class of every widget type. Subclasses set the class attributes."""

    type: ClassVar[str]
    label: ClassVar[str]
    group: ClassVar[str]  # Flow Control, Voice, Messaging, Tools & Execute Code, ...
    description: ClassVar[str] = ""
    events: ClassVar[tuple[EventSpec, ...]]
    props: ClassVar[tuple[Prop, ...]] = ()
    variables: ClassVar[tuple[str, ...]] = ()  # documented widgets.<name>.* keys
    # Split Based On: "match" transitions repeat and carry conditions.
    repeatable_events: ClassVar[tuple[str, ...]] = ()
    channel: ClassVar[Literal["any", "voice", "messaging"]] = "any"
    runnable: ClassVar[bool] = True

    @abstractmethod
    def start(self, run: Run) -> Outcome:
        """The execution entered this widget."""

    def resume(self, run: Run, event: Event) -> Outcome | None:
        """An event arrived while this widget waits; ``None`` if it is not accepted."""
        return None

    def extra_checks(self, properties: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Widget-specific validation beyond property types:
        ``(property path relative to the state, message)`` pairs, e.g.
        ``("properties/flow_sid", "must be a valid, non-liquid flow sid")``."""
        return []

    def prop_spec(self, name: str) -> Prop | None:
        for p in self.props:
            if p.name == name:
                return p
        return None

    @classmethod
    def schema(cls) -> dict[str, Any]:
        """The JSON the server publishes for the editor's inspector and library."""
        return {
            "type": cls.type,
            "label": cls.label,
            "group": cls.group,
            "description": cls.description,
            "channel": cls.channel,
            "runnable": cls.runnable,
            "events": [{"name": e.name, "label": e.label} for e in cls.events],
            "repeatable_events": list(cls.repeatable_events),
            "properties": [p.to_json() for p in cls.props],
            "variables": list(cls.variables),
        }


class WidgetCatalog(Protocol):
    """The widget types a flow may use, by ``type`` string."""

    def get(self, widget_type: str) -> Widget | None:
        """The widget for a ``type`` string, or None for a type Callboard does not know."""
        ...

    def all_widgets(self) -> list[Widget]:
        """Every widget type, in a stable order."""
        ...


OFFSET = Prop("offset", kind="object", editor="hidden", liquid=False)
