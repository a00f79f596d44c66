"""The credentials generation (issue 11, migration 1200): the database's triggers bump it
in the transaction of every change HTTP Basic authentication depends on, whoever makes
it; a rolled-back change leaves it alone. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from callboard.runtime.audit import Actor
from callboard.runtime.service import Callboard
from callboard.runtime.team import Team
from callboard.store.credentials import GenerationReader, read_generation

SET_STATUS = text("UPDATE accounts SET status = :status WHERE sid = :s")


@pytest.fixture
def reader(service: Callboard) -> Iterator[GenerationReader]:
    found = GenerationReader(service.db)
    assert found.connect()
    yield found
    found.close()


def test_every_credential_change_bumps_the_generation(
    service: Callboard, reader: GenerationReader
) -> None:
    team = Team(service.db)
    account = service.create_account("generation")
    start = reader.read()
    assert start is not None
    with service.db.read() as conn:
        assert read_generation(conn) == start

    def moved() -> bool:
        nonlocal start
        now = reader.read()
        assert now is not None
        changed, start = now != start, now
        return changed

    key = service.create_api_key(account.sid, "k")
    assert not moved()  # a new key was in no cache
    owner = Actor("owner", account.sid, "owner")
    team.record_key(account.sid, key.key.sid, owner, "editor")
    assert moved()
    user = team.add_user(account.sid, "a@example.com", "admin", "a long password 1")
    assert not moved()
    team.set_role(account.sid, user.user.sid, "viewer")
    assert moved()
    team.remove_user(account.sid, user.user.sid)
    assert moved()
    service.rotate_auth_token(account.sid)
    assert moved()
    service.delete_api_key(account.sid, key.key.sid)
    assert moved()
    with service.db.write() as conn:  # an operator's SQL: suspend the account
        conn.execute(
            text("UPDATE accounts SET status = 'suspended' WHERE sid = :s"), {"s": account.sid}
        )
    assert moved()
    with pytest.raises(RuntimeError), service.db.write() as conn:
        conn.execute(
            text("UPDATE accounts SET status = 'active' WHERE sid = :s"), {"s": account.sid}
        )
        raise RuntimeError("rolled back")
    assert not moved()


def test_the_reader_answers_none_once_closed(service: Callboard) -> None:
    reader = GenerationReader(service.db)
    assert reader.read() is None  # not connected yet
    assert reader.connect() and reader.read() is not None
    reader.close()
    assert reader.read() is None and not reader.connect()
