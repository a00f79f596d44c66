"""Property-level checks for :mod:`callboard.validation.definition` (JSON types, enums, ranges,
Liquid syntax), driven by each widget's declared :class:`~callboard.contract.widget.Prop`.

Messages follow the wording of Studio's JSON-schema validator ("integer found, string
expected", "does not have a value in the enumeration [...]", "is missing but it is
required", "must have a minimum value of 1"); see docs/validation.md for every rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from callboard.contract.widget import Prop
from callboard.flow.liquid import MAX_UNCLOSED, check_template, unclosed_openings

__all__ = [
    "REQUIRED",
    "PropChecker",
    "Sink",
    "enumeration",
    "has_liquid",
    "json_type",
    "liquid_problem",
    "pointer",
    "show",
    "type_message",
]

Sink = Callable[[str, str], None]
"""``sink(property_path, message)``: where a check reports a problem."""

REQUIRED = "is missing but it is required"

# JSON types (as the validator names them) a value of each Prop kind may have.
_KIND_TYPES: dict[str, tuple[str, ...]] = {
    "string": ("string",),
    "integer": ("integer",),
    "number": ("integer", "number"),
    "boolean": ("boolean",),
    "key_values": ("array",),
    "string_list": ("array",),
    "object": ("object",),
}
_KIND_NAMES: dict[str, str] = {
    "key_values": "array",
    "string_list": "array",
}
_NUMERIC = ("integer", "number")
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def json_type(value: Any) -> str:
    """The JSON-schema type name of a decoded JSON value (``integer`` for ``5.0`` too)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def type_message(value: Any, expected: str) -> str:
    return f"{json_type(value)} found, {expected} expected"


def pointer(base: str, *parts: object) -> str:
    """Extend a ``#/...`` JSON pointer; keys are escaped (``~`` -> ``~0``, ``/`` -> ``~1``)."""
    out = base
    for part in parts:
        text = str(part).replace("~", "~0").replace("/", "~1")
        out = f"{out}/{text}"
    return out


def show(value: Any, limit: int = 60) -> str:
    """A short quoted form of a value for messages (hostile values can be huge)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return repr(text) if isinstance(value, str) else text


def enumeration(values: object) -> str:
    items = list(values) if isinstance(values, tuple | list | dict) else [values]
    return "does not have a value in the enumeration [" + ", ".join(map(str, items)) + "]"


def has_liquid(text: str) -> bool:
    """Whether a string holds Liquid markup (an output ``{{`` or a tag ``{%``)."""
    return "{{" in text or "{%" in text


MAX_CHECKED = 64 * 1024
"""Longer Liquid templates are not parsed (Studio renders at most 16 KB anyway)."""
LIQUID_BUDGET = 10_000_000
"""Characters the Liquid parser may scan per definition (about seconds of work);
templates past it are not checked (a warning says so)."""


def liquid_problem(text: str, cache: dict[str, str | None]) -> str | None:
    """Why ``text`` is not a valid Liquid template (None when it is, or holds no Liquid)."""
    if not has_liquid(text):
        return None
    if text in cache:
        return cache[text]
    problem: str | None
    if len(text) > MAX_CHECKED:
        problem = f"longer than {MAX_CHECKED // 1024} KB, not checked"
    elif unclosed_openings(text) > MAX_UNCLOSED:
        problem = f"more than {MAX_UNCLOSED} '{{{{' or '{{%' are never closed"
    else:
        try:
            problem = check_template(text)
        except Exception as exc:  # a checker bug must not break validation
            problem = f"{type(exc).__name__}: {exc}"
    if problem is not None and len(problem) > 200:
        problem = problem[:197] + "..."
    cache[text] = problem
    return problem


def liquid_warning(problem: str) -> str:
    return (
        f"invalid Liquid template: {problem} (Studio accepts the flow; at run time the field "
        "renders empty with warning 81018)"
    )


def _expected(kinds: tuple[str, ...]) -> str:
    names: list[str] = []
    for kind in kinds:
        name = _KIND_NAMES.get(kind, kind)
        if name not in names:
            names.append(name)
    return names[0] if len(names) == 1 else "[" + ", ".join(names) + "]"


def _number_of(text: str) -> float | None:
    stripped = text.strip()
    if not _NUMBER_TEXT.fullmatch(stripped):
        return None
    number = float(stripped)
    return number if math.isfinite(number) else None


def _limit(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


class PropChecker:
    """Checks property values against their :class:`Prop` declarations."""

    def __init__(self, error: Sink, warn: Sink, cache: dict[str, str | None]) -> None:
        self.error = error
        self.warn = warn
        self.cache = cache
        self.budget = LIQUID_BUDGET

    def liquid(self, path: str, text: str) -> None:
        if not has_liquid(text):
            return
        unclosed = unclosed_openings(text) if text not in self.cache else MAX_UNCLOSED + 1
        if len(text) <= MAX_CHECKED and unclosed <= MAX_UNCLOSED:
            cost = len(text) * (1 + unclosed)
            if cost > self.budget:
                self.warn(path, "Liquid template not checked: the definition has too much Liquid")
                return
            self.budget -= cost
        problem = liquid_problem(text, self.cache)
        if problem is not None:
            self.warn(path, liquid_warning(problem))

    def check(self, path: str, prop: Prop, value: Any) -> None:
        kinds: tuple[str, ...] = (prop.kind, *prop.also)
        if "any" in kinds:
            if isinstance(value, str) and prop.liquid:
                self.liquid(path, value)
            return
        found = json_type(value)
        matched = next((k for k in kinds if found in _KIND_TYPES.get(k, ())), None)
        if matched is None:
            self.error(path, f"{found} found, {_expected(kinds)} expected")
        elif matched == "key_values":
            self._key_values(path, prop, value)
        elif matched == "string_list":
            self._string_list(path, prop, value)
        elif isinstance(value, str):
            self._string(path, prop, value)
        elif found in _NUMERIC:
            self._range(path, prop, float(value))

    def _string(self, path: str, prop: Prop, value: str) -> None:
        if has_liquid(value):
            if prop.liquid:
                self.liquid(path, value)
                return  # enum and range are only known once rendered
            if not prop.enum:
                self.warn(
                    path,
                    "Liquid is not rendered in this property; the text is used as written",
                )
        if value == "":
            if prop.required:
                self.warn(path, "is empty")
            return  # an empty optional property means "use the default"
        if prop.enum:
            if value not in prop.enum:
                self.error(path, enumeration(prop.enum))
            return
        numeric = prop.kind in _NUMERIC or prop.minimum is not None or prop.maximum is not None
        if numeric:
            number = _number_of(value)
            if number is None:
                self.error(path, f"{show(value)} is not a number")
            else:
                self._range(path, prop, number)

    def _range(self, path: str, prop: Prop, number: float) -> None:
        if math.isnan(number):
            self.error(path, "NaN is not a number")
        elif prop.minimum is not None and number < prop.minimum:
            self.error(path, f"must have a minimum value of {_limit(prop.minimum)}")
        elif prop.maximum is not None and number > prop.maximum:
            self.error(path, f"must have a maximum value of {_limit(prop.maximum)}")

    def _key_values(self, path: str, prop: Prop, items: list[Any]) -> None:
        for j, item in enumerate(items):
            ip = pointer(path, j)
            if not isinstance(item, Mapping):
                self.error(ip, type_message(item, "object"))
                continue
            if "key" not in item:
                self.error(pointer(ip, "key"), REQUIRED)
            elif not isinstance(item["key"], str):
                self.error(pointer(ip, "key"), type_message(item["key"], "string"))
            value = item.get("value")
            if isinstance(value, str) and prop.liquid:
                self.liquid(pointer(ip, "value"), value)

    def _string_list(self, path: str, prop: Prop, items: list[Any]) -> None:
        for j, item in enumerate(items):
            if not isinstance(item, str):
                self.error(pointer(path, j), type_message(item, "string"))
            elif prop.liquid:
                self.liquid(pointer(path, j), item)
