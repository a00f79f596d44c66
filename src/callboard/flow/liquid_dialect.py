"""Studio's dialect of Liquid on top of python-liquid 2 (used by :mod:`callboard.flow.liquid`).

What differs from python-liquid out of the box, and the guards around its parser:

* Studio's limits (:data:`OUTPUT_LIMIT`, :data:`LOOP_LIMIT`) on :class:`StudioEnvironment`;
* JSON output: objects and arrays printed with ``{{ }}`` (:class:`StudioOutput`), given
  to a string filter (``append``, ``upcase``, ``join``... :func:`json_text_filters`) or
  to Studio's ``to_json`` filter (:func:`to_json`) are written as compact JSON
  (:func:`dumps`, :func:`to_text`), and booleans as ``true``/``false``: no Python repr
  ever reaches a message, TwiML or an HTTP body;
* Liquid keywords used as keys after a dot (``parsed.limit``) rewritten to bracket form
  before parsing (:func:`quote_keyword_segments`);
* refusing texts with many unclosed openings (:func:`unclosed_openings`), which the lexer
  handles in quadratic time;
* one-line error messages naming the line and column (:func:`error_message`);
* comparisons as Studio users expect them (:func:`install_comparisons`): a number and a
  string that reads as a number compare as numbers (``"10" > 5``, ``"10" == 10``,
  ``{% when 10 %}`` for ``"10"``), and an ordering comparison between values that cannot
  be ordered (``"abc" > 5``, an object and a number) is false instead of an error.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

from liquid import Environment
from liquid.builtin.expressions import logical as _logical
from liquid.builtin.output import Output, OutputNode
from liquid.builtin.tags import case_tag as _case_tag
from liquid.context import RenderContext
from liquid.exceptions import (
    LiquidError,
    LiquidTypeError,
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
    "install_comparisons",
    "json_text_filters",
    "quote_keyword_segments",
    "to_json",
    "to_text",
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


def to_text(value: Any) -> str:
    """``value`` as Liquid prints it in Studio: objects and arrays as compact JSON,
    booleans as ``true``/``false``, nil/missing as empty, anything else as text."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping | list | tuple) and not is_undefined(value):
        return dumps(value)
    return to_liquid_string(value, False)


def _texts(value: Any) -> Any:
    return to_text(value) if isinstance(value, Mapping | list | tuple | bool) else value


STRING_FILTERS = [
    "append",
    "prepend",
    "capitalize",
    "downcase",
    "upcase",
    "escape",
    "escape_once",
    "escapejs",
    "lstrip",
    "rstrip",
    "strip",
    "newline_to_br",
    "remove",
    "remove_first",
    "remove_last",
    "replace",
    "replace_first",
    "replace_last",
    "split",
    "squish",
    "strip_html",
    "strip_newlines",
    "truncate",
    "truncatewords",
    "url_encode",
    "url_decode",
    "base64_encode",
    "base64_url_safe_encode",
]


def json_text_filters(env: Environment) -> None:
    """Make the string filters of ``env`` (and ``join``) read objects, arrays and booleans
    as :func:`to_text` prints them, instead of Python's ``str()``."""

    def text_args(fn: Any) -> Any:
        @functools.wraps(fn)
        def filter_(value: Any, *args: Any, **kwargs: Any) -> Any:
            return fn(_texts(value), *(_texts(a) for a in args), **kwargs)

        return filter_

    def join_items(fn: Any) -> Any:
        @functools.wraps(fn)
        def join(value: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(value, list | tuple):
                value = [_texts(item) for item in value]
            return fn(value, *(_texts(a) for a in args), **kwargs)

        return join

    for name in STRING_FILTERS:
        if name in env.filters:
            env.filters[name] = text_args(env.filters[name])
    if "join" in env.filters:
        env.filters["join"] = join_items(env.filters["join"])


class _StudioOutputNode(OutputNode):
    """``{{ }}`` that writes objects and arrays as JSON instead of a Python repr."""

    __slots__ = ()

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        return buffer.write(to_text(self.expression.evaluate(context)))


class StudioOutput(Output):
    node_class = _StudioOutputNode


class StudioEnvironment(Environment):
    loop_iteration_limit = LOOP_LIMIT
    output_stream_limit = OUTPUT_LIMIT
    local_namespace_limit = 1024 * 1024  # bytes held by {% assign %}/{% capture %}


# --------------------------------------------------------------------------- comparisons

_NUMERIC_TEXT = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*")
_ORIGINAL = (_logical._eq, _logical._lt, _logical._le)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _numbers(left: object, right: object) -> tuple[Any, Any] | None:
    """Both sides as numbers when one is a number and the other a numeric string."""
    for a, b, swap in ((left, right, False), (right, left, True)):
        if _is_number(a) and isinstance(b, str) and _NUMERIC_TEXT.fullmatch(b):
            other = Decimal(b.strip())
            mine = a if isinstance(a, Decimal) else Decimal(str(a))
            return (other, mine) if swap else (mine, other)
    return None


def _unwrap(value: object) -> object:
    liquid = getattr(value, "__liquid__", None)
    return liquid() if callable(liquid) else value


def _studio_eq(left: object, right: object) -> bool:
    pair = _numbers(_unwrap(left), _unwrap(right))
    if pair is not None:
        return bool(pair[0] == pair[1])
    return bool(_ORIGINAL[0](left, right))


def _studio_lt(token: Any, left: object, right: object) -> bool:
    pair = _numbers(_unwrap(left), _unwrap(right))
    if pair is not None:
        return bool(pair[0] < pair[1])
    try:
        return bool(_ORIGINAL[1](token, left, right))
    except (LiquidTypeError, TypeError):
        return False  # values that cannot be ordered: the comparison is false


def _studio_le(left: object, right: object) -> bool:
    pair = _numbers(_unwrap(left), _unwrap(right))
    if pair is not None:
        return bool(pair[0] <= pair[1])
    try:
        return bool(_ORIGINAL[2](left, right))
    except (LiquidTypeError, TypeError):
        return False


def install_comparisons() -> None:
    """Make python-liquid's ``==``/``!=``/``<``/``>``/``<=``/``>=`` and ``case/when``
    compare as Studio does (see the module docstring). python-liquid looks these
    functions up in its modules at render time and offers no per-environment hook, so
    they are replaced there, once; Callboard is the only user of python-liquid in the
    process."""
    _logical._eq = _studio_eq
    _logical._lt = _studio_lt
    _logical._le = _studio_le
    setattr(_case_tag, "_eq", _studio_eq)  # noqa: B010 (the module does not export it)


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
