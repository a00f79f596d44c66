"""``X-Twilio-Signature`` checks (:func:`callboard.api.signatures.valid_signature`): what
Twilio signs is accepted — the URL as rebuilt, or with/without the default port —
and nothing else is."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from callboard.api.signatures import valid_signature

TOKEN = "0123456789abcdef0123456789abcdef"
PAIRS = [("From", "+15550001"), ("Body", "hi"), ("MediaUrl0", "b"), ("MediaUrl0", "a")]


class _Multi(dict[str, str]):
    """Form pairs as twilio-python's validator reads them (every value of a name)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__(pairs)
        self.pairs = pairs

    def getall(self, name: str) -> list[str]:
        return [v for k, v in self.pairs if k == name]


def _signed(url: str, pairs: list[tuple[str, str]] = PAIRS, token: str = TOKEN) -> str:
    """What Twilio sends: twilio-python's own signature."""
    return str(RequestValidator(token).compute_signature(url, _Multi(pairs)))


URL = "https://cb.example.com/v1/Accounts/AC1/Flows/FW1?x=1"


@pytest.mark.parametrize(
    ("signed_url", "checked_url", "pairs", "token", "valid"),
    [
        (URL, URL, PAIRS, TOKEN, True),
        ("https://cb.example.com:443/v1/Accounts/AC1/Flows/FW1?x=1", URL, PAIRS, TOKEN, True),
        (URL, "https://cb.example.com:443/v1/Accounts/AC1/Flows/FW1?x=1", PAIRS, TOKEN, True),
        (URL, URL, PAIRS, "f" * 32, False),  # another account's token
        (URL, URL.replace("x=1", "x=2"), PAIRS, TOKEN, False),  # another query
        ("http://cb.example.com/v1/Accounts/AC1/Flows/FW1?x=1", URL, PAIRS, TOKEN, False),
    ],
)
def test_signatures_over_the_url_and_the_sorted_parameters(
    signed_url: str, checked_url: str, pairs: list[tuple[str, str]], token: str, valid: bool
) -> None:
    signature = _signed(signed_url, pairs, token)
    assert valid_signature(checked_url, PAIRS, signature, TOKEN) is valid


def test_a_changed_or_added_parameter_is_refused() -> None:
    signature = _signed(URL)
    assert valid_signature(URL, PAIRS, signature, TOKEN)
    assert not valid_signature(URL, [*PAIRS[:-1], ("MediaUrl0", "c")], signature, TOKEN)
    assert not valid_signature(URL, [*PAIRS, ("To", "+1")], signature, TOKEN)
    assert not valid_signature(URL, PAIRS[1:], signature, TOKEN)


@pytest.mark.parametrize("signature", [None, "", "garbage", "é" * 28, "A" * 5000])
def test_missing_or_malformed_signatures_are_refused(signature: str | None) -> None:
    assert valid_signature(URL, PAIRS, signature, TOKEN) is False


def test_no_token_accepts_nothing() -> None:
    assert valid_signature(URL, PAIRS, _signed(URL), "") is False
