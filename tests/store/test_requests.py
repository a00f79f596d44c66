"""``store.requests``: a stored answer reads back as the very text written, whether it
was stored short (without the execution SID its row holds) or, by an older version,
whole; on both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import select

from callboard.store import tables as t
from callboard.store.db import Database
from callboard.store.requests import remember_request, stored_answer
from callboard.store.values import dumps

NOW = datetime(2026, 12, 3, 12, 30, 1, 250)
SID = "FN" + "0123456789abcdef" * 2
NO_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def answer(sid: str | None = SID, **fields: object) -> str:
    """An inbound message's answer as the webhook stores it (InboundResult's keys)."""
    value = {
        "execution_sid": sid,
        "started": True,
        "accepted": True,
        "twiml": NO_TWIML,
        "status": "ended",
        "warnings": [],
    }
    return dumps({**value, **fields})


ANSWERS = [
    answer(),
    answer(status="active"),
    answer(status=None, started=False, accepted=False),
    answer(warnings=[{"code": 81002, "message": "ignored"}]),
    answer(twiml="<Response><Message>hi</Message></Response>"),
    answer(status="ended\u00e9"),
    dumps({"execution_sid": SID}),
    dumps({"status": "ended", "execution_sid": SID}),  # the SID not first
    dumps({"execution_sid": SID + "x"}),  # another SID
    dumps({"call": "CA1", "routed": True}),
    "{}",
]


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    yield database
    database.dispose()


def test_answers_read_back_as_written(db: Database) -> None:
    with db.write() as conn:
        for n, text in enumerate(ANSWERS):
            remember_request(conn, f"k{n}", "AC1", text, SID, NOW)
            remember_request(conn, f"none{n}", "AC1", text, None, NOW)
    with db.read() as conn:
        for n, text in enumerate(ANSWERS):
            assert stored_answer(conn, f"k{n}") == text
            assert stored_answer(conn, f"none{n}") == text
        query = select(t.processed_requests.c.key, t.processed_requests.c.result)
        stored = {row.key: row.result for row in conn.execute(query)}
    # the usual answers are stored without the SID, and their ending by number
    assert stored["k0"] == "@0" and stored["k1"] == "@1"
    assert stored["k3"].startswith('@,"started":true') and SID not in stored["k3"]
    assert stored["none0"] == ANSWERS[0]  # no execution in the row: kept whole
    assert stored["k7"] == ANSWERS[7] and stored["k8"] == ANSWERS[8]


def test_answers_stored_before_read_as_they_were(db: Database) -> None:
    """Rows an older version wrote (the whole JSON) are read unchanged."""
    rows = [
        {
            "key": f"old{n}",
            "account_sid": "AC1",
            "result": text,
            "date_created": NOW,
            "execution_sid": SID,
        }
        for n, text in enumerate(ANSWERS)
    ]
    with db.write() as conn:
        conn.execute(t.processed_requests.insert(), rows)
        conn.execute(
            t.processed_requests.insert(),
            {"key": "null", "result": None, "date_created": NOW, "execution_sid": None},
        )
    with db.read() as conn:
        for n, text in enumerate(ANSWERS):
            assert stored_answer(conn, f"old{n}") == text
        assert stored_answer(conn, "null") is None
        assert stored_answer(conn, "missing") is None


def test_every_numbered_ending_reads_back(db: Database) -> None:
    texts = [
        answer(started=started, accepted=accepted, status=status)
        for started in (True, False)
        for accepted in (True, False)
        for status in ("ended", "active", None)
    ]
    with db.write() as conn:
        for n, text in enumerate(texts):
            remember_request(conn, f"e{n}", None, text, SID, NOW)
    with db.read() as conn:
        for n, text in enumerate(texts):
            assert stored_answer(conn, f"e{n}") == text
            assert json.loads(text)["execution_sid"] == SID
        results = conn.execute(select(t.processed_requests.c.result)).scalars().all()
    assert sorted(results, key=lambda r: int(r[1:])) == [f"@{n}" for n in range(len(texts))]


def test_an_sid_json_escapes_is_kept_whole(db: Database) -> None:
    odd = 'FN"\\'
    text = answer(odd)
    with db.write() as conn:
        remember_request(conn, "odd", None, text, odd, NOW)
    with db.read() as conn:
        assert stored_answer(conn, "odd") == text
