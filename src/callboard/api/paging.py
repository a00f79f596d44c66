"""Twilio-style pagination: ``PageSize``, ``Page``, ``PageToken`` and the ``meta`` block.

* ``PageSize``: 1–1000, default 50 (anything else answers 400 / 20001).
* ``Page``: an integer ≥ 0 the client keeps for itself; echoed in ``meta.page``.
* ``PageToken``: opaque, produced by the server in ``next_page_url`` /
  ``previous_page_url``. Callboard's tokens are ``PA``/``PB`` ("page after"/"page before")
  followed by an opaque cursor the service layer understands; a token the server did not
  produce answers 400 / 20001.

``meta.url``, ``first_page_url``, ``next_page_url`` and ``previous_page_url`` are absolute
URLs on the server's public base URL (see :mod:`callboard.api.urls`) and repeat the
list's filters, so following them verbatim (as twilio-python does) walks the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from callboard.api.common import json_response
from callboard.api.errors import bad_request
from callboard.api.urls import base_url
from callboard.runtime.records import Page

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "PageParams",
    "page_body",
    "page_response",
    "parse_page_params",
]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class PageParams:
    page_size: int
    page: int
    token: str | None  # the raw PageToken, as the client sent it


def _int_param(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not text or not (
        text.isascii() and (text.isdigit() or (text[0] in "+-" and text[1:].isdigit()))
    ):
        raise bad_request(f"Invalid parameter {name}: {raw!r} is not an integer")
    if len(text) > 12:
        raise bad_request(f"Invalid parameter {name}: {raw!r} is out of range")
    value = int(text)
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise bad_request(f"Invalid parameter {name}: must be {bounds}, got {value}")
    return value


def parse_page_params(request: Request) -> PageParams:
    page_size = _int_param(request, "PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    page = _int_param(request, "Page", 0, 0, None)
    token = request.query_params.get("PageToken")
    if token is not None and token == "":
        token = None
    return PageParams(page_size=page_size, page=page, token=token)


def _page_url(
    base: str,
    path: str,
    filters: Sequence[tuple[str, str]],
    page_size: int,
    page: int,
    token: str | None,
) -> str:
    query: list[tuple[str, str]] = [*filters, ("PageSize", str(page_size)), ("Page", str(page))]
    if token is not None:
        query.append(("PageToken", token))
    return f"{base}{path}?{urlencode(query)}"


def page_body(
    request: Request,
    key: str,
    items: list[dict[str, Any]],
    params: PageParams,
    *,
    next_token: str | None,
    previous_token: str | None,
    filters: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """The list response: ``{"meta": {...}, key: items}``."""
    base = base_url(request)
    path = request.url.path
    size = params.page_size
    meta = {
        "page": params.page,
        "page_size": size,
        "first_page_url": _page_url(base, path, filters, size, 0, None),
        "previous_page_url": (
            _page_url(base, path, filters, size, max(params.page - 1, 0), previous_token)
            if previous_token is not None
            else None
        ),
        "url": _page_url(base, path, filters, size, params.page, params.token),
        "next_page_url": (
            _page_url(base, path, filters, size, params.page + 1, next_token)
            if next_token is not None
            else None
        ),
        "key": key,
    }
    return {"meta": meta, key: items}


def page_response(
    request: Request,
    key: str,
    page: Page[Any],
    items: list[dict[str, Any]],
    filters: Sequence[tuple[str, str]] = (),
    params: PageParams | None = None,
) -> Response:
    """A list answer: ``page`` rendered as ``items`` under ``key``, with ``meta``."""
    if params is None:
        params = parse_page_params(request)
    return json_response(
        page_body(
            request,
            key,
            items,
            params,
            next_token=page.next_token,
            previous_token=page.previous_token,
            filters=filters,
        )
    )
