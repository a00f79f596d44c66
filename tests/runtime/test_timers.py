"""Durable timers: stored with the wait, fired once, surviving restarts, stale fires ignored."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text

from callboard.channels.config import ChannelConfig
from callboard.commands.compose import build_services
from callboard.contract.io import InboundMessage
from callboard.engine.env import FakeEnv
from callboard.runtime import runner, timers
from callboard.runtime.records import Account, RunResult
from callboard.runtime.service import Callboard
from callboard.store import tables as t
from callboard.store.values import to_db_time
from tests.runtime.conftest import ask_flow


def _count(service: Callboard, table: Any) -> int:
    with service.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _ask(
    service: Callboard, account: Account, n: int = 1, timeout: str = "600"
) -> tuple[str, list[str]]:
    flow = service.create_flow(
        account.sid, friendly_name="ask", status="published", definition=ask_flow(timeout)
    )
    sids = [
        service.create_execution(account.sid, flow.sid, to=f"+1555{i:04d}", from_="+1666").sid
        for i in range(n)
    ]
    return flow.sid, sids


def _bodies(service: Callboard, account: Account, ex_sid: str) -> list[str]:
    return [m.body for m in service.list_messages(account.sid, execution_sid=ex_sid)]


def test_a_timer_survives_a_restart(db_url: str, env: FakeEnv) -> None:
    first = build_services(db_url, env=env, channel_config=ChannelConfig()).callboard
    account = first.create_account("a")
    flow_sid, (ex_sid,) = _ask(first, account, timeout="3600")
    first.close()  # the server stops (or crashes) while the contact has an hour to answer
    env.advance(3600)
    second = build_services(db_url, env=env, channel_config=ChannelConfig()).callboard
    try:
        assert second.fire_due_timers() == 1
        ex = second.fetch_execution(account.sid, flow_sid, ex_sid)
        assert ex.status == "ended"
        assert _bodies(second, account, ex_sid) == ["What is your name?", "Too slow"]
        steps = second.list_steps(account.sid, flow_sid, ex_sid).items
        assert [s.name for s in steps] == ["incomingRequest", "timeout", "sent"]
    finally:
        second.close()


def test_timers_fire_only_when_due_and_in_batches(
    service: Callboard, account: Account, env: FakeEnv
) -> None:
    n = timers.BATCH_SIZE * 2 + 3
    flow_sid, sids = _ask(service, account, n=n, timeout="60")
    env.advance(59)
    assert service.fire_due_timers() == 0
    env.advance(1)
    assert service.fire_due_timers(limit=n - 1) == n - 1
    assert service.fire_due_timers() == 1
    assert _count(service, t.timers) == 0
    for sid in sids:
        assert service.fetch_execution(account.sid, flow_sid, sid).status == "ended"
        assert _bodies(service, account, sid)[-1] == "Too slow"


def test_a_stale_or_superseded_fire_changes_nothing(
    service: Callboard, account: Account, env: FakeEnv
) -> None:
    flow_sid, (ex_sid,) = _ask(service, account)
    with service.db.read() as conn:
        token = conn.execute(select(t.timers.c.token)).scalar_one()
    service.run_event(ex_sid, InboundMessage({"Body": "Ada"}))  # the reply wins the race
    before = service.list_steps(account.sid, flow_sid, ex_sid).items
    with service.db.write() as conn:  # a fire that was already on its way
        conn.execute(
            insert(t.timers).values(
                execution_sid=ex_sid,
                token=token,
                due_at=to_db_time(env.now()),
                date_created=to_db_time(env.now()),
            )
        )
    fired: list[timers.FiredTimer] = []
    assert timers.fire_due_timers(service.executor, observer=fired.append) == 1
    assert [f.accepted for f in fired] == [False]
    assert service.list_steps(account.sid, flow_sid, ex_sid).items == before
    assert _count(service, t.timers) == 0


def test_two_schedulers_fire_a_timer_once(db_url: str, env: FakeEnv) -> None:
    a = build_services(db_url, env=env, channel_config=ChannelConfig()).callboard
    b = build_services(db_url, env=env, migrate=False, channel_config=ChannelConfig()).callboard
    try:
        account = a.create_account("a")
        flow_sid, sids = _ask(a, account, n=20, timeout="5")
        env.advance(5)
        counts: list[int] = []
        barrier = threading.Barrier(2)

        def run(svc: Callboard) -> None:
            barrier.wait()
            total = 0
            while (n := svc.fire_due_timers()) or svc.next_timer_due() is not None:
                total += n
            counts.append(total)

        threads = [threading.Thread(target=run, args=(s,)) for s in (a, b)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert sum(counts) == 20
        for sid in sids:
            steps = a.list_steps(account.sid, flow_sid, sid).items
            assert [s.name for s in steps] == ["incomingRequest", "timeout", "sent"]
    finally:
        a.close()
        b.close()


def test_a_timer_whose_delivery_fails_ends_its_execution_not_the_others(
    service: Callboard, account: Account, env: FakeEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow_sid, (bad, good) = _ask(service, account, n=2, timeout="5")
    original = runner.Runner.run

    def run(self: Any, conn: Any, ex: Any, event: Any, writes: Any = None) -> RunResult:
        if ex.sid == bad and event.kind == "timer_fired":
            raise RuntimeError("widget bug")
        return original(self, conn, ex, event, writes)

    monkeypatch.setattr(runner.Runner, "run", run)
    env.advance(5)
    assert service.fire_due_timers() == 2
    assert _count(service, t.timers) == 0  # the broken one does not fire for ever
    bad_ex = service.fetch_execution(account.sid, flow_sid, bad)
    assert (bad_ex.status, bad_ex.ended_reason) == ("ended", "failed")
    assert _bodies(service, account, good)[-1] == "Too slow"


def test_the_worker_sleeps_until_the_next_timer(
    service: Callboard, account: Account, env: FakeEnv
) -> None:
    assert timers.sleep_seconds(service.executor) == timers.MAX_SLEEP_SECONDS  # nothing pending
    _ask(service, account, timeout="600")
    assert timers.sleep_seconds(service.executor) == timers.MAX_SLEEP_SECONDS
    env.advance(599.95)
    assert timers.sleep_seconds(service.executor) == pytest.approx(0.05)
    env.advance(10)
    assert timers.sleep_seconds(service.executor) == timers.MIN_SLEEP_SECONDS  # overdue: at once


def test_a_delivery_that_starts_a_near_timer_wakes_the_worker(
    service: Callboard, env: FakeEnv
) -> None:
    service.wakeup.clear()
    far = RunResult("FN1", True, "active", timer_due=env.now() + timedelta(seconds=60))
    service.executor.notify(far)
    assert not service.wakeup.is_set()
    near = RunResult("FN1", True, "active", timer_due=env.now() + timedelta(seconds=0.05))
    service.executor.notify(near)
    assert service.wakeup.is_set()


def test_next_due_uses_the_due_index(tmp_path: Any) -> None:
    svc = build_services(
        f"sqlite:///{tmp_path / 'plan.db'}", channel_config=ChannelConfig()
    ).callboard
    try:
        with svc.db.read() as conn:
            plan = " ".join(
                str(r[-1])
                for r in conn.execute(text("EXPLAIN QUERY PLAN SELECT min(due_at) FROM timers"))
            )
            due = " ".join(
                str(r[-1])
                for r in conn.execute(
                    text(
                        "EXPLAIN QUERY PLAN SELECT id FROM timers WHERE due_at <= :n "
                        "ORDER BY due_at LIMIT 500"
                    ),
                    {"n": "2026-01-01"},
                )
            )
        assert "ix_timers_due" in plan and "ix_timers_due" in due
        assert due.startswith("SEARCH")  # an index range search, not a scan of the table
    finally:
        svc.close()
