"""Split Based On...: branch on a value.

The widget has one ``noMatch`` transition and any number of ``match`` transitions, each
carrying ``conditions`` (``friendly_name``, ``arguments``, ``type``, ``value``). The
editor labels a ``match`` handle with its first condition's ``friendly_name``.

How a split runs:

* **Subject.** Each condition tests its own ``arguments[0]`` when present and not empty,
  else the widget's ``input`` property (in every Studio export ``arguments`` is ``[input]``, so
  both give the same text; reading ``arguments[0]`` keeps flows edited by hand working
  the way their conditions read). Each distinct subject template is rendered once.
* **Value.** The condition's ``value`` is rendered with Liquid too (exports use
  ``{{widgets.http.parsed.sites.size}}``); ``is_blank``/``is_not_blank`` ignore it.
* **Operators.** See :mod:`callboard.flow.conditions` (17 operators, case-insensitive,
  trimmed).
* **Choice.** ``match`` transitions are tried in the order they are listed; the first
  whose conditions *all* hold (several conditions in one transition are AND-ed) is taken
  -- that exact transition, even when several ``match`` transitions exist. A ``match``
  transition without conditions never matches. When none matches the split takes
  ``noMatch``; if ``noMatch`` leads nowhere the execution ends with warning 81005.
* **Problems** (an unknown operator, an invalid regular expression) are reported as
  warning 81005 naming the transition, and that condition counts as not matching.

The widget sets no variables.
"""

from __future__ import annotations

from typing import Any

from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Widget
from callboard.flow.conditions import (
    OPERATORS,
    UnknownOperator,
    evaluate,
    regex_error,
    regex_unsupported,
)
from callboard.flow.model import Condition, Transition

__all__ = ["WIDGET", "SplitBasedOn"]

NO_MATCH_WARNING = 81005
_NO_VALUE = frozenset({"is_blank", "is_not_blank"})


class SplitBasedOn(Widget):
    type = "split-based-on"
    label = "Split Based On..."
    group = "Flow Control"
    description = (
        "Tests a value against conditions and follows the first matching transition, "
        "or No Condition Matches."
    )
    events = (
        EventSpec("noMatch", "No Condition Matches"),
        EventSpec("match", "Condition Matches"),
    )
    repeatable_events = ("match",)
    props = (
        OFFSET,
        Prop(
            "input",
            required=True,
            editor="liquid",
            label="Variable to test",
            help="The value the conditions test, usually a Liquid variable such as "
            "{{widgets.gather_1.Digits}}. Operators: " + ", ".join(OPERATORS.values()) + ".",
        ),
    )

    def start(self, run: Run) -> Outcome:
        subjects: dict[str, str] = {}
        for i, transition in enumerate(run.state.transitions):
            if transition.event != "match" or not transition.conditions:
                continue
            if _matches(run, i, transition, subjects):
                return Done("match", transition_index=i)
        no_match = run.state.transition("noMatch")
        if no_match is None or no_match.next is None:
            run.warn(
                NO_MATCH_WARNING,
                f"No matching transition found in {run.state.name}: no condition matched "
                "and No Condition Matches is not connected, so the execution ends",
            )
        return Done("noMatch")


def _matches(run: Run, i: int, transition: Transition, subjects: dict[str, str]) -> bool:
    for j, condition in enumerate(transition.conditions):
        where = f"transitions.{i}.conditions.{j}"
        if not _holds(run, where, condition, subjects):
            return False
    return True


def _holds(run: Run, where: str, condition: Condition, subjects: dict[str, str]) -> bool:
    if condition.arguments and condition.arguments[0]:
        template, place = condition.arguments[0], f"{where}.arguments.0"
    else:
        template, place = _text(run.prop("input")), "properties.input"
    subject = subjects.get(template)
    if subject is None:
        subject = run.render_text(template, place)
        subjects[template] = subject
    operator = condition.type
    value = "" if operator in _NO_VALUE else run.render_text(condition.value, f"{where}.value")
    name = condition.friendly_name or where
    if operator == "regex":
        error = regex_error(value)
        if error is not None:
            run.warn(
                NO_MATCH_WARNING,
                f"Condition {name!r} ({where}) has an invalid regular expression "
                f"{value.strip()!r}: {error}; it does not match",
            )
            return False
        unsupported = regex_unsupported(value)
        if unsupported is not None:
            run.warn(
                NO_MATCH_WARNING,
                f"Condition {name!r} ({where}): the regular expression {value.strip()!r} "
                f"needs backtracking, which Callboard does not run ({unsupported}); "
                "it does not match",
            )
            return False
    try:
        return evaluate(operator, subject, value)
    except UnknownOperator as exc:
        run.warn(NO_MATCH_WARNING, f"Condition {name!r} ({where}): {exc}; it does not match")
        return False


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


WIDGET = SplitBasedOn()
