"""``store.driver``: the hot statements straight to the driver give what SQLAlchemy
gave, on both databases, errors included (callers retry on IntegrityError)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from callboard.store import tables as t
from callboard.store.db import Database
from callboard.store.driver import fetch_all, fetch_row, insert_many, run
from callboard.store.flows import FlowToRun, flow_to_run
from callboard.store.requests import remember_request, stored_answer

NOW = datetime(2026, 12, 3, 12, 30, 1, 250)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    with database.write() as conn:
        conn.execute(
            t.accounts.insert(),
            {
                "sid": "AC1",
                "friendly_name": "a",
                "auth_token": "x",
                "date_created": NOW,
                "date_updated": NOW,
            },
        )
        conn.execute(
            t.flows.insert(),
            {
                "sid": "FW1",
                "account_sid": "AC1",
                "friendly_name": "f",
                "latest_revision": 2,
                "latest_published": 1,
                "test_users": '["+1"]',
                "date_created": NOW,
            },
        )
        for revision, valid in ((1, True), (2, False)):
            conn.execute(
                t.flow_revisions.insert(),
                {
                    "flow_sid": "FW1",
                    "revision": revision,
                    "account_sid": "AC1",
                    "friendly_name": "f",
                    "definition": "{}",
                    "status": "published" if revision == 1 else "draft",
                    "valid": valid,
                    "date_created": NOW,
                },
            )
    yield database
    database.dispose()


def test_requests_are_remembered_and_a_twin_raises_integrity_error(db: Database) -> None:
    with db.read() as conn:
        assert stored_answer(conn, "k1") is None
    with db.write() as conn:
        remember_request(conn, "k1", "AC1", '{"a":1}', None, NOW)
    with db.read() as conn:
        assert stored_answer(conn, "k1") == '{"a":1}'
        stored = conn.execute(select(t.processed_requests)).one()
    assert stored.date_created == NOW  # read back by SQLAlchemy as it wrote it
    with pytest.raises(IntegrityError), db.write() as conn:
        remember_request(conn, "k1", "AC1", "{}", None, NOW)
    with db.read() as conn:
        assert stored_answer(conn, "k1") == '{"a":1}'


def test_flow_to_run_reads_both_revisions(db: Database) -> None:
    with db.read() as conn:
        assert flow_to_run(conn, "AC1", "FW1") == FlowToRun('["+1"]', 2, 1, False, True)
        assert flow_to_run(conn, "AC2", "FW1") is None
        assert flow_to_run(conn, "AC1", "FW2") is None
    with db.write() as conn:
        conn.execute(t.flows.update().values(latest_published=None))
    with db.read() as conn:
        assert flow_to_run(conn, "AC1", "FW1") == FlowToRun('["+1"]', 2, None, False, None)


def test_rows_parameters_and_errors(db: Database) -> None:
    with db.write() as conn:
        run(conn, "UPDATE accounts SET friendly_name = ? WHERE sid = ?", ("50% ?", "AC1"))
    with db.read() as conn:
        assert fetch_row(conn, "SELECT friendly_name FROM accounts WHERE sid = ?", ("AC1",)) == (
            "50% ?",
        )
        assert fetch_all(conn, "SELECT sid FROM accounts WHERE sid LIKE 'AC%'", ()) == [("AC1",)]
        assert fetch_all(conn, "SELECT sid FROM accounts WHERE sid = ?", ("none",)) == []
    with pytest.raises((OperationalError, ProgrammingError)), db.read() as conn:
        fetch_row(conn, "SELECT nothing FROM nowhere", ())


def test_insert_many_writes_what_sqlalchemy_reads(db: Database) -> None:
    rows = [
        {
            "key": f"k{i}",
            "account_sid": "AC1",
            "result": "{}",
            "date_created": NOW,
            "execution_sid": None,
        }
        for i in range(3)
    ]
    with db.write() as conn:
        insert_many(conn, "processed_requests", rows)
    with db.read() as conn:
        found = conn.execute(select(t.processed_requests).order_by("key")).all()
    assert [(r.key, r.date_created) for r in found] == [(f"k{i}", NOW) for i in range(3)]
    with pytest.raises(IntegrityError), db.write() as conn:
        insert_many(conn, "processed_requests", rows[:1])


def test_insert_rows_many_rows_defaults_and_times(db: Database) -> None:
    """``insert_rows`` (a prebuilt statement per table and keys): many rows and one, the
    columns' defaults filled, datetimes (aware ones too) stored as SQLAlchemy stores
    them."""
    from datetime import UTC, timedelta

    from callboard.store.db import insert_rows

    n = 203
    rows = [
        {
            "key": f"m{i:04d}",
            "result": f"r{i}",
            "date_created": (NOW + timedelta(seconds=i)).replace(tzinfo=UTC if i % 2 else None),
            "execution_sid": None,
        }
        for i in range(n)
    ]
    with db.write() as conn:
        insert_rows(conn, t.processed_requests, rows)
        insert_rows(conn, t.processed_requests, [{"key": "one", "date_created": NOW}])
    with db.read() as conn:
        found = conn.execute(select(t.processed_requests).order_by("key")).all()
        later = conn.execute(
            select(t.processed_requests.c.key).where(
                t.processed_requests.c.date_created > NOW + timedelta(seconds=n - 2)
            )
        ).scalars()
        assert list(later) == [f"m{n - 1:04d}"]
    assert [(r.key, r.result, r.date_created) for r in found[:-1]] == [
        (f"m{i:04d}", f"r{i}", NOW + timedelta(seconds=i)) for i in range(n)
    ]
    assert (found[-1].key, found[-1].result, found[-1].account_sid) == ("one", None, None)
    with pytest.raises(IntegrityError), db.write() as conn:
        insert_rows(conn, t.processed_requests, rows[-2:])


def test_insert_rows_fills_scalar_defaults(db: Database) -> None:
    from callboard.store.db import insert_rows

    row = {
        "sid": "SM1",
        "account_sid": "AC1",
        "direction": "inbound",
        "to_address": "+1",
        "from_address": "+2",
        "body": "hi",
        "status": "received",
        "date_created": NOW,
    }
    with db.write() as conn:
        insert_rows(conn, t.messages, [row])
    with db.read() as conn:
        stored = conn.execute(select(t.messages)).one()
    assert (stored.media_urls, stored.date_created) == ("[]", NOW)
