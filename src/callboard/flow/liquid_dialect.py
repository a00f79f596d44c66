"""Studio's dialect of Liquid on top of python-liquid 2 (used by :mod:`callboard.flow.liquid`).

What differs from python-liquid out of the box, and the guards around its parser:

* Studio's limits (:data:`OUTPUT_LIMIT`, :data:`LOOP_LIMIT`) on :class:`StudioEnvironment`;
* JSON output: objects printed with ``{{ }}`` (:class:`StudioOutput`) and Studio's
  ``to_json`` filter (:func:`to_json`) write compact JSON (:func:`dumps`);
* Liquid keywords used as keys after a dot (``parsed.limit``) rewritten to bracket form
  before parsing (:func:`quote_keyword_segments`);
* refusing texts with many unclosed openings (:func:`unclosed_openings`), which the lexer
  handles in quadratic time;
* one-line error messages naming the line and column (:func:`error_message`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

from liquid import Environment
from liquid.builtin.output import Output, OutputNode
from liquid.context import RenderContext
from liquid.exceptions import (
    LiquidError,
    LocalNamespaceLimitError,
    LoopIterationLimitError,
    OutputStreamLimitError,
    TemplateNotFoundError,
)
from liquid.filter import liquid_filter
from liquid.stringify import to_liquid_string
from liquid.undefined import is_undefined

__all__ = [
    "KEYWORDS",
    "LOOP_LIMIT",
    "MAX_TEMPLATE",
    "MAX_UNCLOSED",
    "OUTPUT_LIMIT",
    "StudioEnvironment",
    "StudioOutput",
    "TemplateError",
    "dumps",
    "error_message",
    "quote_keyword_segments",
    "to_json",
    "unclosed_openings",
]

OUTPUT_LIMIT = 16 * 1024
"""Maximum size of one rendered template, in bytes of UTF-8 (Studio: 16 KB)."""

LOOP_LIMIT = 15
"""Maximum loop iterations (Studio: 15), nested loops multiplied."""

MAX_TEMPLATE = 64 * 1024
"""Templates longer than this are refused (Studio renders at most 16 KB anyway)."""


class TemplateError(Exception):
    """A template that cannot be parsed or rendered (Studio warning 81018)."""


# --------------------------------------------------------------------------- JSON output


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        f = float(value)
        return int(f) if f.is_integer() else f
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | set | frozenset | range):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    if is_undefined(value):
        return None
    return str(value)


def dumps(value: Any) -> str:
    """``value`` as compact JSON (``null`` for a missing value or a non-finite float)."""
    if is_undefined(value):
        return "null"
    if isinstance(value, float) and not math.isfinite(value):
        return "null"
    return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))


@liquid_filter
def to_json(value: Any) -> str:
    """Studio's ``to_json``: the value as compact JSON."""
    return dumps(value)


class _StudioOutputNode(OutputNode):
    """``{{ }}`` that writes objects as JSON instead of a Python repr."""

    __slots__ = ()

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        value = self.expression.evaluate(context)
        if isinstance(value, Mapping) and not is_undefined(value):
            return buffer.write(dumps(value))
        return buffer.write(to_liquid_string(value, False))


class StudioOutput(Output):
    node_class = _StudioOutputNode


class StudioEnvironment(Environment):
    loop_iteration_limit = LOOP_LIMIT
    output_stream_limit = OUTPUT_LIMIT
    local_namespace_limit = 1024 * 1024  # bytes held by {% assign %}/{% capture %}


# --------------------------------------------------------------------------- errors


def error_message(exc: BaseException) -> str:
    """A one-line description of a python-liquid error."""
    if isinstance(exc, TemplateError):
        return str(exc)
    if isinstance(exc, LoopIterationLimitError):
        text = f"a loop would run more than {LOOP_LIMIT} iterations (Studio's limit)"
    elif isinstance(exc, OutputStreamLimitError):
        text = f"the rendered text is larger than {OUTPUT_LIMIT // 1024} KB (Studio's limit)"
    elif isinstance(exc, TemplateNotFoundError):
        text = f"there is no template named {exc.message!s} (render/include are not available)"
    elif isinstance(exc, LocalNamespaceLimitError):
        text = "assigned variables are too large"
    elif isinstance(exc, LiquidError):
        text = str(exc.message or type(exc).__name__)
        if isinstance(exc.__cause__, Exception) and text == "unexpected liquid parsing error":
            text = f"{text}: {exc.__cause__}"
    elif isinstance(exc, RecursionError):
        text = "the template is nested too deeply"
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    text = " ".join(text.split())
    if isinstance(exc, LiquidError):
        try:
            where = exc.context()
        except Exception:
            where = None
        if where is not None:
            text = f"{text} (line {where[0]}, column {where[1] + 1})"
    return text


# --------------------------------------------------------------------------- source rewriting

# python-liquid reserves its keywords even after a dot, so ``{{widgets.http.parsed.limit}}``
# would be a syntax error; Studio (like Shopify Liquid) reads it as a key. Such segments are
# rewritten to bracket form (``parsed["limit"]``) in tags and outputs before parsing.
KEYWORDS = (
    "true|false|nil|null|empty|blank|and|or|contains|not|in|offset|limit|reversed|cols|"
    "continue|with|for|as|if|else|required"
)
_KEYWORD_SEGMENT = re.compile(rf"(?<=[\w\]?-])\.({KEYWORDS})(?![\w?-])")
_MARKUP = re.compile(r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}|\{\{.*?\}\}|\{%.*?%\}", re.S)
_QUOTED = re.compile(r"('[^']*'|\"[^\"]*\")")


def quote_keyword_segments(source: str) -> str:
    """``source`` with keyword keys after a dot in tags and outputs in bracket form."""
    if _KEYWORD_SEGMENT.search(source) is None:
        return source

    def markup(m: re.Match[str]) -> str:
        text = m.group()
        if not text.startswith(("{{", "{%")) or re.match(r"\{%-?\s*raw\b", text):
            return text
        parts = _QUOTED.split(text)  # odd indexes are string literals
        for i in range(0, len(parts), 2):
            parts[i] = _KEYWORD_SEGMENT.sub(r'["\1"]', parts[i])
        return "".join(parts)

    return _MARKUP.sub(markup, source)


MAX_UNCLOSED = 20
"""python-liquid's lexer scans to the end of the text for every ``{{``/``{%``/``raw``/
``doc`` opening that is never closed, which is quadratic; templates with more such
openings than this are not parsed (they are broken, or a denial of service)."""
_RAW_OPEN = re.compile(r"\{%-?\s*raw\b")
_DOC_OPEN = re.compile(r"\{%-?\s*doc\b")


def unclosed_openings(text: str) -> int:
    """How many openings have no closing delimiter after them (an upper bound of the
    lexer's failed scans)."""
    count = 0
    for opening, closing in (("{{", "}}"), ("{%", "%}")):
        end = text.rfind(closing)
        count += text.count(opening, end + len(closing) if end >= 0 else 0)
    for pattern, closing in ((_RAW_OPEN, "endraw"), (_DOC_OPEN, "enddoc")):
        end = text.rfind(closing)
        start = end + len(closing) if end >= 0 else 0
        count += sum(1 for _ in pattern.finditer(text, start))
    return count
