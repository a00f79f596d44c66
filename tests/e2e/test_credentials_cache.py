"""Credentials cached per process (issue 11) over a real ``callboard serve --workers 2``:
an API key deleted through the API (by whichever process takes that request) and an Auth
Token rotated by the CLI (another process again) are refused at once by both server
processes, though each had the old credentials cached. SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.durability import Process, cli, create_account, server_env
from tests.e2e.server import database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

ME = "/callboard/v1/Me"
ROUNDS = 16  # fresh connections: the kernel spreads them over both processes


def _statuses(url: str, auth: tuple[str, str], rounds: int = ROUNDS) -> set[int]:
    seen = set()
    for _ in range(rounds):
        with httpx.Client(base_url=url, auth=auth, timeout=30) as one:
            seen.add(one.get(ME).status_code)
    return seen


def _refused(url: str, auth: tuple[str, str]) -> None:
    """Never accepted again: 401, or 429 once the wrong credentials are throttled."""
    seen = _statuses(url, auth, rounds=8)
    assert 401 in seen and seen <= {401, 429}, seen


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_changed_credentials_are_refused_at_once_by_every_process(
    kind: str, tmp_path: Path
) -> None:
    with database(kind, tmp_path) as url:
        env = server_env(url, tmp_path)
        server = Process(env, tmp_path, args=("--workers", "2"))
        server.start()
        try:
            account_sid, token = create_account(env)
            owner = (account_sid, token)
            with httpx.Client(base_url=server.url, auth=owner, timeout=30) as api:
                made = api.post("/callboard/v1/Keys", data={"FriendlyName": "cached"})
                assert made.status_code == 201, made.text
                key = (made.json()["sid"], made.json()["secret"])
                assert _statuses(server.url, key) == {200}  # cached by both processes
                assert _statuses(server.url, owner) == {200}
                gone = api.delete(f"/callboard/v1/Keys/{key[0]}")
                assert gone.status_code == 204, gone.text
            _refused(server.url, key)
            rotated = subprocess.run(
                cli("accounts", "rotate-token", account_sid, "--json"),
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert rotated.returncode == 0, rotated.stderr
            _refused(server.url, owner)
        finally:
            server.stop()
