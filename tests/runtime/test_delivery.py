"""Event delivery: timers and outbox rows, later events, and the one-transaction rule."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from callboard.contract.io import InboundMessage, TimerFired
from callboard.runtime import runner
from callboard.runtime.records import Account, NotFound
from callboard.runtime.service import Callboard
from callboard.runtime.worker import Worker
from callboard.store import tables as t
from tests.runtime.conftest import ask_flow, http_flow


def _count(service: Callboard, table: Any) -> int:
    with service.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _start(service: Callboard, account: Account, definition: dict[str, Any]) -> tuple[str, str]:
    flow = service.create_flow(
        account.sid, friendly_name="f", status="published", definition=definition
    )
    ex = service.create_execution(account.sid, flow.sid, to="+1555", from_="+1666")
    return flow.sid, ex.sid


def test_send_and_wait_stores_a_timer_and_takes_the_reply(
    service: Callboard, account: Account, env: Any
) -> None:
    flow_sid, ex_sid = _start(service, account, ask_flow(timeout="600"))
    with service.db.read() as conn:
        timer = conn.execute(select(t.timers)).one()
    assert timer.execution_sid == ex_sid
    assert (timer.due_at - env.now().replace(tzinfo=None)).total_seconds() == 600
    result = service.run_event(ex_sid, InboundMessage({"Body": "Ada", "From": "+1555"}))
    assert result.accepted and result.status == "ended" and result.ended_reason == "completed"
    assert [m.body for m in result.messages] == ["Thanks Ada"]
    assert _count(service, t.timers) == 0  # cancelled when the reply came
    ex = service.fetch_execution(account.sid, flow_sid, ex_sid)
    assert ex.context["widgets"]["first"]["inbound"]["Body"] == "Ada"
    steps = service.list_steps(account.sid, flow_sid, ex_sid).items
    assert [s.seq for s in steps] == [1, 2, 3]
    assert [s.name for s in steps] == ["incomingRequest", "incomingMessage", "sent"]


def test_due_timer_fires_the_timeout(service: Callboard, account: Account, env: Any) -> None:
    flow_sid, ex_sid = _start(service, account, ask_flow(timeout="600"))
    assert service.fire_due_timers() == 0  # not due yet
    assert service.next_timer_due() is not None
    env.advance(600)
    assert service.fire_due_timers() == 1
    ex = service.fetch_execution(account.sid, flow_sid, ex_sid)
    assert ex.status == "ended"
    bodies = [m.body for m in service.list_messages(account.sid, execution_sid=ex_sid)]
    assert bodies == ["What is your name?", "Too slow"]
    assert _count(service, t.timers) == 0 and service.next_timer_due() is None


def test_stale_events_are_ignored_and_change_nothing(service: Callboard, account: Account) -> None:
    flow_sid, ex_sid = _start(service, account, ask_flow())
    before = service.fetch_execution(account.sid, flow_sid, ex_sid)
    result = service.run_event(ex_sid, TimerFired("t999"))
    assert not result.accepted and result.status == "active"
    assert service.fetch_execution(account.sid, flow_sid, ex_sid) == before
    service.end_execution(account.sid, flow_sid, ex_sid)
    late = service.run_event(ex_sid, InboundMessage({"Body": "late"}))
    assert not late.accepted and late.status == "ended"
    assert late.warnings and late.warnings[0].code == 81002
    with pytest.raises(NotFound):
        service.run_event("FN" + "0" * 32, InboundMessage({"Body": "x"}))


def test_http_request_becomes_an_outbox_job_run_after_commit(
    service: Callboard, account: Account
) -> None:
    flow_sid, ex_sid = _start(service, account, http_flow("https://example.test/api"))
    ex = service.fetch_execution(account.sid, flow_sid, ex_sid)
    assert ex.status == "active" and ex.waiting_for == "first"
    with service.db.read() as conn:
        job = conn.execute(select(t.outbox)).one()
    assert (job.kind, job.status, job.execution_sid) == ("http_request", "pending", ex_sid)
    assert json.loads(job.payload)["url"] == "https://example.test/api"
    assert service.wakeup.is_set()  # the worker was told

    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(201, json={"ok": True})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        assert service.outbox.run(client=client) == 1
        assert service.outbox.run(client=client) == 0  # done: not run twice
    assert seen == ["https://example.test/api"]
    ex = service.fetch_execution(account.sid, flow_sid, ex_sid)
    assert ex.status == "ended"
    assert ex.context["widgets"]["first"]["status_code"] == 201
    assert [m.body for m in service.list_messages(account.sid)] == ["status 201"]
    with service.db.read() as conn:
        assert conn.execute(select(t.outbox.c.status, t.outbox.c.attempts)).one() == ("done", 1)


def test_worker_pass_runs_jobs_and_timers(service: Callboard, account: Account, env: Any) -> None:
    ask_flow_sid, ask_sid = _start(service, account, ask_flow(timeout="5"))
    env.advance(5)
    failing = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    flow2 = service.create_flow(
        account.sid, friendly_name="h", status="published", definition=http_flow()
    )
    http_ex = service.create_execution(account.sid, flow2.sid, to="+2", from_="+3")
    with failing:
        assert Worker(service).run_once(failing) == 2
    assert service.fetch_execution(account.sid, flow2.sid, http_ex.sid).status == "ended"
    assert service.fetch_execution(account.sid, ask_flow_sid, ask_sid).status == "ended"
    assert [m.body for m in service.list_messages(account.sid)][-1] == "status 500"


def test_exception_mid_delivery_leaves_nothing_half_written(
    service: Callboard, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = service.create_flow(
        account.sid, friendly_name="f", status="published", definition=ask_flow()
    )
    calls = {"n": 0}
    original = runner.Runner._save

    def explode(self: Any, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        original(self, *args, **kwargs)  # everything written... then a failure
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(runner.Runner, "_save", explode)
    with pytest.raises(RuntimeError):
        service.create_execution(account.sid, flow.sid, to="+1", from_="+2")
    assert calls["n"] == 1
    for table in (t.executions, t.steps, t.messages, t.timers, t.outbox):
        assert _count(service, table) == 0, table.name
    monkeypatch.undo()

    ex = service.create_execution(account.sid, flow.sid, to="+1", from_="+2")
    before = service.fetch_execution(account.sid, flow.sid, ex.sid)
    counts = {tb.name: _count(service, tb) for tb in (t.steps, t.messages, t.timers)}
    monkeypatch.setattr(runner.Runner, "_save", explode)
    with pytest.raises(RuntimeError):
        service.run_event(ex.sid, InboundMessage({"Body": "Ada"}))
    assert service.fetch_execution(account.sid, flow.sid, ex.sid) == before
    assert {tb.name: _count(service, tb) for tb in (t.steps, t.messages, t.timers)} == counts


def test_widget_crash_rolls_back_the_start(
    service: Callboard, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callboard.widgets import registry
    from callboard.widgets.send_message import WIDGET

    flow = service.create_flow(
        account.sid, friendly_name="f", status="published", definition=ask_flow()
    )

    def boom(run: Any, event: Any) -> Any:
        raise RuntimeError("widget bug")

    # The reply reaches send-message "thanks", which crashes after ask's step was made.
    ex = service.create_execution(account.sid, flow.sid, to="+1", from_="+2")
    monkeypatch.setattr(WIDGET, "start", lambda run: boom(run, None))
    assert registry.get("send-message") is WIDGET
    with pytest.raises(RuntimeError):
        service.run_event(ex.sid, InboundMessage({"Body": "Ada"}))
    assert [s.seq for s in service.list_steps(account.sid, flow.sid, ex.sid).items] == [1]
    assert service.fetch_execution(account.sid, flow.sid, ex.sid).status == "active"
    assert _count(service, t.timers) == 1
