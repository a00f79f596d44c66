"""Liquid templating with Studio's context and limits, on python-liquid 2.

:func:`render_template` renders one property value against an execution context
(``trigger``, ``widgets``, ``flow``, ``contact``); :func:`check_template` is the
render-free check (syntax errors, unknown filters) the editor and the validator use.

Studio's rules and how Callboard applies them:

* **Namespaces.** The context is handed to Liquid as it is, so ``trigger.*``,
  ``widgets.<name>.*``, ``flow.data``, ``flow.variables``, ``flow.channel.address``,
  ``flow.flow_sid``, ``flow.sid`` and ``contact.channel.address`` resolve directly.
  Widget names with hyphens work unquoted (``{{widgets.get-convo-name.parsed.name}}``),
  as in Studio exports; ``widgets['get-convo-name']`` works too.
  Liquid keywords used as keys after a dot (``parsed.limit``, ``data.in``) are read as
  keys, as Studio does (python-liquid alone would reject them).
* **Missing values** (unknown keys, indexes out of range) render as an empty string.
* **Comparisons**: a number and a string that reads as a number compare as numbers
  (``{% if trigger.message.Body > 5 %}``, ``"10" == 10``, ``case``/``when``); ordering
  values that cannot be ordered (``"abc" > 5``) is false, never an error.
* **Errors** (syntax errors, unknown tags or filters, a ``+`` in an expression, ...)
  raise :class:`TemplateError` with a one-line message naming the line and column; the
  engine turns it into warning 81018 and the field renders as an empty string. Nothing
  but :class:`TemplateError` ever leaves :func:`render_template`.
* **Filters**: Liquid's standard filters, plus Studio's ``to_json`` (compact JSON of any
  value; a missing value gives ``null``). An object or an array printed with ``{{ }}``,
  joined, or given to a string filter is written as compact JSON too (Studio prints
  JSON), never in a Python-specific form; ``true``/``false`` print in lower case.
* **Dates**: ``'now'`` and ``'today'`` in the ``date`` filter are the execution's
  injected clock (``now``), converted to :data:`TIMEZONE`. Studio's help centre says
  Liquid dates use Pacific time, so the default is ``America/Los_Angeles``; change it
  with :func:`set_timezone` (process-wide) or per call with ``tz=``. Integer (epoch)
  inputs are shown in the same zone; date strings keep the zone they carry.
* **Output limit**: a rendered template longer than 16 KB (16,384 bytes of UTF-8) is an
  error (:class:`TemplateError`), not a truncation.
* **Loop limit**: Studio allows 15 loop iterations. python-liquid checks the limit when a
  ``for`` (or ``tablerow``) loop starts, against the loop's length after ``limit:`` and
  ``offset:`` -- multiplied by the lengths of the enclosing loops. So a loop over 16 items
  is an error *before its first iteration* (the whole field renders empty with warning
  81018); it is never silently truncated. Use ``limit: 15`` to loop over the first 15
  items of a longer array.
* **Fast paths**: a string without ``{`` is returned as it is; a template that is exactly
  one plain variable (``{{flow.variables.n}}``) is resolved directly, with the same result
  Liquid gives; a template of text and ``{{ }}`` outputs, with or without filters
  (``Hi {{trigger.message.Body | upcase}}``), is rendered by
  :mod:`callboard.flow.liquid_fast`, with the same result too.
* **Caching**: compiled templates (and parse errors) are kept in the ``cache`` dict the
  caller passes -- one per flow revision -- under the key :data:`CACHE_KEY`, keyed by
  source, so every template is parsed once per revision.

Studio's dialect (JSON output, ``to_json``, keyword keys, the limits, error messages) is
in :mod:`callboard.flow.liquid_dialect`; this module holds the clock and time zone (the
``date`` filter), parsing, the fast path and the cache, and the API.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import parser as date_parser  # type: ignore[import-untyped]
from liquid import Environment
from liquid.exceptions import OutputStreamLimitError
from liquid.filter import liquid_filter
from liquid.template import BoundTemplate
from liquid.undefined import is_undefined

from callboard.flow.liquid_dialect import (
    KEYWORDS,
    LOOP_LIMIT,
    MAX_TEMPLATE,
    MAX_UNCLOSED,
    OUTPUT_LIMIT,
    StudioEnvironment,
    StudioOutput,
    TemplateError,
    error_message,
    install_comparisons,
    json_text_filters,
    quote_keyword_segments,
    to_json,
    to_text,
    unclosed_openings,
)
from callboard.flow.liquid_fast import FastTemplate, compile_fast

__all__ = [
    "CACHE_KEY",
    "LOOP_LIMIT",
    "MAX_TEMPLATE",
    "MAX_UNCLOSED",
    "OUTPUT_LIMIT",
    "TIMEZONE",
    "TemplateError",
    "check_template",
    "render_template",
    "set_timezone",
    "to_text",
    "unclosed_openings",
]

DEFAULT_TIMEZONE = "America/Los_Angeles"

TIMEZONE: tzinfo = ZoneInfo(DEFAULT_TIMEZONE)
"""The zone ``'now'`` is shown in by the ``date`` filter (see :func:`set_timezone`)."""

CACHE_KEY = "liquid"
"""Key of the compiled-template table inside a revision's ``caches`` dict."""

MAX_CACHED = 20_000  # templates per revision; beyond that, parse without caching


def set_timezone(name: str) -> None:
    """Set the zone ``'now'`` is shown in (an IANA name, e.g. ``"UTC"``,
    ``"America/Los_Angeles"``). Raises ``ValueError`` for an unknown zone."""
    global TIMEZONE
    TIMEZONE = _zone(name)


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"unknown time zone {name!r}") from exc


# --------------------------------------------------------------------------- dates

_NOW: ContextVar[datetime | None] = ContextVar("callboard_liquid_now", default=None)
_TZ: ContextVar[tzinfo | None] = ContextVar("callboard_liquid_tz", default=None)


def _current_tz() -> tzinfo:
    return _TZ.get() or TIMEZONE


@liquid_filter
def _date(value: Any, fmt: Any = None) -> str:
    """The standard ``date`` filter, with ``'now'`` taken from the injected clock."""
    if is_undefined(value) or value is None:
        return ""
    if is_undefined(fmt) or fmt is None:
        return to_text(value)
    when: datetime | None
    if isinstance(value, str) and value.strip().lower() in ("now", "today"):
        when = (_NOW.get() or datetime.now(UTC)).astimezone(_current_tz())
    else:
        when = _to_datetime(value)
    if when is None:
        return to_text(value)  # what Liquid does with input it cannot read as a date
    fmt = str(fmt)
    if "%s" in fmt:
        fmt = fmt.replace("%%", "\x00").replace("%s", str(int(when.timestamp())))
        fmt = fmt.replace("\x00", "%%")
    try:
        return when.strftime(fmt)
    except ValueError as exc:
        raise TemplateError(f"date: bad format {fmt!r}: {exc}") from None


def _to_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        try:
            return datetime.fromtimestamp(float(value), _current_tz())
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return _to_datetime(int(text))
        try:
            parsed: datetime = date_parser.parse(text)
        except (ValueError, OverflowError, date_parser.ParserError):
            return None
        return parsed
    return None


def _make_env() -> Environment:
    install_comparisons()
    env = StudioEnvironment(strict_filters=True)
    env.add_tag(StudioOutput)
    env.add_filter("to_json", to_json)
    env.add_filter("date", _date)
    json_text_filters(env)
    return env


_ENV = _make_env()


# --------------------------------------------------------------------------- API


def _parse(source: str) -> BoundTemplate:
    if len(source) > MAX_TEMPLATE:
        raise TemplateError(f"template is longer than {MAX_TEMPLATE // 1024} KB")
    if unclosed_openings(source) > MAX_UNCLOSED:
        raise TemplateError(f"more than {MAX_UNCLOSED} '{{{{' or '{{%' are never closed")
    try:
        return _ENV.from_string(quote_keyword_segments(source))
    except Exception as exc:
        raise TemplateError(error_message(exc)) from None


_SIMPLE = re.compile(r"\{\{\s*([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)\s*\}\}")
_NOT_SIMPLE = frozenset({"size", "first", "last", *KEYWORDS.split("|")})


class _Lookup:
    """A template that is exactly one plain variable, ``{{ a.b.c }}``: resolved without
    Liquid (the most common template in Studio flows), with Liquid's result."""

    __slots__ = ("path",)

    def __init__(self, path: tuple[str, ...]) -> None:
        self.path = path

    def render(self, context: Mapping[str, Any]) -> str:
        value: Any = context
        for key in self.path:
            if type(value) is not dict and not isinstance(value, Mapping):
                return ""
            value = value.get(key)
            if value is None:
                return ""
        text = to_text(value)
        if len(text) * 4 > OUTPUT_LIMIT and len(text.encode("utf-8")) > OUTPUT_LIMIT:
            raise TemplateError(error_message(OutputStreamLimitError("", token=None)))
        return text


def _simple(source: str) -> _Lookup | None:
    m = _SIMPLE.fullmatch(source)
    if m is None:
        return None
    path = tuple(m[1].split("."))
    if path[0] in _NOT_SIMPLE or any(seg in ("size", "first", "last") for seg in path):
        return None
    return _Lookup(path)


_Compiled = BoundTemplate | _Lookup | FastTemplate


def _compile(source: str) -> _Compiled:
    """The quickest form of ``source`` that renders as Liquid does (see the fast paths)."""
    simple = _simple(source)
    if simple is not None:
        return simple
    template = _parse(source)
    return compile_fast(template, StudioOutput.node_class, _ENV) or template


def _compiled(source: str, cache: dict[str, Any] | None) -> _Compiled:
    if cache is None:
        return _simple(source) or _parse(source)
    table = cache.get(CACHE_KEY)
    if table is None:
        table = cache.setdefault(CACHE_KEY, {})
    entry = table.get(source)
    if entry is None:
        try:
            entry = _compile(source)
        except TemplateError as exc:
            entry = exc
        if len(table) < MAX_CACHED:
            table[source] = entry
    if isinstance(entry, TemplateError):
        raise TemplateError(str(entry))
    template: _Compiled = entry
    return template


def render_template(
    source: str,
    context: Mapping[str, Any],
    *,
    now: datetime,
    cache: dict[str, Any] | None = None,
    tz: tzinfo | str | None = None,
) -> str:
    """Render ``source`` against ``context``.

    ``now`` is the execution's clock (what ``'now' | date: ...`` shows), ``cache`` the
    flow revision's cache dict, ``tz`` the zone for ``'now'`` (default :data:`TIMEZONE`).
    Raises :class:`TemplateError` -- and nothing else -- when the template is invalid or
    exceeds a limit.
    """
    if "{" not in source:
        return source
    template = _compiled(source, cache)
    try:
        if isinstance(template, _Lookup):
            return template.render(context)
        zone = _zone(tz) if isinstance(tz, str) else tz  # a bad zone is an error
        if isinstance(template, FastTemplate):
            text = template.render(context)
            if text is not None:
                return text
            template = template.template
        now_token = _NOW.set(now)
        tz_token = _TZ.set(zone)
        try:
            return template.render(context)
        finally:
            _TZ.reset(tz_token)
            _NOW.reset(now_token)
    except TemplateError:
        raise
    except Exception as exc:  # every failure becomes a TemplateError
        raise TemplateError(error_message(exc)) from None


def check_template(source: str) -> str | None:
    """Check ``source`` without rendering it: the error message (a syntax error or an
    unknown filter), or None when it is valid Liquid."""
    if "{" not in source:
        return None
    try:
        template = _parse(source)
    except TemplateError as exc:
        return str(exc)
    try:
        used = template.analyze(include_partials=False).filters
    except Exception:
        return None
    for name, spans in used.items():
        if name not in _ENV.filters:
            where = ""
            if spans:
                before = source[: spans[0].index]
                line = before.count("\n") + 1
                column = len(before) - (before.rfind("\n") + 1) + 1
                where = f" (line {line}, column {column})"
            return f"unknown filter {name!r}{where}"
    return None
