"""A database that stays locked or is unreachable answers 503 with Twilio's body, never 500."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from callboard.api.errors import exception_handlers


async def locked(request: Request) -> Response:
    raise OperationalError("INSERT INTO executions ...", {}, Exception("database is locked"))


def test_locked_database_is_a_retryable_503() -> None:
    app = Starlette(routes=[Route("/x", locked)], exception_handlers=exception_handlers())
    response = TestClient(app, raise_server_exceptions=False).get("/x")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    body = response.json()
    assert body["code"] == 20503
    assert body["status"] == 503
    assert "Retry" in body["message"]
    assert set(body) >= {"code", "message", "more_info", "status"}
    assert "title" not in body
