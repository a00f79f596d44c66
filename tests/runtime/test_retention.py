"""Retention: 30 days after the end, 60 days stuck, configurable, batched, dry run."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from callboard.engine.env import FakeEnv
from callboard.events.batches import read_events
from callboard.runtime.records import Account, NotFound
from callboard.runtime.retention import RetentionJob, RetentionPolicy, count, purge
from callboard.runtime.service import Callboard
from callboard.runtime.settings import Settings, SettingsError
from callboard.store import tables as t
from callboard.store.db import Database
from callboard.store.event_tables import events
from callboard.store.locks import RETENTION
from tests.runtime.conftest import ask_flow, send_flow

DAY = 86400.0


def _count(service: Callboard, table: Any) -> int:
    with service.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _flow(service: Callboard, account: Account, definition: dict[str, Any]) -> str:
    return service.create_flow(
        account.sid, friendly_name="f", status="published", definition=definition
    ).sid


def _sms(sid: str, contact: str) -> dict[str, str]:
    return {"MessageSid": sid, "From": contact, "To": "+15559999", "Body": "hi"}


def test_ended_executions_are_deleted_30_days_after_they_ended(
    service: Callboard, account: Account, env: FakeEnv
) -> None:
    ask = _flow(service, account, ask_flow())
    first = service.inbound_message(account.sid, ask, _sms("SM1", "+1"))  # active...
    env.advance(10 * DAY)
    service.inbound_message(account.sid, ask, _sms("SM2", "+1"))  # ...ends on day 10
    service.inbound_message(account.sid, ask, _sms("SM3", "+1"))  # a new one (active)
    send = _flow(service, account, send_flow())
    policy = RetentionPolicy()
    env.advance(29 * DAY)  # day 39: the first ended 29 days ago
    keep = service.create_execution(account.sid, send, to="+2", from_="+3")  # ended at once
    assert purge(service.executor, policy).deleted == 0
    env.advance(1 * DAY + 1)  # day 40 (+1 s): 30 days after its end
    report = purge(service.executor, policy)
    assert (report.expired_deleted, report.stuck_deleted) == (1, 0)
    with pytest.raises(NotFound):
        service.fetch_execution(account.sid, ask, first.execution_sid or "")
    with service.db.read() as conn:
        left = set(conn.execute(select(t.executions.c.sid)).scalars())
        keys = set(conn.execute(select(t.processed_requests.c.key)).scalars())
        orphan_steps = conn.execute(
            select(func.count())
            .select_from(t.steps)
            .where(t.steps.c.execution_sid == first.execution_sid)
        ).scalar_one()
        detached = conn.execute(
            select(func.count()).select_from(t.messages).where(t.messages.c.execution_sid.is_(None))
        ).scalar_one()
    assert first.execution_sid not in left and keep.sid in left and len(left) == 2
    assert keys == {f"msg:{account.sid}:SM3"}  # the deleted execution's requests went too
    assert orphan_steps == 0
    assert detached == 2  # the messages stay (the channel's log), detached


def test_stuck_executions_are_ended_then_deleted_after_60_days(
    service: Callboard, account: Account, env: FakeEnv
) -> None:
    ask = _flow(service, account, ask_flow(timeout="86400000"))  # waits ~1000 days
    old = service.create_execution(account.sid, ask, to="+1", from_="+9")
    env.advance(30 * DAY)
    young = service.create_execution(account.sid, ask, to="+2", from_="+9")
    env.advance(30 * DAY + 1)  # old: 60 days (+1 s) after its creation
    assert count(service.executor, RetentionPolicy()).stuck == 1
    report = purge(service.executor, RetentionPolicy())
    assert (report.stuck_ended, report.stuck_deleted, report.expired_deleted) == (1, 1, 0)
    with pytest.raises(NotFound):
        service.fetch_execution(account.sid, ask, old.sid)
    assert service.fetch_execution(account.sid, ask, young.sid).status == "active"
    with service.db.read() as conn:
        timers_left = set(conn.execute(select(t.timers.c.execution_sid)).scalars())
        ended = [
            json.loads(e.payload) for e in read_events(conn, events.c.execution_sid == old.sid)
        ]
    assert timers_left == {young.sid}
    last = ended[-1]
    assert last["type"].endswith("execution.ended") and "STUCK" in json.dumps(last["data"])
    # The contact's slot is free again: a new message starts a new conversation.
    assert service.create_execution(account.sid, ask, to="+1", from_="+9").status == "active"


def test_both_periods_are_configurable(service: Callboard, account: Account, env: FakeEnv) -> None:
    send = _flow(service, account, send_flow())
    ask = _flow(service, account, ask_flow(timeout="86400000"))
    service.create_execution(account.sid, send, to="+1", from_="+2")
    service.create_execution(account.sid, ask, to="+1", from_="+2")
    env.advance(2 * DAY)
    assert purge(service.executor, RetentionPolicy()).deleted == 0
    report = purge(service.executor, RetentionPolicy(days_after_end=1, stuck_days=1.5))
    assert (report.expired_deleted, report.stuck_deleted) == (1, 1)
    assert _count(service, t.executions) == 0


def test_dry_run_counts_and_changes_nothing_and_batches_report_progress(
    service: Callboard, account: Account, env: FakeEnv
) -> None:
    send = _flow(service, account, send_flow())
    for i in range(7):
        service.create_execution(account.sid, send, to=f"+1{i}", from_="+2")
    env.advance(31 * DAY)
    steps = _count(service, t.steps)
    dry = purge(service.executor, RetentionPolicy(), dry_run=True)
    assert dry.dry_run and dry.expired_deleted == 7
    assert _count(service, t.executions) == 7 and _count(service, t.steps) == steps
    seen: list[int] = []
    report = purge(service.executor, RetentionPolicy(), batch_size=3, progress=seen.append)
    assert report.expired_deleted == 7 and seen == [3, 3, 1]
    assert _count(service, t.executions) == 0 and _count(service, t.steps) == 0


def test_the_background_job_runs_the_policy(
    service: Callboard, account: Account, env: FakeEnv
) -> None:
    send = _flow(service, account, send_flow())
    service.create_execution(account.sid, send, to="+1", from_="+2")
    env.advance(31 * DAY)
    job = RetentionJob(service.executor, RetentionPolicy(), interval=3600, delay=0.0)
    job.start()
    try:
        for _ in range(200):
            if _count(service, t.executions) == 0:
                break
            job._stop.wait(0.05)
    finally:
        job.stop()
    assert _count(service, t.executions) == 0


def test_the_background_job_runs_once_per_database(
    service: Callboard, account: Account, env: FakeEnv
) -> None:
    """Another process holding the retention lock: this one skips its turn."""
    send = _flow(service, account, send_flow())
    service.create_execution(account.sid, send, to="+1", from_="+2")
    env.advance(31 * DAY)
    job = RetentionJob(service.executor, RetentionPolicy(), interval=3600, delay=0.0)
    other = Database(service.db.url)  # as another process sharing the database
    try:
        with other.lock(RETENTION, wait=False) as held:
            assert held
            assert job.run_once() is None
            assert _count(service, t.executions) == 1
    finally:
        other.dispose()
    report = job.run_once()
    assert report is not None and report.expired_deleted == 1
    assert _count(service, t.executions) == 0


def test_retention_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "CALLBOARD_RETENTION_DAYS_AFTER_END": "7",
            "CALLBOARD_STUCK_EXECUTION_DAYS": "14.5",
            "CALLBOARD_RETENTION_INTERVAL_SECONDS": "0",
        }
    )
    assert settings.retention_policy() == RetentionPolicy(7, 14.5)
    assert settings.retention_interval == 0
    defaults = Settings.from_env({})
    assert defaults.retention_policy() == RetentionPolicy(30, 60)
    for name, value in [
        ("CALLBOARD_RETENTION_DAYS_AFTER_END", "0"),
        ("CALLBOARD_STUCK_EXECUTION_DAYS", "soon"),
        ("CALLBOARD_RETENTION_INTERVAL_SECONDS", "-1"),
    ]:
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: value})
