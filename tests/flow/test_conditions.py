from __future__ import annotations

import pytest

from callboard.flow.conditions import (
    OPERATORS,
    UnknownOperator,
    check_value,
    evaluate,
    label,
    regex_error,
)

STUDIO_OPERATORS = [
    "equal_to",
    "not_equal_to",
    "matches_any_of",
    "does_not_match_any_of",
    "is_blank",
    "is_not_blank",
    "regex",
    "contains",
    "does_not_contain",
    "starts_with",
    "does_not_start_with",
    "less_than",
    "greater_than",
    "is_before_time",
    "is_after_time",
    "is_before_date",
    "is_after_date",
]

# (operator, subject, value, expected)
CASES: list[tuple[str, str, str, bool]] = [
    # equal_to: case-insensitive, trimmed
    ("equal_to", "1", "1", True),
    ("equal_to", "Yes", "yes", True),
    ("equal_to", "  yes ", "YES", True),
    ("equal_to", "yes", " yes\n", True),
    ("equal_to", "yes", "yess", False),
    ("equal_to", "", "", True),
    ("equal_to", "true", "True", True),
    ("equal_to", "1", "01", False),
    ("equal_to", "#", "#", True),
    ("equal_to", "STRASSE", "straße", True),
    ("not_equal_to", "Yes", "yes", False),
    ("not_equal_to", "yes", "no", True),
    ("not_equal_to", " a ", "A", False),
    # matches_any_of: comma list, entries trimmed
    ("matches_any_of", "YES", "yes,yeah,yup", True),
    ("matches_any_of", "yup", "yes, yeah ,yup", True),
    ("matches_any_of", " Yeah ", "yes,yeah,yup", True),
    ("matches_any_of", "ye", "yes,yeah,yup", False),
    ("matches_any_of", "yes yeah", "yes,yeah,yup", False),
    ("matches_any_of", "start", "started, start", True),
    ("matches_any_of", "agente", "Agente,agente", True),
    ("matches_any_of", "", "a,,b", False),
    ("matches_any_of", "", "", False),
    ("does_not_match_any_of", "YES", "yes,yeah,yup", False),
    ("does_not_match_any_of", "nope", "yes,yeah,yup", True),
    ("does_not_match_any_of", "", "a,b", True),
    # is_blank / is_not_blank: value ignored
    ("is_blank", "", "Is Blank", True),
    ("is_blank", "   \n\t", "Is Blank", True),
    ("is_blank", " x ", "Is Blank", False),
    ("is_blank", "0", "", False),
    ("is_not_blank", "", "Is Not Blank", False),
    ("is_not_blank", "  ", "", False),
    ("is_not_blank", "x", "", True),
    # regex: full match, case-insensitive, no slashes
    ("regex", "6", "[1-5]", False),
    ("regex", "3", "[1-5]", True),
    ("regex", "35", "[1-5]", False),
    ("regex", "Oh YES please", ".*yes.*", True),
    ("regex", "yes", "yes|no", True),
    ("regex", "yesno", "yes|no", False),
    ("regex", "sí", "(sí|si)", True),
    ("regex", "SI", ".*s(i|í).*", True),
    ("regex", " 42 ", r"\d+", True),
    ("regex", "abc", "/abc/", False),
    ("regex", "anything", "[unclosed", False),
    ("regex", "", "", True),
    # contains / does_not_contain
    ("contains", "aab", "aa", True),
    ("contains", "aab", "A", True),
    ("contains", "Yes please", "yes", True),
    ("contains", "no", "yes", False),
    ("contains", "I want SALES", " sales ", True),
    ("does_not_contain", "aab", "AA", False),
    ("does_not_contain", "hello", "x", True),
    # starts_with / does_not_start_with (after trimming)
    ("starts_with", " Hoot", "hoo", True),
    ("starts_with", "Hooting", "HOO", True),
    ("starts_with", "a hoot", "hoo", False),
    ("does_not_start_with", " Hoot", "hoo", False),
    ("does_not_start_with", "boot", "hoo", True),
    # less_than / greater_than: numbers only
    ("greater_than", "900", "1000", False),
    ("less_than", "900", "1000", True),
    ("greater_than", "1000", "900", True),
    ("less_than", "2", "3", True),
    ("less_than", "3", "3", False),
    ("greater_than", "3", "3", False),
    ("less_than", " -1.5 ", "0", True),
    ("greater_than", "1e3", "999", True),
    ("greater_than", "10", "9", True),  # numeric, not lexicographic
    ("less_than", "abc", "3", False),
    ("greater_than", "abc", "3", False),
    ("less_than", "3", "", False),
    ("greater_than", "", "0", False),
    ("less_than", "nan", "3", False),
    ("greater_than", "inf", "3", False),
    ("less_than", "1,000", "2000", False),
    # times: HH:MM, 24 h
    ("is_before_time", "17:00", "16:35", False),
    ("is_before_time", "16:00", "16:35", True),
    ("is_after_time", "17:00", "16:35", True),
    ("is_after_time", "16:35", "16:35", False),
    ("is_before_time", "16:35", "16:35", False),
    ("is_before_time", "09:59", "10:00", True),
    ("is_before_time", "9:59", "10:00", False),
    ("is_before_time", "24:00", "23:00", False),
    ("is_after_time", "12:60", "00:00", False),
    ("is_after_time", "noon", "00:00", False),
    ("is_before_time", "10:00", "later", False),
    # dates: YYYY-MM-DD
    ("is_before_date", "2024-01-31", "2024-02-01", True),
    ("is_before_date", "2024-02-01", "2024-01-31", False),
    ("is_after_date", "2024-02-01", "2024-01-31", True),
    ("is_after_date", "2024-01-31", "2024-01-31", False),
    ("is_before_date", " 2023-12-31 ", "2024-01-01", True),
    ("is_before_date", "2024-1-5", "2024-02-01", False),
    ("is_before_date", "2024-02-30", "2024-03-01", False),
    ("is_after_date", "01/02/2024", "2023-01-01", False),
    ("is_after_date", "2024-05-05", "", False),
]


@pytest.mark.parametrize(("operator", "subject", "value", "expected"), CASES)
def test_evaluate(operator: str, subject: str, value: str, expected: bool) -> None:
    assert evaluate(operator, subject, value) is expected


def test_every_operator_is_covered_by_cases() -> None:
    assert {c[0] for c in CASES} == set(STUDIO_OPERATORS)


def test_operator_table_is_studios_list_with_labels() -> None:
    assert list(OPERATORS) == STUDIO_OPERATORS
    assert all(isinstance(text, str) and text for text in OPERATORS.values())
    assert label("matches_any_of") == "Matches Any Of"
    assert label("is_before_time") == "Is Before Time"


@pytest.mark.parametrize(
    ("positive", "negative"),
    [
        ("equal_to", "not_equal_to"),
        ("matches_any_of", "does_not_match_any_of"),
        ("is_blank", "is_not_blank"),
        ("contains", "does_not_contain"),
        ("starts_with", "does_not_start_with"),
    ],
)
@pytest.mark.parametrize(
    ("subject", "value"),
    [("Yes", "yes"), ("", ""), ("abc", "b"), (" hoot ", "HOO"), ("x", "a,x"), ("  ", "z")],
)
def test_negations_are_exact_opposites(
    positive: str, negative: str, subject: str, value: str
) -> None:
    assert evaluate(negative, subject, value) is not evaluate(positive, subject, value)


@pytest.mark.parametrize("operator", ["", "equals", "EQUAL_TO", "has_any_value"])
def test_unknown_operator_raises(operator: str) -> None:
    with pytest.raises(UnknownOperator) as info:
        evaluate(operator, "a", "a")
    assert info.value.operator == operator
    assert "equal_to" in str(info.value)
    with pytest.raises(UnknownOperator):
        check_value(operator, "x")


def test_regex_error() -> None:
    assert regex_error("[1-5]") is None
    message = regex_error("[unclosed")
    assert message is not None and "unterminated" in message


@pytest.mark.parametrize(
    ("operator", "value", "problem"),
    [
        ("regex", "(a", "invalid regular expression"),
        ("regex", ".*yes.*", None),
        ("less_than", "three", "not a number"),
        ("less_than", "3", None),
        ("greater_than", "{{widgets.http.parsed.sites.size}}", None),
        ("is_before_date", "2024/01/01", "YYYY-MM-DD"),
        ("is_after_date", "2024-01-01", None),
        ("is_before_time", "5pm", "HH:MM"),
        ("is_after_time", "17:00", None),
        ("is_blank", "Is Blank", None),
        ("equal_to", "anything", None),
    ],
)
def test_check_value(operator: str, value: str, problem: str | None) -> None:
    result = check_value(operator, value)
    if problem is None:
        assert result is None
    else:
        assert result is not None and problem in result
