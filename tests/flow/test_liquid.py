from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callboard.flow import liquid
from callboard.flow.liquid import (
    CACHE_KEY,
    LOOP_LIMIT,
    OUTPUT_LIMIT,
    TemplateError,
    check_template,
    render_template,
    set_timezone,
)

NOW = datetime(2026, 1, 1, 7, 30, tzinfo=UTC)  # 2025-12-31 23:30 in Los Angeles
FLOWS = Path(__file__).resolve().parents[2] / ".." / "shared" / "studio-flows"


def context() -> dict[str, Any]:
    return {
        "contact": {"channel": {"address": "+15550001"}},
        "trigger": {"message": {"Body": "  Hello There ", "From": "+15550001"}},
        "widgets": {
            "get-convo-name": {"parsed": {"name": "Ann"}},
            "http_1": {
                "parsed": {"sites": [{"name": "A"}, {"name": "B"}], "obj": {"k": [1, "é"]}},
                "body": "raw",
            },
            "many": {"items": list(range(30))},
        },
        "flow": {
            "flow_sid": "FW123",
            "sid": "FN456",
            "channel": {"address": "+15559999"},
            "data": {"name": "Zeke", "nested": {"deep": "yes"}},
            "variables": {"count": "3", "n": 4},
        },
    }


def render(source: str, **kw: Any) -> str:
    return render_template(source, context(), now=NOW, **kw)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{trigger.message.Body}}", "  Hello There "),
        ("{{widgets.get-convo-name.parsed.name}}", "Ann"),
        ("{{widgets['get-convo-name'].parsed.name}}", "Ann"),
        ("{{widgets.http_1.parsed.sites[1].name}}", "B"),
        ("{{widgets.http_1.parsed.sites.size}}", "2"),
        ("{{flow.data.name}} {{flow.data.nested.deep}}", "Zeke yes"),
        ("{{flow.variables.count}}/{{flow.variables.n}}", "3/4"),
        ("{{flow.channel.address}}", "+15559999"),
        ("{{flow.flow_sid}}:{{flow.sid}}", "FW123:FN456"),
        ("{{contact.channel.address}}", "+15550001"),
        ("{{trigger.message.Body | downcase | strip}}", "hello there"),
        ("{{flow.variables.count | plus: 1}}", "4"),
        (
            "{% assign idx = flow.variables.count | plus: -2 %}"
            "{{widgets.http_1.parsed.sites[idx].name}}",
            "B",
        ),
        ("{% if flow.variables.count %}yes{% else %}no{% endif %}", "yes"),
        ("{% case flow.data.name %}{% when 'Zeke' %}Z{% else %}?{% endcase %}", "Z"),
        ("no liquid here", "no liquid here"),
    ],
)
def test_studio_namespaces_and_standard_liquid(source: str, expected: str) -> None:
    assert render(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{flow.data.page.limit}}/{{ flow.data.page.offset }}", "10/20"),
        ("{{flow.data.page.in}}{{flow.data.page.true}}{{flow.data.page.for}}", "abc"),
        ("{% if flow.data.page.limit == 10 %}yes{% endif %}", "yes"),
        ("{{ flow.data.page.limit | plus: 1 }}", "11"),
        ("{{ 'page.limit' }} page.limit", "page.limit page.limit"),
        ("{% raw %}{{x.limit}}{% endraw %}", "{{x.limit}}"),
        ("{% for i in flow.data.page.items limit: 2 %}{{i}}{% endfor %}", "12"),
    ],
)
def test_liquid_keywords_work_as_keys_after_a_dot(source: str, expected: str) -> None:
    page = {"limit": 10, "offset": 20, "in": "a", "true": "b", "for": "c", "items": [1, 2, 3]}
    ctx = {"flow": {"data": {"page": page}}}
    assert render_template(source, ctx, now=NOW) == expected


@pytest.mark.parametrize(
    "source",
    [
        "{{widgets.nobody.parsed.name}}",
        "{{flow.variables.missing}}",
        "{{trigger.call.CallSid}}",
        "{{widgets.http_1.parsed.sites[10].name}}",
        "{{flow.data.name.first.second}}",
        "{{ missing | upcase }}",
        "{{ missing | date: '%Y' }}",
    ],
)
def test_missing_values_render_empty(source: str) -> None:
    assert render(source) == ""


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ widgets.http_1.parsed.obj | to_json }}", {"k": [1, "é"]}),
        ("{{ widgets.http_1.parsed.sites | to_json }}", [{"name": "A"}, {"name": "B"}]),
        ("{{ flow.data.name | to_json }}", "Zeke"),
        ("{{ flow.variables.n | to_json }}", 4),
        ("{{ missing | to_json }}", None),
        ("{{ 'a\"b' | to_json }}", 'a"b'),
        ("{{ widgets.http_1.parsed.obj }}", {"k": [1, "é"]}),
    ],
)
def test_to_json_and_objects_print_as_json(source: str, expected: Any) -> None:
    out = render(source)
    assert json.loads(out) == expected
    assert ": " not in out  # compact


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # arrays and objects print as JSON wherever they are written (issue 13)
        ("{{ widgets.http_1.parsed.sites }}", '[{"name":"A"},{"name":"B"}]'),
        ("{{widgets.http_1.parsed.sites}}", '[{"name":"A"},{"name":"B"}]'),  # fast path
        ("{{ widgets.http_1.parsed.sites | first }}", '{"name":"A"}'),
        (
            "{% for s in widgets.http_1.parsed.sites %}{{ s }};{% endfor %}",
            '{"name":"A"};{"name":"B"};',
        ),
        ("{{ widgets.http_1.parsed.sites | join: ' | ' }}", '{"name":"A"} | {"name":"B"}'),
        ("{{ widgets.http_1.parsed.sites | map: 'name' }}", '["A","B"]'),
        ("{{ widgets.http_1.parsed.sites | map: 'name' | join: ', ' }}", "A, B"),
        ("{{ 'x=' | append: widgets.http_1.parsed.obj }}", 'x={"k":[1,"é"]}'),
        ("{{ widgets.http_1.parsed.obj | prepend: '>' }}", '>{"k":[1,"é"]}'),
        ("{{ widgets.http_1.parsed.obj | upcase }}", '{"K":[1,"É"]}'),
        ("{{ widgets.http_1.parsed.obj | date: '%Y' }}", '{"k":[1,"é"]}'),
        ("{{ true | append: '!' }}", "true!"),
        ("{% capture c %}{{ widgets.http_1.parsed.obj }}{% endcapture %}{{ c }}", '{"k":[1,"é"]}'),
    ],
)
def test_no_python_repr_in_output(source: str, expected: str) -> None:
    out = render(source)
    assert out == expected
    assert "{'" not in out and "True" not in out


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # a number against a numeric string compares numbers (issue 13), both ways
        ("{% if flow.variables.count > 2 %}y{% else %}n{% endif %}", "y"),
        ("{% if 2 < flow.variables.count %}y{% else %}n{% endif %}", "y"),
        ("{% if flow.variables.count == 3 %}y{% else %}n{% endif %}", "y"),
        ("{% if flow.variables.count != 3 %}y{% else %}n{% endif %}", "n"),
        ("{% if flow.variables.count >= 3.0 %}y{% else %}n{% endif %}", "y"),
        ("{% if flow.variables.count <= 2 %}y{% else %}n{% endif %}", "n"),
        ("{% if flow.variables.n == '4' %}y{% else %}n{% endif %}", "y"),
        ("{% if flow.variables.n > '10' %}y{% else %}n{% endif %}", "n"),  # 4 > 10: no
        ("{% case flow.variables.count %}{% when 3 %}three{% else %}?{% endcase %}", "three"),
        # values that cannot be ordered: false, not an error
        ("{% if trigger.message.Body > 5 %}y{% else %}n{% endif %}", "n"),
        ("{% if widgets.http_1.parsed.obj < 5 %}y{% else %}n{% endif %}", "n"),
        ("{% if trigger.message.Body == 5 %}y{% else %}n{% endif %}", "n"),
        # strings with strings stay Liquid's string comparison
        ("{% if '10' < '9' %}y{% else %}n{% endif %}", "y"),
    ],
)
def test_string_number_comparisons(source: str, expected: str) -> None:
    assert render(source) == expected


def test_to_json_does_not_escape_non_ascii() -> None:
    assert render("{{ widgets.http_1.parsed.obj | to_json }}") == '{"k":[1,"é"]}'


@pytest.fixture
def restore_timezone() -> Iterator[None]:
    saved = liquid.TIMEZONE
    yield
    liquid.TIMEZONE = saved


@pytest.mark.parametrize(
    ("source", "kw", "expected"),
    [
        ("{{ 'now' | date: '%Y-%m-%d %H:%M' }}", {}, "2025-12-31 23:30"),
        ('{{ "now" | date: "%Y-%m-%d" }}', {}, "2025-12-31"),
        ("{{ 'today' | date: '%Z' }}", {}, "PST"),
        ("{{ 'now' | date: '%Y-%m-%d %H:%M' }}", {"tz": "UTC"}, "2026-01-01 07:30"),
        ("{{ 'now' | date: '%s' }}", {}, str(int(NOW.timestamp()))),
        ("{{ '2024-03-01T10:00:00Z' | date: '%b %d %H:%M' }}", {}, "Mar 01 10:00"),
        ("{{ 'not a date' | date: '%Y' }}", {}, "not a date"),
    ],
)
def test_date_filter_uses_the_injected_clock(
    source: str, kw: dict[str, Any], expected: str
) -> None:
    assert render(source, **kw) == expected


def test_set_timezone(restore_timezone: None) -> None:
    set_timezone("Asia/Tokyo")
    assert render("{{ 'now' | date: '%H:%M' }}") == "16:30"
    with pytest.raises(ValueError, match="Mars/Base"):
        set_timezone("Mars/Base")


def test_output_limit_is_16_kb() -> None:
    ctx = {"flow": {"data": {"s": "x" * OUTPUT_LIMIT}}}
    assert len(render_template("{{flow.data.s}}", ctx, now=NOW)) == OUTPUT_LIMIT
    with pytest.raises(TemplateError, match="16 KB"):
        render_template("{{flow.data.s}}!", ctx, now=NOW)
    # counted in bytes of UTF-8
    wide = {"flow": {"data": {"s": "é" * (OUTPUT_LIMIT // 2 + 1)}}}
    with pytest.raises(TemplateError, match="16 KB"):
        render_template("{{flow.data.s}}", wide, now=NOW)


def test_loop_limit_is_15_iterations_and_16_is_an_error() -> None:
    assert LOOP_LIMIT == 15
    assert render("{% for i in (1..15) %}{{i}},{% endfor %}").count(",") == 15
    with pytest.raises(TemplateError, match="more than 15 iterations"):
        render("{% for i in (1..16) %}{{i}}{% endfor %}")
    with pytest.raises(TemplateError, match="more than 15 iterations"):
        render("{% for i in widgets.many.items %}{{i}}{% endfor %}")
    # nested loops multiply
    with pytest.raises(TemplateError, match="more than 15 iterations"):
        render("{% for i in (1..4) %}{% for j in (1..4) %}x{% endfor %}{% endfor %}")
    # limit: keeps a long array within bounds
    assert render("{% for i in widgets.many.items limit: 15 %}x{% endfor %}") == "x" * 15


@pytest.mark.parametrize(
    ("source", "fragment", "positioned"),
    [
        ("{{ x", "expected '}}'", True),
        ("{{ x | nosuchfilter }}", "unknown filter 'nosuchfilter'", True),
        ("{% nosuchtag %}", "nosuchtag", True),
        ("{{ 'a' + 'b' }}", "'+'", True),
        ("{{ 5 | divided_by: 0 }}", "divide", True),
        ("{% if x %}unclosed", "endif", False),
        ("{% render 'snippet' %}", "snippet", True),
    ],
)
def test_errors_become_template_error_with_a_one_line_message(
    source: str, fragment: str, positioned: bool
) -> None:
    with pytest.raises(TemplateError) as info:
        render(source)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message
    assert ("line 1" in message) is positioned


def test_error_position_names_line_and_column() -> None:
    with pytest.raises(TemplateError, match=r"line 2, column 11"):
        render("ok\nab {{ x | nope }}")


def test_fast_path_leaves_text_without_braces_alone() -> None:
    text = "100% sure %} ok"
    cache: dict[str, Any] = {}
    assert render_template(text, {}, now=NOW, cache=cache) is text
    assert cache == {}


def test_templates_are_parsed_once_per_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = liquid._parse

    def counting(source: str) -> Any:
        calls.append(source)
        return real(source)

    monkeypatch.setattr(liquid, "_parse", counting)
    cache: dict[str, Any] = {}
    for _ in range(3):
        assert render("Hi {{flow.data.name}}", cache=cache) == "Hi Zeke"
        with pytest.raises(TemplateError):
            render("{{ broken", cache=cache)
    assert calls == ["Hi {{flow.data.name}}", "{{ broken"]
    assert set(cache[CACHE_KEY]) == {"Hi {{flow.data.name}}", "{{ broken"}
    other: dict[str, Any] = {}
    render("Hi {{flow.data.name}}", cache=other)
    assert len(calls) == 3  # another revision parses again


def test_rendering_does_not_change_the_context() -> None:
    ctx = context()
    before = json.dumps(ctx, sort_keys=True)
    render_template("{% assign flow = 1 %}{{ flow }}", ctx, now=NOW)
    assert json.dumps(ctx, sort_keys=True) == before


@pytest.mark.parametrize(
    ("source", "ok"),
    [
        ("plain", True),
        ("{{widgets.get-convo-name.parsed.name}}", True),
        ("{% if a %}x{% endif %}", True),
        ("{{ a | nosuchfilter }}", False),
        ("{% for x in y %}{{ x | upcase | nosuchfilter: 1 }}{% endfor %}", False),
        ("{% if a %}x", False),
        ("{{ a ", False),
    ],
)
def test_check_template(source: str, ok: bool) -> None:
    error = check_template(source)
    assert (error is None) is ok
    if not ok:
        assert isinstance(error, str) and error


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_every_string_in_the_real_exports_parses() -> None:
    if not FLOWS.is_dir():
        pytest.skip("../shared/studio-flows is not available")
    files = sorted(FLOWS.glob("*.json"))
    assert files
    checked = 0
    for path in files:
        states = json.loads(path.read_text())["states"]
        for text in _strings(states):
            assert check_template(text) is None, f"{path.name}: {text!r}"
            checked += "{" in text
    assert checked > 100


FAST_CONTEXT: dict[str, Any] = {
    "flow": {
        "data": {
            "s": "text",
            "i": 3,
            "f": 1.5,
            "t": True,
            "no": False,
            "none": None,
            "list": [1, "a", None],
            "obj": {"k": "v", "n": [1]},
            "empty": "",
            "limit": "kw",
        }
    },
    "widgets": {"get-convo-name": {"parsed": {"name": "Ann"}}},
}


@pytest.mark.parametrize(
    "source",
    [
        "{{flow.data.s}}",
        "{{ flow.data.i }}",
        "{{flow.data.f}}",
        "{{flow.data.t}}",
        "{{flow.data.no}}",
        "{{flow.data.none}}",
        "{{flow.data.list}}",
        "{{flow.data.obj}}",
        "{{flow.data.obj.n}}",
        "{{flow.data.empty}}",
        "{{flow.data.limit}}",
        "{{flow.data.missing.deeper}}",
        "{{flow.data.s.deeper}}",
        "{{flow.data.list.k}}",
        "{{widgets.get-convo-name.parsed.name}}",
        "{{nothing}}",
        "{{flow}}",
    ],
)
def test_plain_variable_fast_path_matches_liquid(source: str) -> None:
    cache: dict[str, Any] = {}
    fast = render_template(source, FAST_CONTEXT, now=NOW, cache=cache)
    assert isinstance(cache[CACHE_KEY][source], liquid._Lookup)
    slow = liquid._parse(source).render(FAST_CONTEXT)
    assert fast == slow


@pytest.mark.parametrize(
    "source",
    ["{{ true }}", "{{ flow.data.list.size }}", "{{ flow.data.list.first }}", "{{ empty }}"],
)
def test_literals_and_special_properties_use_liquid(source: str) -> None:
    cache: dict[str, Any] = {}
    render_template(source, FAST_CONTEXT, now=NOW, cache=cache)
    assert not isinstance(cache[CACHE_KEY][source], liquid._Lookup)


def test_fast_path_respects_the_output_limit() -> None:
    ctx = {"flow": {"data": {"s": "é" * (OUTPUT_LIMIT // 2 + 1)}}}
    with pytest.raises(TemplateError, match="16 KB"):
        render_template("{{flow.data.s}}", ctx, now=NOW)


def test_bad_timezone_argument_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="Nowhere/Land"):
        render("{{ 'now' | date: '%H' }}", tz="Nowhere/Land")


_PIECES = st.sampled_from(
    [
        "{{",
        "}}",
        "{%",
        "%}",
        " ",
        "|",
        ".",
        "flow",
        "data",
        "x",
        "'",
        '"',
        "if",
        "for",
        "in",
        "endif",
        "endfor",
        "upcase",
        "plus",
        ":",
        "1",
        "(1..20)",
        "limit",
        "-",
        "[",
        "]",
        "to_json",
        "date",
        "now",
        "size",
        "assign",
        "=",
        "capture",
        "raw",
        "endraw",
        "\n",
        "é",
        "+",
        "#",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=25).map("".join))
def test_nothing_but_template_error_ever_escapes(source: str) -> None:
    try:
        out = render_template(source, context(), now=NOW, cache={})
    except TemplateError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert isinstance(out, str)
    check = check_template(source)
    assert check is None or isinstance(check, str)
