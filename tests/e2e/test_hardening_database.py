"""Database faults against a real server on PostgreSQL (issue 17, items 10 and 13):
authenticated REST answers 503 (not 500) when the database is gone, with a Retry-After
that does not invite a retry storm; Health reports a database that takes no writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.e2e.attack import wait_for
from tests.e2e.server import Server, _pg_conninfo, postgres_database, running_server

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(300)]


@pytest.fixture
def pg_server(tmp_path: Path) -> Iterator[tuple[Server, str]]:
    with postgres_database() as url, running_server(url, tmp_path) as server:
        yield server, url.rsplit("/", 1)[1]


def _admin(sql: str) -> None:
    with psycopg.connect(_pg_conninfo("postgres"), autocommit=True) as conn:
        conn.execute(sql.encode())


def test_authenticated_requests_answer_503_when_postgresql_is_gone(
    pg_server: tuple[Server, str],
) -> None:
    server, name = pg_server
    auth = (server.account_sid, server.auth_token)
    assert httpx.get(f"{server.url}/v2/Flows", auth=auth).status_code == 200
    _admin(f'DROP DATABASE "{name}" WITH (FORCE)')
    for path in ("/v2/Flows", "/callboard/v1/Me", "/v1/Sinks"):
        response = httpx.get(server.url + path, auth=auth, timeout=30)
        assert response.status_code == 503, (path, response.text)
        assert response.json()["code"] == 20503
        assert int(response.headers["Retry-After"]) > 1  # not a one-second retry loop
    assert httpx.get(f"{server.url}/callboard/v1/Health", timeout=30).status_code == 503


def test_health_reports_a_database_that_takes_no_writes(pg_server: tuple[Server, str]) -> None:
    server, name = pg_server
    health = f"{server.url}/callboard/v1/Health"
    assert httpx.get(health).status_code == 200
    _admin(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    _admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )
    assert wait_for(lambda: httpx.get(health, timeout=30).status_code == 503, 20)
    body = httpx.get(health, timeout=30).json()
    assert body["code"] == 20503
