"""Finding a request's route without trying every route (issue 11).

Starlette's router tries its routes in order until one matches: the Flow webhook
(``/v1/Accounts/…``) came after some fifty others, each a regular expression. The
:class:`RouteIndex` goes first in the app's routes: it tries, in the same order, only
the routes whose path's literal beginning (the text before its first ``{``) the request
path starts with — no other route can match it — and hands the request to the first that
matches fully. When none does (a 404, a 405 or a redirect), it steps aside and the
router tries every route as before, so answers are unchanged. Routes that decide
matching themselves (an overridden ``matches``, e.g. the editor's) are always tried.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import Receive, Scope, Send

__all__ = ["RouteIndex"]

MATCHED = "callboard.route"
MAX_KEYS = 1024


def _literal_prefix(route: BaseRoute) -> str | None:
    """What every path the route matches starts with; None: unknown (always tried)."""
    if not isinstance(route, Route) or type(route).matches is not Route.matches:
        return None
    return route.path.split("{", 1)[0]


def _key(path: str) -> str:
    """The path up to its third ``/`` (``/v1/Accounts/``), or all of it."""
    cut = -1
    for _ in range(3):
        cut = path.find("/", cut + 1)
        if cut < 0:
            return path
    return path[: cut + 1]


class RouteIndex(BaseRoute):
    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.routes = [(route, _literal_prefix(route)) for route in routes]
        self._by_key: dict[str, list[tuple[BaseRoute, str | None]]] = {}

    def _candidates(self, path: str) -> list[tuple[BaseRoute, str | None]]:
        key = _key(path)
        found = self._by_key.get(key)
        if found is None:
            # a route can match a path with this key only if the two beginnings agree
            found = [
                (route, prefix)
                for route, prefix in self.routes
                if prefix is None or prefix.startswith(key) or key.startswith(prefix)
            ]
            if len(self._by_key) >= MAX_KEYS:
                self._by_key.clear()
            self._by_key[key] = found
        return found

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope.get("root_path"):
            return Match.NONE, {}
        path = scope["path"]
        for route, prefix in self._candidates(path):
            if prefix is not None and not path.startswith(prefix):
                continue
            match, child = route.matches(scope)
            if match is Match.FULL:
                return Match.FULL, {**child, MATCHED: route}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = scope.pop(MATCHED)
        scope["route"] = route
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)  # the routes themselves answer (they follow)
