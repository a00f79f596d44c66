"""Set Variables: store key/value pairs in ``flow.variables``.

``properties.variables`` is an array of items ``{"key", "value"}``; exports from some
editor versions add ``"index": "0"`` (ignored: items apply in array order) and other
tools add ``"type"`` (default ``"string"``). Each value is rendered with Liquid (keys are
not) and written to ``flow.variables.<key>``; the same pairs are mirrored under
``widgets.<name>.<key>``. Keys are case-sensitive; setting a key again overwrites it.

Decisions where Studio's behaviour is not documented precisely:

* **Evaluation context.** Studio sets variables at the end of a step, so every value is
  rendered against the context as it was when the widget was entered: a value cannot
  see a key set by an earlier item of the same widget.
* **Typing.** Twilio's help centre: "a Set Variables value is numeric if not quoted".
  So a rendered value that reads as a number is stored as a **number** (``10`` -> ``10``,
  ``{{flow.data.n}}`` rendering ``7`` -> ``7``, ``2.5`` -> ``2.5``), and a value
  enclosed in quotation marks (``"10"`` or ``'10'``) is stored as the **string** between
  them. Only text that reads back exactly as the number it becomes is converted
  (``-?(0|[1-9][0-9]*)`` up to 15 digits, or such an integer part with a fraction that
  round-trips): phone numbers (``+15551234567``), zip codes (``02134``), amounts with
  trailing zeros (``1.50``) and exponents (``1e3``) stay text, so nothing a flow prints
  later changes its spelling. A value written as a JSON number or boolean in the
  definition (``"value": 10``) keeps that type. An item may ask for a type explicitly:
  ``"type": "string"`` (never converted), ``"number"`` (int or float), ``"boolean"``
  (``true``/``false``) or ``"json"``/``"object"``; a value that does not convert to the
  type asked for raises warning 81027 and the rendered string is kept. (Studio's FAQ
  advice to convert numeric strings with ``| plus: 0`` keeps working: Liquid comparisons
  between a number and a numeric string compare numbers, see
  :mod:`callboard.flow.liquid_dialect`.)
* **Parse as JSON.** The editor's "Parse as JSON object" option is read from
  ``parse_as_json`` (also ``parseAsJson`` / ``json``; ``true`` or ``"true"``) or from
  ``"type": "json"``/``"object"``. The rendered text is parsed as JSON; invalid JSON
  raises warning 81027 and the raw string is kept.
* **Whitespace.** A value containing Liquid markup (``{{`` or ``{%``) is trimmed after
  rendering, so the multi-line ``{% if %}...{% endif %}`` counter idiom stores ``"1"``
  rather than ``"\\n  1\\n"``. Literal values are stored exactly as written.
* A missing or null value stores ``""``; an item without a key is skipped.
"""

from __future__ import annotations

import json
import re
from typing import Any

from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Widget
from callboard.widgets.common import key_value_items

__all__ = ["WIDGET", "SetVariables"]

PARSE_WARNING = 81027
_JSON_TYPES = frozenset({"json", "object"})
_JSON_FLAGS = ("parse_as_json", "parseAsJson", "json")
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?")
_CANONICAL_INT = re.compile(r"-?(?:0|[1-9]\d{0,14})")
_CANONICAL_FLOAT = re.compile(r"-?(?:0|[1-9]\d{0,14})\.\d{1,15}")
_NUMBER_START = frozenset("-0123456789")


class SetVariables(Widget):
    type = "set-variables"
    label = "Set Variables"
    group = "Flow Control"
    description = "Saves key/value pairs in flow.variables for the rest of the execution."
    events = (EventSpec("next", "Next"),)
    props = (
        OFFSET,
        Prop(
            "variables",
            kind="key_values",
            editor="key_values",
            label="Variables",
            help="Each value may use Liquid; read it later as {{flow.variables.<key>}}.",
        ),
    )

    def start(self, run: Run) -> Outcome:
        values: dict[str, Any] = {}
        for i, key, item in key_value_items(run, "variables"):
            values[key] = _value(run, i, key, item)
        mirrored = {k: _copy(v) for k, v in values.items()}
        return Done("next", variables=mirrored, flow_variables=values)


def _value(run: Run, i: int, key: str, item: dict[str, Any]) -> Any:
    raw = item.get("value")
    if raw is None:
        return ""
    if isinstance(raw, bool | int | float):
        return raw  # written unquoted in the definition: keeps its JSON type
    if isinstance(raw, dict | list):
        return _copy(raw)
    template = str(raw)
    inner = _unquoted(template)
    source = inner if inner is not None else template
    text = run.render_text(source, f"properties.variables.{i}.value")
    if "{{" in source or "{%" in source:
        text = text.strip()
    kind = item.get("type")
    kind = str(kind).strip().lower() if kind else ""
    if kind in _JSON_TYPES or _json_flag(item):
        return _parse_json(run, key, text)
    if kind in ("number", "integer", "float"):
        return _parse_number(run, key, text)
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        run.warn(PARSE_WARNING, f"Variable {key!r}: {text!r} is not true or false; kept as text")
        return text
    if kind == "string" or inner is not None:
        return text
    return _numeric(text)


def _json_flag(item: dict[str, Any]) -> bool:
    for flag in _JSON_FLAGS:
        value = item.get(flag)
        if value is not None and _truthy(value):
            return True
    return False


def _unquoted(template: str) -> str | None:
    """The text between the quotation marks of a value written ``"..."`` or ``'...'``."""
    stripped = template.strip()
    if len(stripped) < 2 or stripped[0] != stripped[-1] or stripped[0] not in "\"'":
        return None
    inner = stripped[1:-1]
    return inner if stripped[0] not in inner else None


def _numeric(text: str) -> Any:
    """``text`` as an int or float when it reads back exactly as that number."""
    if not text or text[0] not in _NUMBER_START:
        return text  # neither pattern can match
    if _CANONICAL_INT.fullmatch(text):
        return int(text)
    if _CANONICAL_FLOAT.fullmatch(text):
        number = float(text)
        if repr(number) == text:
            return number
    return text


def _parse_json(run: Run, key: str, text: str) -> Any:
    try:
        parsed = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        if isinstance(exc, RecursionError):
            reason = "nested too deeply"
        run.warn(
            PARSE_WARNING,
            f"Variable {key!r}: could not parse {_short(text)} to a JSON object ({reason}); "
            "kept as text",
        )
        return text
    return "" if parsed is None else parsed


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_number(run: Run, key: str, text: str) -> Any:
    stripped = text.strip()
    if _INT.fullmatch(stripped):
        return int(stripped)
    if _FLOAT.fullmatch(stripped):
        return float(stripped)
    run.warn(PARSE_WARNING, f"Variable {key!r}: {_short(text)} is not a number; kept as text")
    return text


def _truthy(flag: Any) -> bool:
    if isinstance(flag, str):
        return flag.strip().lower() == "true"
    return flag is True


def _short(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _copy(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.loads(json.dumps(value))
    return value


WIDGET = SetVariables()
