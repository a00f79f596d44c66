"""One events row per run (callboard.events.batches): the CloudEvents read back are the
very JSON text recording them one by one gave; long runs take several rows; rows written
before still read; positions page the log without repeating or skipping an event."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from callboard.events.batches import ROW_EVENTS, read_events, row_entries, row_events
from callboard.events.delivery import EventDelivery
from callboard.events.envelope import (
    EVENT_TYPES,
    EXECUTION_ENDED,
    EXECUTION_STARTED,
    STEP_ENDED,
    ended_reason,
)
from callboard.events.recording import build_event_rows, event_row, insert_event_rows
from callboard.events.service import EventStreams
from callboard.runtime.records import Account
from callboard.runtime.service import Callboard
from callboard.store.event_tables import events
from tests.events.conftest import Senders, two_step_flow


@dataclass
class Ex:
    sid: str = "FN" + "1" * 32
    account_sid: str = "AC" + "2" * 32
    flow_sid: str = "FW" + "3" * 32
    flow_version: int = 3
    contact: str = "+15550001"
    initiated_by: str = "SM" + "4" * 32
    date_created: datetime | None = None


def step(i: int, when: datetime | None, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "sid": f"FT{i:032x}",
        "execution_sid": Ex.sid,
        "seq": i + 1,
        "name": f"w{i}",
        "transitioned_from": "Trigger" if i == 0 else f"w{i - 1}",
        "transitioned_to": f"w{i + 1}",
        "type": "set-variables",
        "parent_step_sid": None,
        "date_created": when,
    }
    row.update(extra)
    return row


def as_rows(built: list[dict[str, Any]], first_id: int = 7) -> list[Any]:
    return [SimpleNamespace(id=first_id + i, **row) for i, row in enumerate(built)]


def ms(when: datetime) -> str:
    """The reference ``ms_time`` (as Callboard formatted times before)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def one_by_one(
    ex: Ex,
    steps: list[dict[str, Any]],
    ids: list[str],
    *,
    started: bool,
    ended: bool,
    now: datetime,
    reason: str | None,
    created: datetime | None,
) -> list[str]:
    """The JSON recording each event as its own row gave (the specification)."""
    path = f"/v2/Flows/{ex.flow_sid}/Executions/{ex.sid}"
    out: list[dict[str, Any]] = []

    def envelope(type_: str, source: str, data: dict[str, Any], when: datetime) -> None:
        out.append(
            {
                "specversion": "1.0",
                "type": type_,
                "source": source,
                "id": ids[len(out)],
                "datacontenttype": "application/json",
                "time": ms(when),
                "data": data,
                "dataschema": EVENT_TYPES[type_].dataschema,
            }
        )

    def execution(status: str) -> dict[str, Any]:
        data = {
            "execution_sid": ex.sid,
            "account_sid": ex.account_sid,
            "flow_sid": ex.flow_sid,
            "contact_channel_address": ex.contact,
            "status": status,
            "date_created": ms(created or now),
            "date_updated": ms(now),
            "started_by": ex.initiated_by,
            "flow_revision": ex.flow_version,
        }
        if status == "ended":
            data["ended_reason"] = ended_reason(reason)
        return data

    if started:
        envelope(EXECUTION_STARTED, path, execution("active"), created or now)
    for s in steps:
        when = s.get("date_created") or now
        data = {
            "account_sid": ex.account_sid,
            "flow_sid": ex.flow_sid,
            "execution_sid": ex.sid,
            "step_sid": s["sid"],
            "parent_step_sid": s.get("parent_step_sid"),
            "name": s["name"],
            "transitioned_from": s["transitioned_from"],
            "transitioned_to": s["transitioned_to"],
            "type": s.get("type"),
            "flow_revision": ex.flow_version,
            "date_created": ms(when),
        }
        envelope(STEP_ENDED, f"{path}/Steps/{s['sid']}", data, when)
    if ended:
        envelope(EXECUTION_ENDED, path, execution("ended"), now)
    return [json.dumps(e, separators=(",", ":"), ensure_ascii=False) for e in out]


NOW = datetime(2026, 12, 3, 15, 50, 21, 329_871, tzinfo=UTC)
CREATED = datetime(2026, 12, 3, 15, 50, 21, 318_999)  # naive UTC, as rows hold them
EAST = timezone(timedelta(hours=5, minutes=30))

CASES = {
    "a whole run": dict(
        steps=[step(i, CREATED + timedelta(microseconds=1500 * i)) for i in range(4)],
        started=True,
        ended=True,
        reason="completed",
        created=CREATED,
    ),
    "a later delivery that waits again": dict(
        steps=[step(0, None, type=None, name='héllo ✓ "q"', parent_step_sid="FT" + "9" * 32)],
        started=False,
        ended=False,
        reason=None,
        created=CREATED,
    ),
    "ended by REST, no steps": dict(
        steps=[], started=False, ended=True, reason="ended", created=None
    ),
    "failed, times in another zone": dict(
        steps=[step(0, NOW.astimezone(EAST) - timedelta(days=400))],
        started=True,
        ended=True,
        reason="failed",
        created=NOW.astimezone(EAST) - timedelta(days=400, milliseconds=3),
    ),
    "started only": dict(steps=[], started=True, ended=False, reason=None, created=CREATED),
    "ended without a reason": dict(
        steps=[], started=False, ended=True, reason=None, created=CREATED
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_events_read_back_are_the_json_recording_them_one_by_one_gave(case: str) -> None:
    spec = CASES[case]
    ex = Ex()
    built = build_event_rows(
        ex,
        spec["steps"],
        started=spec["started"],
        ended=spec["ended"],
        now=NOW,
        reason=spec["reason"],
        created=spec["created"],
        initiated_by=ex.initiated_by,
    )  # no connection needed
    assert len(built) == 1
    got = row_events(as_rows(built)[0])
    assert [e.id for e in got] == [7 * ROW_EVENTS + i for i in range(len(got))]
    expected = one_by_one(
        ex,
        spec["steps"],
        [e.sid for e in got],
        started=spec["started"],
        ended=spec["ended"],
        now=NOW,
        reason=spec["reason"],
        created=spec["created"],
    )
    assert [e.payload for e in got] == expected
    assert [e.type for e in got] == [json.loads(p)["type"] for p in expected]
    assert [(e.id, e.sid, e.type) for e in row_entries(as_rows(built)[0])] == [
        (e.id, e.sid, e.type) for e in got
    ]


def test_event_ids_look_random_and_never_repeat() -> None:
    ids = []
    for _ in range(200):
        built = build_event_rows(
            Ex(), [step(0, CREATED)], started=True, ended=True, now=NOW, reason="completed"
        )
        ids.extend(e.sid for e in row_entries(as_rows(built)[0]))
    assert all(re.fullmatch(r"EZ[0-9a-f]{32}", i) for i in ids)
    assert len(set(ids)) == len(ids) == 600


@pytest.mark.parametrize("count", [ROW_EVENTS - 2, ROW_EVENTS - 1, ROW_EVENTS, 150])
def test_a_long_run_takes_several_rows_in_order(count: int) -> None:
    steps = [step(i, CREATED) for i in range(count)]
    built = build_event_rows(Ex(), steps, started=True, ended=True, now=NOW, reason="completed")
    assert len(built) == -(-(count + 2) // ROW_EVENTS)
    got = [e for row in as_rows(built) for e in row_events(row)]
    assert [e.type for e in got] == [EXECUTION_STARTED, *[STEP_ENDED] * count, EXECUTION_ENDED]
    assert [json.loads(e.payload)["data"].get("step_sid") for e in got[1:-1]] == [
        s["sid"] for s in steps
    ]
    positions = [e.id for e in got]
    assert positions == sorted(set(positions))
    assert len({e.sid for e in got}) == len(got)


def test_nothing_to_announce_makes_no_row() -> None:
    assert build_event_rows(Ex(), [], started=False, ended=False, now=NOW) == []


def legacy_rows(account: Account, flow_sid: str, when: datetime) -> list[dict[str, Any]]:
    """Rows as Callboard wrote them before one row per run: one per event, the JSON in
    ``payload`` (before 0950) or packed in ``payload_z`` (0950)."""
    out = []
    for i, type_ in enumerate((EXECUTION_STARTED, STEP_ENDED, EXECUTION_ENDED)):
        event = {"specversion": "1.0", "type": type_, "id": f"EZ{i:032x}", "data": {"n": i}}
        row = event_row(event, account.sid, flow_sid, "FN" + "0" * 32, when)
        if i == 0:
            row["payload"], row["payload_z"] = json.dumps(event), None
        out.append(row)
    return out


def test_rows_written_before_still_read_stream_and_deliver(
    service: Callboard,
    account: Account,
    streams: EventStreams,
    delivery: EventDelivery,
    senders: Senders,
) -> None:
    flow = service.create_flow(
        account.sid, friendly_name="f", status="published", definition=two_step_flow()
    )
    sink = streams.create_sink(
        account.sid,
        description="a",
        sink_type="webhook",
        configuration={"destination": "http://a.test/hook"},
    )
    streams.create_subscription(
        account.sid,
        description="all",
        sink_sid=sink.sid,
        types=[(EXECUTION_STARTED, 2), (STEP_ENDED, 2), (EXECUTION_ENDED, 2)],
    )
    old = legacy_rows(account, flow.sid, streams.env.now())
    with service.db.write() as conn:
        conn.execute(events.insert(), old)
    service.create_execution(account.sid, flow.sid, to="+15550001", from_="+15550002")
    everything = streams.flow_events(account.sid, flow.sid, 0)
    assert [e.sid for e in everything[:3]] == [r["sid"] for r in old]
    assert json.loads(everything[0].payload)["data"] == {"n": 0}
    assert [e.type for e in everything[3:]] == [
        EXECUTION_STARTED,
        *[STEP_ENDED] * 3,
        EXECUTION_ENDED,
    ]
    positions = [e.id for e in everything]
    assert positions == sorted(set(positions))
    for i, position in enumerate(positions):  # resuming anywhere: the rest, exactly
        assert streams.flow_events(account.sid, flow.sid, position) == everything[i + 1 :]
    assert (
        streams.flow_events(account.sid, flow.sid, streams.check_flow(account.sid, flow.sid)) == []
    )
    delivery.run_once()
    got = senders["http://a.test/hook"].received
    assert sorted(json.dumps(e, sort_keys=True) for e in got) == sorted(
        json.dumps(json.loads(e.payload), sort_keys=True) for e in everything
    )


def test_the_stream_pages_through_runs_without_repeating_or_skipping(
    service: Callboard, account: Account, streams: EventStreams
) -> None:
    flow = service.create_flow(
        account.sid, friendly_name="f", status="published", definition=two_step_flow()
    )
    for i in range(5):
        service.create_execution(account.sid, flow.sid, to=f"+1555000{i}", from_="+15550002")
    everything = streams.flow_events(account.sid, flow.sid, 0)
    assert len(everything) == 5 * 5
    with service.db.read() as conn:
        assert len(read_events(conn, events.c.flow_sid == flow.sid)) == len(everything)
    for limit in (1, 2, 3):
        seen, after = [], 0
        while page := streams.flow_events(account.sid, flow.sid, after, limit):
            assert len(page) >= limit or page[-1] == everything[-1]
            seen.extend(page)
            after = page[-1].id
        assert seen == everything


def test_started_by_is_null_only_when_given_as_none() -> None:
    def started_by(**given: Any) -> Any:
        built = build_event_rows(Ex(), [], started=True, ended=False, now=NOW, **given)
        return json.loads(row_events(as_rows(built)[0])[0].payload)["data"]["started_by"]

    assert started_by() == Ex.initiated_by
    assert started_by(initiated_by="") == Ex.initiated_by
    assert started_by(initiated_by="RQ" + "5" * 32) == "RQ" + "5" * 32
    assert started_by(initiated_by=None) is None


def test_rows_built_before_the_transaction_are_inserted_in_it(
    service: Callboard, account: Account, streams: EventStreams
) -> None:
    """What a runner that computes outside the write lock does: build, then insert."""
    flow = service.create_flow(
        account.sid, friendly_name="f", status="published", definition=two_step_flow()
    )
    ex = Ex(account_sid=account.sid, flow_sid=flow.sid, date_created=CREATED)
    steps = [step(i, CREATED) for i in range(3)]
    built = build_event_rows(ex, steps, started=True, ended=True, now=NOW, reason="completed")
    with service.db.write() as conn:
        assert insert_event_rows(conn, built) == 1
    got = streams.flow_events(account.sid, flow.sid, 0)
    assert [e.payload for e in got] == one_by_one(
        ex,
        steps,
        [e.sid for e in got],
        started=True,
        ended=True,
        now=NOW,
        reason="completed",
        created=CREATED,
    )
