"""The widget registry: every module in this package that defines ``WIDGET``.

One module per widget type, named after the type (``send-message`` ->
``send_message.py``). Adding a widget is adding its module; nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from callboard.widgets.base import Widget

__all__ = ["all_widgets", "get"]

_NOT_WIDGETS = {"base", "registry", "common", "voice_common"}


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


def get(widget_type: str) -> Widget | None:
    """The widget for a ``type`` string, or None for a type Callboard does not know."""
    return _load().get(widget_type)


def all_widgets() -> list[Widget]:
    return list(_load().values())
