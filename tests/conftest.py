"""Shared fixtures: ``db_url``, an empty database on SQLite and on PostgreSQL.

``db_url`` is parametrised ``["sqlite", "postgresql"]``. SQLite is a file in the test's
temporary folder. PostgreSQL (127.0.0.1:5432, user ``postgres``, trust auth; override
with ``CALLBOARD_TEST_POSTGRES``) gets a fresh database per test, named
``callboard_test_<random>`` and dropped afterwards. When the server cannot be reached
the PostgreSQL tests are skipped — except when ``CI=true``, where they fail: CI must
exercise both databases.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from callboard.api.services import Services
from callboard.channels.config import ChannelConfig
from callboard.commands.compose import build_services
from callboard.engine.env import FakeEnv
from callboard.runtime.records import Account
from callboard.runtime.service import Callboard

POSTGRES_ADMIN = os.environ.get(
    "CALLBOARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)

_pg_state: dict[str, object] = {}

# The suite talks to a local Twilio stand-in and local HTTP receivers: allow loopback
# for the outbound requests of every service and server the tests start (egress
# control refuses it by default; tests/e2e/test_hardening_egress.py checks that default).
os.environ.setdefault("CALLBOARD_OUTBOUND_ALLOW", "127.0.0.1/32,::1/128,localhost")


def _postgres_error() -> str | None:
    """None when the server answers; else why not (checked once per session)."""
    if "error" not in _pg_state:
        try:
            import psycopg

            with psycopg.connect(POSTGRES_ADMIN, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _pg_state["error"] = None
        except Exception as exc:
            _pg_state["error"] = f"{type(exc).__name__}: {exc}"
    error = _pg_state["error"]
    return None if error is None else str(error)


def _unavailable(reason: str) -> None:
    message = f"PostgreSQL at {POSTGRES_ADMIN} is not reachable: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: PostgreSQL tests must run)")
    pytest.skip(message)


def _admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """The name of a PostgreSQL database migrated to the newest schema once per session
    (what :func:`build_services` makes of an empty one), dropped at the end."""
    error = _postgres_error()
    if error is not None:
        _unavailable(error)
    name = f"callboard_template_{secrets.token_hex(6)}"
    _admin_sql(f'CREATE DATABASE "{name}"')
    try:
        _migrate(f"{POSTGRES_ADMIN.rsplit('/', 1)[0]}/{name}")
        yield name
    finally:
        _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest schema once per session."""
    path = tmp_path_factory.mktemp("template") / "callboard.db"
    _migrate(f"sqlite:///{path}")
    return path


def _migrate(url: str) -> None:
    build_services(url, channel_config=ChannelConfig()).close()


def migrated_sqlite(url: str, template: Path) -> None:
    """For a SQLite URL whose file does not exist yet: put a copy of the migrated
    template there, the schema a fresh database gets, without running every migration
    for every test (tests/store/test_migrations.py runs them on empty databases)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            shutil.copyfile(template, path)


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh PostgreSQL database for one test (dropped afterwards): empty, or, when the
    test builds the ``services`` fixture on it (which migrates it first thing), a copy
    of :func:`postgres_template`, already migrated."""
    error = _postgres_error()
    if error is not None:
        _unavailable(error)
    name = f"callboard_test_{secrets.token_hex(6)}"
    if "services" in request.fixturenames:
        template = request.getfixturevalue("postgres_template")
        _admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    else:
        _admin_sql(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'callboard.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


# The service on a fresh database (both back ends through ``db_url``), with a fake clock,
# and two accounts: the one under test and another, for isolation checks.
@pytest.fixture
def env() -> FakeEnv:
    return FakeEnv()


@pytest.fixture
def services(db_url: str, env: FakeEnv, sqlite_template: Path) -> Iterator[Services]:
    """Everything, wired by the composition root (the simulator channel: no Twilio), on
    the database migrated (from the session's template: see :func:`postgres_url`)."""
    migrated_sqlite(db_url, sqlite_template)
    built = build_services(db_url, env=env, channel_config=ChannelConfig())
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def service(services: Services) -> Callboard:
    return services.callboard


@pytest.fixture
def account(service: Callboard) -> Account:
    return service.create_account("Test account")


@pytest.fixture
def other(service: Callboard) -> Account:
    return service.create_account("Someone else")
