"""Liquid templating with Studio's context (placeholder: replaced by the full module)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from liquid import Environment

__all__ = ["TemplateError", "render_template"]

_ENV = Environment()


class TemplateError(Exception):
    """A template that cannot be parsed or rendered (Studio warning 81018)."""


def render_template(
    source: str,
    context: Mapping[str, Any],
    *,
    now: datetime,
    cache: dict[str, Any] | None = None,
) -> str:
    if "{" not in source:
        return source
    try:
        return str(_ENV.from_string(source).render(**context))
    except Exception as exc:  # noqa: BLE001
        raise TemplateError(str(exc)) from exc
