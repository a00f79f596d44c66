"""The fast path (:mod:`callboard.flow.liquid_fast`) gives python-liquid's result."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from callboard.flow import liquid
from callboard.flow.liquid import CACHE_KEY, TemplateError, render_template
from callboard.flow.liquid_fast import FastTemplate

NOW = datetime(2026, 1, 1, 7, 30, tzinfo=UTC)
FLOWS = Path(__file__).resolve().parents[2] / ".." / "shared" / "studio-flows"

KEYS = ["a", "b", "Body", "get-convo", "size", "first", "last", "limit", "é", "0"]
ROOTS = ["flow", "trigger", "widgets", "x", "now", "today", "partial", "template"]

_atoms = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, width=32).filter(math.isfinite),
    st.sampled_from(["", " pad ", "hello new", "+15551234567", "10", "2.50", "é ü", "a,b"]),
    st.text(max_size=8),
)
_values = st.recursive(
    _atoms,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)
# ``now`` and ``today`` are always given: python-liquid reads the wall clock otherwise
_contexts = st.builds(
    lambda d, now, today: {"now": now, "today": today, **d},
    st.dictionaries(st.sampled_from(ROOTS), _values, max_size=5),
    _values,
    _values,
)

_segments = st.one_of(
    st.sampled_from(KEYS[:-2]).map(lambda k: "." + k),
    st.sampled_from(KEYS).map(lambda k: f"['{k}']"),
    st.integers(-3, 3).map(lambda i: f"[{i}]"),
)
_paths = st.builds(
    lambda root, segs: root + "".join(segs),
    st.sampled_from(ROOTS[:4] * 5 + ROOTS[4:]),  # built-in roots keep python-liquid
    st.lists(_segments, max_size=4),
)
_literals = st.sampled_from(
    ["'str'", '"x y"', "'a\\'b'", "12", "-3", "0", "1.5", "-0.25", "true", "false", "nil"]
)
_operands = st.one_of(_paths, _paths, _literals)


def _filter(name: str, args: list[str]) -> str:
    return f"{name}: {', '.join(args)}" if args else name


_FILTERS = st.one_of(
    st.sampled_from(
        [
            "upcase",
            "downcase",
            "capitalize",
            "strip",
            "size",
            "first",
            "last",
            "to_json",
            "escape",
            "url_encode",
            "abs",
            "ceil",
            "reverse",
            "sort",
            "uniq",
            "compact",
            "json",  # unknown: python-liquid's error
            "date: '%Y'",  # the slow path (the clock)
            "default: 'none', allow_false: true",
            "split: ','",
            "join: '-'",
            "truncate: 3",
        ]
    ),
    st.builds(
        _filter,
        st.sampled_from(
            ["append", "prepend", "plus", "minus", "times", "divided_by", "modulo", "default"]
        ),
        st.lists(_operands, min_size=1, max_size=1),
    ),
    st.builds(_filter, st.just("slice"), st.lists(st.integers(-5, 5).map(str), max_size=2)),
    st.builds(_filter, st.sampled_from(["replace", "remove"]), st.lists(_operands, max_size=2)),
)


def _output(left_trim: bool, operand: str, filters: list[str], right_trim: bool, pad: str) -> str:
    body = " | ".join([operand, *filters])
    return "{{" + ("-" if left_trim else "") + pad + body + pad + ("-" if right_trim else "") + "}}"


_outputs = st.builds(
    _output,
    st.booleans(),
    _operands,
    st.lists(_FILTERS, max_size=3),
    st.booleans(),
    st.sampled_from(["", " ", "\n"]),
)
_texts = st.text(alphabet=" \n\tabcé}%-,.", max_size=6)
_simple_operands = st.one_of(_paths, _paths, st.sampled_from(["'str'", "12", "1.5", "true", "nil"]))
_comparisons = st.builds(
    lambda left, op, right: f"{left} {op} {right}" if op else left,
    _simple_operands,
    st.sampled_from(["", "==", "!=", "<", ">", "<=", ">=", "contains", "=="]),
    st.one_of(_simple_operands, st.sampled_from(["empty", "blank", "'new'", "10", "'10'"])),
)
_conditions = st.builds(
    lambda first, rest, negate: ("not " if negate else "") + first + "".join(rest),
    _comparisons,
    st.lists(
        st.builds(lambda op, c: f" {op} {c}", st.sampled_from(["and", "or"]), _comparisons),
        max_size=2,
    ),
    st.sampled_from([False] * 9 + [True]),  # python-liquid refuses ``not``
)
_bodies = st.lists(st.one_of(_outputs, _texts), min_size=1, max_size=2).map("".join)


def _if_block(
    first: tuple[str, str], more: list[tuple[str, str]], default: str | None, trim: bool
) -> str:
    dash = "-" if trim else ""
    out = "{%" + dash + f" if {first[0]} " + dash + "%}" + first[1]
    for condition, body in more:
        out += "{% elsif " + condition + " %}" + body
    if default is not None:
        out += "{% else %}" + default
    return out + "{%" + dash + " endif " + dash + "%}"


_branch = st.tuples(_conditions, _bodies)
_ifs = st.builds(
    _if_block,
    _branch,
    st.lists(_branch, max_size=2),
    st.one_of(st.none(), _bodies),
    st.booleans(),
)
_templates = st.lists(st.one_of(_outputs, _texts, _ifs), min_size=1, max_size=5).map("".join)


def _full(source: str, context: dict[str, Any]) -> str | type[TemplateError]:
    """python-liquid's result, or TemplateError (no cache: the fast paths are not used
    but for a single plain variable)."""
    try:
        return render_template(source, context, now=NOW)
    except TemplateError:
        return TemplateError


def _fast(source: str, context: dict[str, Any]) -> str | type[TemplateError]:
    try:
        return render_template(source, context, now=NOW, cache={})
    except TemplateError:
        return TemplateError


@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(_templates, _contexts)
@example("Hi …{{flow.variables.who}}, you said {{flow.variables.said}}", {})
@example("{{ now | upcase }}{{partial}}", {"now": "n", "partial": 1})
@example("{{x.size}}{{x.first}}{{x.last}}", {"x": {"size": 1, "first": 2, "last": 3}})
@example("{{x.size}}{{x.first}}{{x.last}}", {"x": [1, 2]})
@example("{{ x | append: x }}", {"x": "é" * 3000})
@example("{% if x contains 1 %}a{% endif %}", {"x": 5})
@example("{% if x > 'a' %}a{% else %}b{% endif %}", {"x": 5})
@example("{% if x == '10' %}a{% endif %}{% if y %}b{% endif %}", {"x": 10})
def test_fast_path_gives_python_liquids_result(source: str, context: dict[str, Any]) -> None:
    assert _fast(source, context) == _full(source, context)


@settings(max_examples=300, deadline=None)
@given(_templates, _contexts)
def test_fast_template_matches_the_template_it_was_compiled_from(
    source: str, context: dict[str, Any]
) -> None:
    try:
        entry = liquid._compile(source)
    except TemplateError:
        return
    if not isinstance(entry, FastTemplate):
        return
    fast = entry.render(context)
    if fast is None:
        return
    assert fast == entry.template.render(context)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{contact.channel.address | slice: -4, 4}}", "4567"),
        ("{{trigger.message.Body | upcase}}", "HELLO NEW"),
        ("Hi …{{flow.variables.who}}, you said {{flow.variables.said}}", "Hi …4567, you said HI"),
        ("{{ flow.variables.n | plus: flow.variables.n }}!", "4!"),
        ("a {{- flow.variables.missing -}} b", "ab"),
        (
            "{{flow.variables.obj}} {{flow.variables.t}} {{flow.variables.none}}.",
            '{"k":[1]} true .',
        ),
        ("{{ 'x' | append: \"y\" }}{{ 20 | times: 20 }}", "xy400"),
        ("{% raw %}{{x}}{% endraw %}{{ flow.variables.said }}", "{{x}}HI"),
        (
            "{% if trigger.message.Body contains 'new' %}new{% else %}old{% endif %}",
            "new",
        ),
        ("{% if flow.variables.n > 1 and flow.variables.x == nil %}{{ 1 }}{% endif %}", "1"),
        ("{%- if flow.variables.t -%} yes {%- elsif x %}x{% endif -%}.", "yes."),
    ],
)
def test_common_shapes_take_the_fast_path(source: str, expected: str) -> None:
    context = {
        "contact": {"channel": {"address": "+15551234567"}},
        "trigger": {"message": {"Body": "hello new"}},
        "flow": {
            "variables": {
                "who": "4567",
                "said": "HI",
                "n": 2,
                "obj": {"k": [1]},
                "t": True,
                "none": None,
            }
        },
    }
    cache: dict[str, Any] = {}
    assert render_template(source, context, now=NOW, cache=cache) == expected
    entry = cache[CACHE_KEY][source]
    assert isinstance(entry, FastTemplate)
    assert entry.render(context) == expected


@pytest.mark.parametrize(
    "source",
    [
        "{% if a %}  {% endif %}",
        "{% if a[b.c] %}x{% endif %}",
        "{% unless a %}x{% endunless %}",
        "{% for x in a %}x{% endfor %}",
        "{{ 'now' | date: '%Y' }}",
        "{{ a[b.c] }}",
        "{{ (1..3) }}",
        "{{ now | upcase }}x",
        "{{ today }}x",
    ],
)
def test_tags_and_the_clock_stay_on_python_liquid(source: str) -> None:
    cache: dict[str, Any] = {}
    render_template(source, {"a": 1}, now=NOW, cache=cache)
    assert not isinstance(cache[CACHE_KEY][source], FastTemplate)


def test_a_bad_time_zone_is_an_error_on_the_fast_path_too() -> None:
    source = "Hi {{ x | upcase }}"
    with pytest.raises(TemplateError, match="Nowhere/Land"):
        render_template(source, {"x": "a"}, now=NOW, cache={}, tz="Nowhere/Land")
    with pytest.raises(TemplateError, match="Nowhere/Land"):
        render_template(source, {"x": "a"}, now=NOW, tz="Nowhere/Land")


def test_no_cache_no_fast_template() -> None:
    assert not isinstance(liquid._compiled("{{ a | upcase }}", None), FastTemplate)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_every_template_of_the_real_exports_renders_as_python_liquid_does() -> None:
    if not FLOWS.is_dir():
        pytest.skip("../shared/studio-flows is not available")
    sources = {
        text
        for path in sorted(FLOWS.glob("*.json"))
        for text in _strings(json.loads(path.read_text())["states"])
        if "{" in text
    }
    contexts: list[dict[str, Any]] = [
        {},
        {
            "contact": {"channel": {"address": "+15550001"}},
            "trigger": {"message": {"Body": " Yes ", "From": "+15550001"}, "call": {}},
            "widgets": {"gather": {"Digits": "1", "SpeechResult": "yes"}},
            "flow": {"data": {"name": "Ann"}, "variables": {"count": 3, "none": None}},
        },
    ]
    fast = 0
    for source in sources:
        for context in contexts:
            assert _fast(source, context) == _full(source, context), source
        fast += isinstance(liquid._compiled(source, {}), FastTemplate)
    assert fast > 50  # most of them take the fast path
