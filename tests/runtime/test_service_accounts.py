"""Accounts, API keys and authentication."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from callboard.runtime.records import Account, NotFound
from callboard.runtime.service import Callboard
from callboard.store import tables as t


def test_account_sid_and_token_shapes(service: Callboard, account: Account) -> None:
    assert account.sid.startswith("AC") and len(account.sid) == 34
    assert len(account.auth_token) == 32 and int(account.auth_token, 16) >= 0
    assert [a.sid for a in service.list_accounts()] == [account.sid]
    assert service.count_accounts() == 1
    assert service.fetch_account(account.sid) == account


def test_authenticate_with_account_token(service: Callboard, account: Account) -> None:
    found = service.authenticate(account.sid, account.auth_token)
    assert found is not None and found.sid == account.sid


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("", ""),
        ("AC" + "0" * 32, "whatever"),  # unknown account
        ("SK" + "0" * 32, "whatever"),  # unknown key
        ("nobody", "x"),
    ],
)
def test_authenticate_refuses_unknown_credentials(
    service: Callboard, account: Account, username: str, password: str
) -> None:
    assert service.authenticate(username, password) is None


def test_wrong_token_is_refused(service: Callboard, account: Account) -> None:
    assert service.authenticate(account.sid, account.auth_token[:-1] + "x") is None


def test_rotating_the_token_stops_the_old_one_at_once(service: Callboard, account: Account) -> None:
    assert service.authenticate(account.sid, account.auth_token) is not None
    rotated = service.rotate_auth_token(account.sid)
    assert rotated.auth_token != account.auth_token
    assert service.authenticate(account.sid, account.auth_token) is None
    assert service.authenticate(account.sid, rotated.auth_token) is not None
    with pytest.raises(NotFound):
        service.rotate_auth_token("AC" + "f" * 32)


def test_api_key_secret_is_shown_once_and_stored_hashed(
    service: Callboard, account: Account
) -> None:
    created = service.create_api_key(account.sid, "ci")
    assert created.key.sid.startswith("SK") and created.key.account_sid == account.sid
    with service.db.read() as conn:
        stored = conn.execute(select(t.api_keys.c.secret_hash)).scalar_one()
    assert created.secret not in stored and stored.startswith("scrypt$")
    found = service.authenticate(created.key.sid, created.secret)
    assert found is not None and found.sid == account.sid
    assert service.authenticate(created.key.sid, created.secret)  # cached path, same answer
    assert service.authenticate(created.key.sid, created.secret + "x") is None
    assert [k.sid for k in service.list_api_keys(account.sid)] == [created.key.sid]


def test_deleted_key_stops_working_even_when_cached(service: Callboard, account: Account) -> None:
    created = service.create_api_key(account.sid)
    assert service.authenticate(created.key.sid, created.secret) is not None
    # Deleted behind the service's back (e.g. by `callboard keys delete` in another process).
    with service.db.write() as conn:
        conn.execute(t.api_keys.delete())
    assert service.authenticate(created.key.sid, created.secret) is None


def test_keys_belong_to_their_account(service: Callboard, account: Account, other: Account) -> None:
    created = service.create_api_key(account.sid)
    with pytest.raises(NotFound):
        service.delete_api_key(other.sid, created.key.sid)
    assert service.list_api_keys(other.sid) == []
    with pytest.raises(NotFound):
        service.create_api_key("AC" + "e" * 32)
