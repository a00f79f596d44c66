"""The browser editor at ``/``: static files from ``callboard/api/static/`` (built by
``web/``), or a page saying that it has not been built.

The editor's route answers GET/HEAD only and never matches the API's paths (``/v1/``,
``/v2/``, ``/callboard/``, ``/docs``, ``/openapi.json``), so an unknown API path is a
Twilio 404 and a wrong method on an API path is a 405 naming that path's methods.
A path without a file extension that is not a file gets ``index.html`` (client-side
routes of the single-page editor).
"""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, HTMLResponse
from starlette.routing import Match, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

__all__ = ["API_PREFIXES", "EditorRoute"]

API_PREFIXES = ("/v1/", "/v2/", "/callboard/", "/docs", "/openapi.json")

NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Callboard</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:640px;
margin:64px auto;padding:0 16px;color:#1d2433}code{background:#eef0f3;padding:1px 4px}</style>
</head><body><h1>Callboard</h1>
<p>The server is running. The browser editor has not been built in this checkout
(<code>src/callboard/api/static/</code> is missing).</p>
<p>The Studio v2 REST API is at <code>/v2/Flows</code>; its documentation is at
<a href="/docs">/docs</a>.</p></body></html>"""


class EditorRoute(Route):
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files = StaticFiles(directory=directory, html=True) if directory.is_dir() else None
        super().__init__("/{path:path}", self._serve, methods=["GET"])
        self.app = self._serve  # an ASGI app, not a request handler

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        if scope.get("type") == "http" and (
            path in ("/v1", "/v2") or path.startswith(API_PREFIXES)
        ):
            return Match.NONE, {}
        return super().matches(scope)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "/")
        if self.files is None:
            if path != "/":
                raise HTTPException(404)
            await HTMLResponse(NOT_BUILT)(scope, receive, send)
            return
        try:
            await self.files(scope, receive, send)
        except HTTPException as exc:
            index = self.directory / "index.html"
            last = path.rstrip("/").rsplit("/", 1)[-1]
            if exc.status_code != 404 or "." in last or not index.is_file():
                raise
            await FileResponse(index)(scope, receive, send)
