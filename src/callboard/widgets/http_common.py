"""HTTP helpers shared by Make HTTP Request and Run Function (not a widget).

* :func:`prepare_url` checks a rendered URL and moves ``user:pass@`` credentials into an
  ``Authorization: Basic`` header (the URL sent never carries them).
* :func:`response_variables` turns an :class:`~callboard.contract.io.EffectResult` of an
  :class:`~callboard.contract.io.HttpRequest` into ``body``/``content_type``/
  ``status_code`` and ``parsed`` (only for a JSON *object* answered with a JSON content
  type; top-level arrays, scalars and invalid JSON give no ``parsed``).
* :func:`deep_merge` is Run Function's ``parsed`` merge.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, unquote, urlencode, urlsplit, urlunsplit

__all__ = [
    "HTTP_TIMEOUT",
    "MAX_BYTES",
    "PreparedUrl",
    "UrlError",
    "add_query",
    "deep_merge",
    "form_encode",
    "is_json_type",
    "parse_json_object",
    "prepare_url",
    "response_variables",
]

HTTP_TIMEOUT = 10.0  # seconds: Studio's limit for Make HTTP Request and Run Function
MAX_BYTES = 65536  # response body limit (64 kB)


class UrlError(ValueError):
    """A URL that cannot be requested (the message says why)."""


@dataclass(frozen=True, slots=True)
class PreparedUrl:
    url: str  # without credentials
    host: str
    headers: dict[str, str] = field(default_factory=dict)  # Authorization from user:pass@


def prepare_url(text: str) -> PreparedUrl:
    """Check an absolute http(s) URL and strip its ``user:pass@`` part into a header."""
    url = text.strip()
    if not url:
        raise UrlError("the URL is empty")
    if any(c.isspace() for c in url):
        raise UrlError(f"the URL {url!r} contains white space")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a bad port
    except ValueError as exc:
        raise UrlError(f"the URL {url!r} is not valid: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise UrlError(f"the URL {url!r} is not an http(s) URL")
    host = parts.hostname or ""
    if not host:
        raise UrlError(f"the URL {url!r} has no host")
    headers: dict[str, str] = {}
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, netloc = netloc.rpartition("@")
        user, _, password = userinfo.partition(":")
        token = f"{unquote(user)}:{unquote(password)}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(token).decode("ascii")
    clean = urlunsplit(SplitResult(parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return PreparedUrl(clean, host.lower(), headers)


def form_encode(params: dict[str, str]) -> str:
    return urlencode(list(params.items()))


def add_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` appended to its query string (existing ones are kept)."""
    if not params:
        return url
    parts = urlsplit(url)
    query = form_encode(params)
    query = f"{parts.query}&{query}" if parts.query else query
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def parse_json_object(content_type: str, body: str) -> dict[str, Any] | None:
    """The body as a JSON object, or None (not JSON, not an object, not a JSON type)."""
    if not is_json_type(content_type):
        return None
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def response_variables(data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """``(status_code, variables)`` from an HTTP result's ``data``."""
    raw_status = data.get("status_code")
    try:
        status = int(raw_status) if raw_status is not None else 0
    except (TypeError, ValueError):
        status = 0
    content_type = str(data.get("content_type") or "")
    raw_body = data.get("body")
    body = raw_body if isinstance(raw_body, str) else ("" if raw_body is None else str(raw_body))
    variables: dict[str, Any] = {
        "body": body,
        "content_type": content_type,
        "status_code": status,
    }
    parsed = parse_json_object(content_type, body)
    if parsed is not None:
        variables["parsed"] = parsed
    return status, variables


def deep_merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``new`` merged into a copy of ``old``: objects merge key by key, anything else
    (arrays included) is replaced."""
    out = dict(old)
    for key, value in new.items():
        prev = out.get(key)
        if isinstance(prev, dict) and isinstance(value, dict):
            out[key] = deep_merge(prev, value)
        else:
            out[key] = value
    return out
