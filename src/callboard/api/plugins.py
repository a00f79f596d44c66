"""Route plugins: every module ``callboard/api/*_routes.py``.

A plugin module defines ``routes() -> list[BaseRoute]`` (mounted by
:func:`callboard.api.app.create_app`) and may define ``openapi_paths() -> dict`` (OpenAPI
3.0 path items, merged into ``/openapi.json`` and ``/docs``; schemas they reference with
``$ref`` go in an optional ``openapi_schemas() -> dict``).
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType
from typing import Any

import callboard.api

__all__ = ["plugin_modules", "plugin_openapi"]


@cache
def plugin_modules() -> tuple[ModuleType, ...]:
    found = []
    for info in sorted(pkgutil.iter_modules(callboard.api.__path__), key=lambda m: m.name):
        if info.name.endswith("_routes"):
            found.append(importlib.import_module(f"callboard.api.{info.name}"))
    return tuple(found)


def plugin_openapi() -> tuple[dict[str, Any], dict[str, Any]]:
    """``(paths, schemas)`` contributed by the plugins."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for module in plugin_modules():
        make_paths = getattr(module, "openapi_paths", None)
        if callable(make_paths):
            paths.update(make_paths())
        make_schemas = getattr(module, "openapi_schemas", None)
        if callable(make_schemas):
            schemas.update(make_schemas())
    return paths, schemas
