"""The widget registry: every module in this package that defines ``WIDGET``.

One module per widget type, named after the type (``send-message`` ->
``send_message.py``). Adding a widget is adding its module; nothing else changes.

:data:`WIDGETS` is the :class:`~callboard.contract.widget.WidgetCatalog` the runtime hands
the engine (``Bundle(..., widgets=WIDGETS)``) and the validator checks flows against.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from callboard.contract.widget import Widget

__all__ = ["WIDGETS", "Registry", "all_widgets", "get"]

_NOT_WIDGETS = {"registry", "common", "http_common", "voice_common"}


@cache
def _load() -> dict[str, Widget]:
    import callboard.widgets as package

    found: dict[str, Widget] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name in _NOT_WIDGETS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"callboard.widgets.{info.name}")
        widget = getattr(module, "WIDGET", None)
        if isinstance(widget, Widget):
            if widget.type in found:
                raise RuntimeError(f"widget type {widget.type!r} is defined twice")
            found[widget.type] = widget
    return found


class Registry:
    """Every widget module of this package, loaded on first use (a WidgetCatalog)."""

    __slots__ = ()

    def get(self, widget_type: str) -> Widget | None:
        """The widget for a ``type`` string, or None for a type Callboard does not know."""
        return _load().get(widget_type)

    def all_widgets(self) -> list[Widget]:
        """Every widget type, ordered by module name."""
        return list(_load().values())


WIDGETS = Registry()

get = WIDGETS.get
all_widgets = WIDGETS.all_widgets
