"""The server's externally visible base URL, and the absolute URLs built from it.

``CALLBOARD_PUBLIC_URL`` (``settings.public_url``) wins when set. Otherwise the base is
taken from each request, and serves that request only: ``X-Forwarded-Proto`` /
``X-Forwarded-Host`` when the connection comes from a trusted proxy
(``CALLBOARD_TRUSTED_PROXIES``, :mod:`callboard.api.proxies`), else the request's own
scheme and ``Host``. Every ``url``, ``links`` entry,
paging URL and ``webhook_url`` is absolute, because twilio-python follows
``next_page_url`` verbatim.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from starlette.requests import Request

from callboard.api.proxies import trusted_proxies_of

__all__ = ["base_url", "webhook_url"]

_HOST_RE = re.compile(r"^[A-Za-z0-9.\-:\[\]_]+$")


def _first(value: str) -> str:
    return value.split(",", 1)[0].strip()


def base_url(request: Request) -> str:
    """``scheme://host[:port]`` (plus a path prefix when the public URL has one), no
    trailing slash."""
    configured = getattr(request.app.state, "public_url", None)
    if configured:
        return str(configured).rstrip("/")
    headers = request.headers
    proxied = trusted_proxies_of(request.scope).trusted_peer(request.scope)
    scheme = _first(headers.get("x-forwarded-proto", "")).lower() if proxied else ""
    if scheme not in ("http", "https"):
        scheme = request.url.scheme if request.url.scheme in ("http", "https") else "http"
    forwarded_host = _first(headers.get("x-forwarded-host", "")) if proxied else ""
    host = forwarded_host or headers.get("host", "")
    if not host or not _HOST_RE.match(host):
        server = request.scope.get("server")
        host = f"{server[0]}:{server[1]}" if server else "localhost"
    return f"{scheme}://{host}"


def webhook_url(request: Request, account_sid: str, flow_sid: str) -> str:
    """``{public URL}/v1/Accounts/{AccountSid}/Flows/{FlowSid}``: where Twilio sends calls
    and messages for the flow."""
    return f"{base_url(request)}/v1/Accounts/{quote(account_sid)}/Flows/{quote(flow_sid)}"
