"""Verified HTTP Basic credentials are cached per process (issue 11) and refused at once
when another process (here: a second set of services on the same database, as another
``callboard serve`` would be) rotates the Auth Token, deletes the API key, lowers its
creator's role or suspends the account. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from callboard.api.app import create_app
from callboard.api.services import Services
from callboard.channels.config import ChannelConfig
from callboard.commands.compose import build_services
from callboard.runtime.audit import Actor

ME = "/callboard/v1/Me"


@pytest.fixture
def pair(db_url: str) -> Iterator[tuple[Services, Services]]:
    """``(other, served)``: two processes' services on one database."""
    other = build_services(db_url, channel_config=ChannelConfig())
    served = build_services(db_url, channel_config=ChannelConfig(), migrate=False)
    try:
        yield other, served
    finally:
        served.close()
        other.close()


def _counting(services: Services, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The user names the served process checks against the database."""
    seen: list[str] = []
    real = services.callboard.authenticate

    def counted(user: str, password: str) -> Any:
        seen.append(user)
        return real(user, password)

    monkeypatch.setattr(services.callboard, "authenticate", counted)
    return seen


def test_a_rotated_token_is_refused_at_once(
    pair: tuple[Services, Services], monkeypatch: pytest.MonkeyPatch
) -> None:
    other, served = pair
    account = other.callboard.create_account("cache")
    checked = _counting(served, monkeypatch)
    with TestClient(create_app(served)) as client:
        old = (account.sid, account.auth_token)
        for _ in range(3):
            assert client.get(ME, auth=old).status_code == 200
        assert checked == [account.sid]  # checked once, then served from the cache
        rotated = other.callboard.rotate_auth_token(account.sid)
        refused = client.get(ME, auth=old)
        assert refused.status_code == 401 and refused.json()["code"] == 20003
        assert client.get(ME, auth=(account.sid, rotated.auth_token)).status_code == 200


def test_a_deleted_key_and_a_suspended_account_are_refused_at_once(
    pair: tuple[Services, Services],
) -> None:
    other, served = pair
    account = other.callboard.create_account("cache")
    key = other.callboard.create_api_key(account.sid, "k")
    spare = other.callboard.create_api_key(account.sid, "spare")
    with TestClient(create_app(served)) as client:
        auth = (key.key.sid, key.secret)
        spare_auth = (spare.key.sid, spare.secret)
        assert client.get(ME, auth=auth).status_code == 200
        assert client.get(ME, auth=spare_auth).status_code == 200
        other.callboard.delete_api_key(account.sid, key.key.sid)
        assert client.get(ME, auth=auth).status_code == 401
        assert client.get(ME, auth=spare_auth).status_code == 200
        with other.callboard.db.write() as conn:  # an operator suspends the account
            conn.execute(
                text("UPDATE accounts SET status = 'suspended' WHERE sid = :sid"),
                {"sid": account.sid},
            )
        assert client.get(ME, auth=spare_auth).status_code == 401
        assert client.get(ME, auth=(account.sid, account.auth_token)).status_code == 401


def test_a_key_follows_its_creators_role_at_once(pair: tuple[Services, Services]) -> None:
    other, served = pair
    account = other.callboard.create_account("cache")
    user = other.team.add_user(account.sid, "admin@example.com", "admin", "a long password 1")
    key = other.callboard.create_api_key(account.sid, "k")
    creator = Actor(user.user.email, user.user.sid, "admin")
    other.team.record_key(account.sid, key.key.sid, creator)
    with TestClient(create_app(served)) as client:
        auth = (key.key.sid, key.secret)
        assert client.get("/callboard/v1/Keys", auth=auth).status_code == 200
        other.team.set_role(account.sid, user.user.sid, "viewer")
        assert client.get("/callboard/v1/Keys", auth=auth).status_code == 403
        assert client.get(ME, auth=auth).status_code == 200
        other.team.remove_user(account.sid, user.user.sid)
        assert client.get(ME, auth=auth).status_code == 403
