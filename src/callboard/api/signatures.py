"""``X-Twilio-Signature`` checks for the Flow webhook and Callboard's call-backs.

Twilio's algorithm (``twilio.request_validator.RequestValidator``): HMAC-SHA1 over the
full URL Twilio requested followed by the sorted POST parameters, keyed with the Auth
Token. The URL is rebuilt from the public URL (``CALLBOARD_PUBLIC_URL``, else
``X-Forwarded-Proto`` / ``X-Forwarded-Host`` / ``Host``) plus the request's path and
query; the validator also accepts it with or without the default port. A JSON body
(``bodySHA256`` in the query) is checked against its hash by the validator.

The key is the Auth Token of the Twilio account the Callboard account uses; accounts on
the simulator channel sign with their own Callboard Auth Token. A bad or missing
signature answers 403 and nothing is processed. ``CALLBOARD_SKIP_SIGNATURE_CHECK=1``
turns the check off (local development only; the server warns at start).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Mapping, Sequence

from starlette.requests import Request
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from callboard.api.errors import ApiError
from callboard.api.urls import base_url

__all__ = ["SIGNATURE_HEADER", "forbidden", "public_request_url", "sign", "valid_signature"]

SIGNATURE_HEADER = "X-Twilio-Signature"


class _Params:
    """Form parameters with every value of a repeated name (the validator sorts them)."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.values: dict[str, list[str]] = {}
        for key, value in pairs:  # one pass: the validator asks for every name's values
            self.values.setdefault(key, []).append(value)
        self.count = len(pairs)

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return self.count

    def getall(self, name: str) -> list[str]:
        return list(self.values.get(name, ()))


def public_request_url(request: Request) -> str:
    """The URL Twilio requested, as seen from outside."""
    query = request.url.query
    return base_url(request) + request.url.path + (f"?{query}" if query else "")


def valid_signature(
    url: str, pairs: Sequence[tuple[str, str]], signature: str | None, auth_token: str
) -> bool:
    if not signature or not auth_token:
        return False
    validator = RequestValidator(auth_token)
    params = _Params(pairs)
    try:
        if "bodySHA256" not in url and hmac.compare_digest(
            str(validator.compute_signature(url, params)).encode(), signature.encode()
        ):  # signed over the URL as rebuilt: one HMAC (``validate`` always computes two)
            return True
        return bool(validator.validate(url, params, signature))  # the port variants
    except Exception:
        return False


def sign(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """The signature Twilio would send (tests and the simulator use it)."""
    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))


def forbidden() -> ApiError:
    return ApiError(
        403, "Invalid or missing X-Twilio-Signature: the request was not processed", 20403
    )
