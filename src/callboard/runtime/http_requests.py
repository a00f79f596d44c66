"""HTTP for :class:`~callboard.runtime.local.LocalRunner`: canned responses and real requests.

:func:`http_result` performs one :class:`~callboard.contract.io.HttpRequest`: answered from
a :class:`MockTable` when one is given (never the network then), otherwise sent for real
with an httpx client (timeout, redirects followed, the body size cap enforced while
streaming). :mod:`callboard.runtime.local` re-exports every name here.
"""

from __future__ import annotations

import codecs
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from callboard.contract.io import EffectResult, HttpRequest

__all__ = ["MockError", "MockResponse", "MockTable", "http_result"]

# ------------------------------------------------------------------------------ mocks


class MockError(ValueError):
    """A mock table that cannot be used (the message names the entry)."""


@dataclass(frozen=True, slots=True)
class MockResponse:
    status: int = 200
    content_type: str = "application/json"
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


class MockTable:
    """Canned HTTP responses, keyed by ``"URL"`` or ``"METHOD URL"``.

    Lookup order for a request: ``METHOD URL``, ``URL``, then the same two without the
    query string, then keys ending in ``*`` as prefixes (longest first). A request
    nothing matches fails like a network error (``no mock for ...``): with a mock table
    the runner never goes to the network.
    """

    def __init__(self, entries: Mapping[str, MockResponse] | None = None) -> None:
        self.exact: dict[str, MockResponse] = {}
        self.prefixes: list[tuple[str, MockResponse]] = []
        for key, value in (entries or {}).items():
            self.add(key, value)

    def add(self, key: str, response: MockResponse) -> None:
        method, url = _split_key(key)
        norm = f"{method} {url}" if method else url
        if norm.endswith("*"):
            self.prefixes.append((norm[:-1], response))
            self.prefixes.sort(key=lambda p: len(p[0]), reverse=True)
        else:
            self.exact[norm] = response

    def lookup(self, method: str, url: str) -> MockResponse | None:
        method = method.upper()
        parts = urlsplit(url)
        bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        for candidate in (f"{method} {url}", url, f"{method} {bare}", bare):
            if candidate in self.exact:
                return self.exact[candidate]
        for prefix, response in self.prefixes:
            if f"{method} {url}".startswith(prefix) or url.startswith(prefix):
                return response
        return None

    @classmethod
    def from_json(cls, data: Any, source: str = "mock file") -> MockTable:
        """Build from ``{"[METHOD ]URL": {"status", "content_type", "body", "headers"}}``.

        ``body`` may be a string (sent as it is) or any JSON value (serialised; the
        content type then defaults to ``application/json``).
        """
        if not isinstance(data, dict):
            raise MockError(f"{source}: expected a JSON object mapping URLs to responses")
        table = cls()
        for key, spec in data.items():
            where = f"{source}: entry {key!r}"
            if not isinstance(spec, dict):
                raise MockError(f"{where}: expected an object with status/content_type/body")
            unknown = set(spec) - {"status", "content_type", "body", "headers"}
            if unknown:
                raise MockError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
            status = spec.get("status", 200)
            if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
                raise MockError(f"{where}: status must be an integer from 100 to 599")
            raw_body = spec.get("body", "")
            body = raw_body if isinstance(raw_body, str) else json.dumps(raw_body)
            default_type = "text/plain" if isinstance(raw_body, str) else "application/json"
            content_type = spec.get("content_type", default_type)
            if not isinstance(content_type, str):
                raise MockError(f"{where}: content_type must be a string")
            headers = spec.get("headers", {})
            if not isinstance(headers, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
            ):
                raise MockError(f"{where}: headers must be an object of strings")
            if not _split_key(str(key))[1]:
                raise MockError(f"{where}: the key must be a URL or 'METHOD URL'")
            table.add(str(key), MockResponse(status, content_type, body, dict(headers)))
        return table


def _split_key(key: str) -> tuple[str, str]:
    key = key.strip()
    head, _, rest = key.partition(" ")
    if rest and head.isalpha() and head.upper() == head:
        return head, rest.strip()
    return "", key


# ------------------------------------------------------------------------------- HTTP


def http_result(
    request: HttpRequest,
    *,
    mocks: MockTable | None = None,
    client: httpx.Client | None = None,
) -> EffectResult:
    """Perform one :class:`HttpRequest` (from ``mocks`` if given, else with ``client``)."""
    if mocks is not None:
        mock = mocks.lookup(request.method, request.url)
        if mock is None:
            return _http_error(request, f"no mock for {request.method.upper()} {request.url}")
        body = mock.body.encode()
        if len(body) > request.max_bytes:
            return _http_error(request, _too_big(request))
        headers = {k.lower(): v for k, v in mock.headers.items()}
        headers.setdefault("content-type", mock.content_type)
        return EffectResult(
            request.token,
            True,
            {
                "status_code": mock.status,
                "content_type": mock.content_type,
                "body": mock.body,
                "headers": headers,
            },
        )
    if client is None:
        return _http_error(request, "no HTTP client")
    scheme = urlsplit(request.url).scheme.lower()
    if scheme not in ("http", "https"):
        return _http_error(request, f"not an http(s) URL: {request.url!r}")
    deadline = time.monotonic() + request.timeout
    try:
        with client.stream(
            request.method.upper(),
            request.url,
            headers=request.headers,
            content=request.body.encode() if request.body is not None else None,
            timeout=request.timeout,
        ) as response:
            chunks: list[bytes] = []
            total = 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > request.max_bytes:
                    return _http_error(request, _too_big(request))
                if time.monotonic() > deadline:
                    return _http_error(request, f"timed out after {request.timeout:g} s")
                chunks.append(chunk)
            charset = response.charset_encoding or "utf-8"
            try:
                decoder = codecs.getincrementaldecoder(charset)(errors="replace")
            except LookupError:
                decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            text = decoder.decode(b"".join(chunks), final=True)
            return EffectResult(
                request.token,
                True,
                {
                    "status_code": response.status_code,
                    "content_type": response.headers.get("content-type", ""),
                    "body": text,
                    "headers": {k.lower(): v for k, v in response.headers.items()},
                },
            )
    except httpx.TimeoutException:
        return _http_error(request, f"timed out after {request.timeout:g} s")
    except httpx.TooManyRedirects:
        return _http_error(request, "too many redirects")
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, ValueError) as exc:
        return _http_error(request, f"{type(exc).__name__}: {exc}" if str(exc) else repr(exc))


def _too_big(request: HttpRequest) -> str:
    return f"response body is larger than {request.max_bytes} bytes"


def _http_error(request: HttpRequest, message: str) -> EffectResult:
    return EffectResult(request.token, False, {"error": message})
