"""Start a real ``callboard serve`` process for end-to-end tests.

:func:`database_urls` gives the databases to run on: a SQLite file, and a fresh
``callboard_e2e_<random>`` database on the PostgreSQL at 127.0.0.1:5432 (user
``postgres``). When that PostgreSQL is unreachable the PostgreSQL case is skipped —
except under ``CI=true``, where it fails.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest

PG_HOST = os.environ.get("CALLBOARD_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("CALLBOARD_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("CALLBOARD_TEST_PG_USER", "postgres")
PG_PASSWORD = os.environ.get("CALLBOARD_TEST_PG_PASSWORD", "")


@dataclass(frozen=True)
class Server:
    url: str
    account_sid: str
    auth_token: str
    database_url: str
    env: dict[str, str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _pg_conninfo(dbname: str) -> str:
    info = f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={dbname} connect_timeout=3"
    return info + (f" password={PG_PASSWORD}" if PG_PASSWORD else "")


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty database; dropped afterwards. Skips (fails under CI) when the
    server is unreachable."""
    import psycopg

    name = f"callboard_e2e_{secrets.token_hex(6)}"
    try:
        with psycopg.connect(_pg_conninfo("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL at {PG_HOST}:{PG_PORT} is not reachable: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: the PostgreSQL tests must run)")
        pytest.skip(message)
    auth = f"{PG_USER}:{PG_PASSWORD}@" if PG_PASSWORD else f"{PG_USER}@"
    try:
        yield f"postgresql://{auth}{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with psycopg.connect(_pg_conninfo("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'e2e.db'}"
    else:
        with postgres_database() as url:
            yield url


def create_account(database_url: str) -> tuple[str, str]:
    """A new account on the database (created and migrated if need be): its SID and Auth
    Token. What ``callboard accounts create`` does (tests/commands/test_accounts.py
    covers the command), done in this process: a ``callboard`` subprocess pays ~3 s
    of imports before each server the tests start."""
    from callboard.channels.config import ChannelConfig
    from callboard.commands.compose import build_services

    services = build_services(database_url, channel_config=ChannelConfig())
    try:
        account = services.callboard.create_account(None)
    finally:
        services.close()
    return account.sid, account.auth_token


def with_new_account(server: Server) -> Server:
    """The same server, seen by a new account: tests that share one server (a module's)
    stay apart by account."""
    account_sid, auth_token = create_account(server.database_url)
    return replace(server, account_sid=account_sid, auth_token=auth_token)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "callboard.cli", *args]


@contextmanager
def running_server(
    database_url: str, tmp: Path, *, public_url: bool = False, **extra_env: str
) -> Iterator[Server]:
    """``public_url=True`` sets ``CALLBOARD_PUBLIC_URL`` to the server's own address (so
    the call-back URLs it gives Twilio are known before any webhook arrives)."""
    env = {
        **os.environ,
        "CALLBOARD_DATABASE_URL": database_url,
        "CALLBOARD_DATA_DIR": str(tmp),
        **extra_env,
    }
    env.pop("CALLBOARD_PUBLIC_URL", None)
    for name in ("TWILIO_EDGE", "TWILIO_REGION"):  # they would mangle the base URL
        env.pop(name, None)
    account_sid, auth_token = create_account(database_url)
    port = free_port()
    if public_url:
        env["CALLBOARD_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    log = (tmp / f"server-{port}.log").open("w")
    proc = subprocess.Popen(
        # one process: these tests read the server's in-memory state (throttles, metrics)
        _cli("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError(
                    f"callboard serve exited with {proc.returncode}:\n"
                    + (tmp / f"server-{port}.log").read_text()
                )
            try:
                if httpx.get(f"{url}/callboard/v1/Health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("callboard serve did not answer within 60 s")
            time.sleep(0.2)
        yield Server(
            url=url,
            account_sid=account_sid,
            auth_token=auth_token,
            database_url=database_url,
            env=env,
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
