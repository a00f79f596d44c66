"""The 17 operators of Split Based On, as a pure, table-driven module.

``evaluate(operator, subject, value)`` answers one condition: ``subject`` is the rendered
input being tested, ``value`` the rendered value from the condition. Studio's rules:

* Every comparison is **case-insensitive** and both sides are **trimmed** first.
* ``matches_any_of`` / ``does_not_match_any_of``: ``value`` is a comma-separated list;
  each entry is trimmed and empty entries are ignored (``"yes, yeah ,yup"``).
* ``is_blank`` / ``is_not_blank``: empty or whitespace-only; ``value`` is ignored (the
  editor stores a placeholder such as ``"Is Blank"``).
* ``regex``: no surrounding slashes, case-insensitive, must match the **whole** subject
  (``6`` does not match ``[1-5]``). Matching runs on RE2 (``google-re2``), whose time is
  linear in the subject, so no pattern can make a message freeze the server (``(a+)+$``
  on a long text answers at once). Validation uses Python's ``re`` dialect, which agrees
  with the Java/JavaScript one for everything Studio flows use; an invalid pattern never
  matches and :func:`check_value` reports it. A valid pattern RE2 cannot run
  (backreferences such as ``(a)\\1``, look-around) never matches either: the split warns
  about it on the step (:func:`regex_unsupported` says why).
* ``less_than`` / ``greater_than``: numbers only (``900 > 1000`` is false). When either
  side is not a number the condition is false.
* ``is_before_date`` / ``is_after_date``: ``YYYY-MM-DD``; ``is_before_time`` /
  ``is_after_time``: ``HH:MM`` on a 24-hour clock. Both zero-padded; malformed input on
  either side makes the condition false. ``is_before_time(subject, value)`` means
  subject < value (``17:00`` is not before ``16:35``).
* The negated operators (``not_equal_to``, ``does_not_*``) are the exact negation of
  their positive forms.

An operator not in the table raises :class:`UnknownOperator`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import re2  # type: ignore[import-untyped]

__all__ = [
    "OPERATORS",
    "Operator",
    "UnknownOperator",
    "check_value",
    "evaluate",
    "label",
    "regex_error",
    "regex_unsupported",
]


Predicate = Callable[[str, str], bool]


class UnknownOperator(ValueError):
    """A condition ``type`` that is not one of Studio's operators."""

    def __init__(self, operator: str) -> None:
        super().__init__(
            f"unknown Split Based On operator {operator!r}; expected one of: "
            + ", ".join(OPERATORS)
        )
        self.operator = operator


def _fold(text: str) -> str:
    return text.strip().casefold()


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TIME = re.compile(r"(\d{2}):(\d{2})")


def _number(text: str) -> float | None:
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        return None
    return float(text)


def _date(text: str) -> date | None:
    m = _DATE.fullmatch(text.strip())
    if m is None:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _time(text: str) -> int | None:
    """Minutes since midnight."""
    m = _TIME.fullmatch(text.strip())
    if m is None:
        return None
    hours, minutes = int(m[1]), int(m[2])
    if hours > 23 or minutes > 59:
        return None
    return hours * 60 + minutes


@lru_cache(maxsize=512)
def _compile(pattern: str) -> re.Pattern[str] | str:
    """The compiled pattern (Python's dialect, for validation), or the error message."""
    try:
        return re.compile(pattern, re.IGNORECASE)
    except (re.error, RecursionError, OverflowError) as exc:
        return str(exc)


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.case_sensitive = False
_RE2_OPTIONS.log_errors = False


@lru_cache(maxsize=512)
def _compile_linear(pattern: str) -> Any:
    """The RE2 program for ``pattern``, or the reason RE2 cannot run it (a str)."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except Exception as exc:  # re2.error, and its C++ parser's errors
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        return str(detail)


def regex_error(pattern: str) -> str | None:
    """Why ``pattern`` is not a valid ``regex`` value, or None when it is."""
    compiled = _compile(pattern.strip())
    return compiled if isinstance(compiled, str) else None


def regex_unsupported(pattern: str) -> str | None:
    """Why a valid ``pattern`` cannot be matched in linear time (backreferences,
    look-around), or None. Such a condition never matches."""
    if regex_error(pattern) is not None:
        return None
    compiled = _compile_linear(pattern.strip())
    return compiled if isinstance(compiled, str) else None


def _any_of(value: str) -> list[str]:
    return [e for e in (_fold(part) for part in value.split(",")) if e]


def _equal(s: str, v: str) -> bool:
    return _fold(s) == _fold(v)


def _matches_any(s: str, v: str) -> bool:
    return _fold(s) in _any_of(v)


def _blank(s: str, v: str) -> bool:
    return s.strip() == ""


def _regex(s: str, v: str) -> bool:
    if regex_error(v) is not None:
        return False
    compiled = _compile_linear(v.strip())
    if isinstance(compiled, str):
        return False
    return compiled.fullmatch(s.strip()) is not None


def _contains(s: str, v: str) -> bool:
    return _fold(v) in _fold(s)


def _starts(s: str, v: str) -> bool:
    return _fold(s).startswith(_fold(v))


def _compare(parse: Callable[[str], float | int | date | None], less: bool) -> Predicate:
    def predicate(s: str, v: str) -> bool:
        a, b = parse(s), parse(v)
        if a is None or b is None:
            return False
        return a < b if less else a > b  # type: ignore[operator]

    return predicate


def _negate(p: Predicate) -> Predicate:
    def predicate(s: str, v: str) -> bool:
        return not p(s, v)

    return predicate


@dataclass(frozen=True, slots=True)
class Operator:
    """One operator: its JSON ``type``, editor label, and whether it uses ``value``."""

    name: str
    label: str
    test: Predicate
    uses_value: bool = True
    value_kind: str = "text"  # text | list | regex | number | date | time


_TABLE: tuple[Operator, ...] = (
    Operator("equal_to", "Equal To", _equal),
    Operator("not_equal_to", "Not Equal To", _negate(_equal)),
    Operator("matches_any_of", "Matches Any Of", _matches_any, value_kind="list"),
    Operator(
        "does_not_match_any_of", "Does Not Match Any Of", _negate(_matches_any), value_kind="list"
    ),
    Operator("is_blank", "Is Blank", _blank, uses_value=False),
    Operator("is_not_blank", "Is Not Blank", _negate(_blank), uses_value=False),
    Operator("regex", "Regex", _regex, value_kind="regex"),
    Operator("contains", "Contains", _contains),
    Operator("does_not_contain", "Does Not Contain", _negate(_contains)),
    Operator("starts_with", "Starts With", _starts),
    Operator("does_not_start_with", "Does Not Start With", _negate(_starts)),
    Operator("less_than", "Less Than", _compare(_number, less=True), value_kind="number"),
    Operator("greater_than", "Greater Than", _compare(_number, less=False), value_kind="number"),
    Operator("is_before_time", "Is Before Time", _compare(_time, less=True), value_kind="time"),
    Operator("is_after_time", "Is After Time", _compare(_time, less=False), value_kind="time"),
    Operator("is_before_date", "Is Before Date", _compare(_date, less=True), value_kind="date"),
    Operator("is_after_date", "Is After Date", _compare(_date, less=False), value_kind="date"),
)

_BY_NAME: dict[str, Operator] = {op.name: op for op in _TABLE}

OPERATORS: dict[str, str] = {op.name: op.label for op in _TABLE}
"""Operator ``type`` strings (Studio's order) mapped to their editor labels."""


def _get(operator: str) -> Operator:
    op = _BY_NAME.get(operator)
    if op is None:
        raise UnknownOperator(operator)
    return op


def evaluate(operator: str, subject: str, value: str) -> bool:
    """Whether ``subject`` satisfies ``operator`` with ``value`` (both already rendered).

    Raises :class:`UnknownOperator` for an operator Studio does not have."""
    return _get(operator).test(subject, value)


def label(operator: str) -> str:
    """The editor label of an operator (raises :class:`UnknownOperator`)."""
    return _get(operator).label


_FORMAT_HELP = {
    "number": "a number",
    "date": "a date written YYYY-MM-DD",
    "time": "a time written HH:MM (24-hour clock)",
}


def check_value(operator: str, value: str) -> str | None:
    """Why a literal ``value`` can never work with ``operator`` (invalid regex, a
    non-number for ``less_than``, a malformed date or time), or None. Values holding
    Liquid (``{{``/``{%``) are only known at run time and are not checked.

    Raises :class:`UnknownOperator` for an operator Studio does not have."""
    op = _get(operator)
    if not op.uses_value or "{{" in value or "{%" in value:
        return None
    if op.value_kind == "regex":
        error = regex_error(value)
        return f"invalid regular expression {value.strip()!r}: {error}" if error else None
    parse: Callable[[str], object] | None = {
        "number": _number,
        "date": _date,
        "time": _time,
    }.get(op.value_kind)
    if parse is not None and parse(value) is None:
        return f"{value.strip()!r} is not {_FORMAT_HELP[op.value_kind]}"
    return None
