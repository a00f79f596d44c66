"""Outbox hardening: leases (crash recovery), retries with back-off, failure events, fencing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from callboard.contract.io import EffectResult, Event
from callboard.engine.env import FakeEnv
from callboard.runtime import outbox
from callboard.runtime.records import Account
from callboard.runtime.service import Callboard
from callboard.store import tables as t
from callboard.store.queue import backoff_seconds
from tests.runtime.conftest import http_flow


def _http_execution(service: Callboard, account: Account) -> tuple[str, str]:
    flow = service.create_flow(
        account.sid, friendly_name="h", status="published", definition=http_flow()
    )
    ex = service.create_execution(account.sid, flow.sid, to="+1555", from_="+1666")
    return flow.sid, ex.sid


def _job(service: Callboard) -> Any:
    with service.db.read() as conn:
        return conn.execute(select(t.outbox)).one()


def _ok(job: dict[str, Any]) -> Event:
    return EffectResult(job["token"], True, {"status_code": 204, "body": "", "headers": {}})


def test_a_job_left_running_by_a_crash_is_taken_over_after_its_lease(
    service: Callboard, account: Account, env: FakeEnv
) -> None:
    flow_sid, ex_sid = _http_execution(service, account)
    lease = env.now().replace(tzinfo=None) + timedelta(seconds=outbox.LEASE_SECONDS)
    with service.db.write() as conn:  # claimed by a worker that then died (SIGKILL)
        conn.execute(update(t.outbox).values(status="running", attempts=1, available_at=lease))
    service.outbox_handlers["http_request"] = _ok
    assert service.run_outbox() == 0  # the lease still holds
    env.advance(outbox.LEASE_SECONDS)
    assert service.run_outbox() == 1
    job = _job(service)
    assert (job.status, job.attempts) == ("done", 2)
    ex = service.fetch_execution(account.sid, flow_sid, ex_sid)
    assert ex.status == "ended" and ex.context["widgets"]["first"]["status_code"] == 204


def test_a_failing_job_is_retried_with_back_off_then_succeeds(
    service: Callboard, account: Account, env: FakeEnv
) -> None:
    flow_sid, ex_sid = _http_execution(service, account)
    calls: list[int] = []

    def flaky(job: dict[str, Any]) -> Event:
        calls.append(job["attempts"])
        if len(calls) < 3:
            raise outbox.TransientJobError("provider unavailable")
        return _ok(job)

    service.outbox_handlers["http_request"] = flaky
    assert service.run_outbox() == 1
    job = _job(service)
    assert (job.status, job.last_error) == ("pending", "TransientJobError: provider unavailable")
    assert (job.available_at - env.now().replace(tzinfo=None)).total_seconds() == 1.0
    assert service.run_outbox() == 0  # not before the back-off
    env.advance(1)
    assert service.run_outbox() == 1
    assert (_job(service).available_at - env.now().replace(tzinfo=None)).total_seconds() == 2.0
    env.advance(2)
    assert service.run_outbox() == 1
    assert calls == [1, 2, 3]
    assert _job(service).status == "done"
    assert service.fetch_execution(account.sid, flow_sid, ex_sid).status == "ended"


@pytest.mark.parametrize("crashes", [False, True])
def test_a_job_that_never_completes_gives_the_widget_its_failure_event(
    service: Callboard, account: Account, env: FakeEnv, crashes: bool
) -> None:
    """Whether the job raises every time or its worker dies every time, the HTTP widget
    eventually takes ``failed`` and the execution goes on (never stuck)."""
    flow_sid, ex_sid = _http_execution(service, account)

    def broken(job: dict[str, Any]) -> Event:
        raise RuntimeError("always")

    if crashes:
        for _ in range(outbox.MAX_ATTEMPTS):  # claimed, then the worker dies each time
            with service.db.write() as conn:
                conn.execute(
                    update(t.outbox).values(
                        status="running",
                        attempts=t.outbox.c.attempts + 1,
                        available_at=env.now().replace(tzinfo=None),
                    )
                )
        service.outbox_handlers["http_request"] = _ok  # would succeed: never reached
        assert service.run_outbox() == 1
    else:
        service.outbox_handlers["http_request"] = broken
        for _ in range(outbox.MAX_ATTEMPTS):
            assert service.run_outbox() == 1
            env.advance(outbox.BACKOFF_MAX_SECONDS)
    job = _job(service)
    assert job.status == "failed" and job.last_error
    ex = service.fetch_execution(account.sid, flow_sid, ex_sid)
    assert ex.status == "ended"
    steps = service.list_steps(account.sid, flow_sid, ex_sid).items
    assert [s.name for s in steps] == ["incomingRequest", "failed", "sent"]


def test_a_worker_whose_lease_was_taken_over_does_not_finish_the_job(
    service: Callboard, account: Account, env: FakeEnv
) -> None:
    flow_sid, ex_sid = _http_execution(service, account)
    slow: list[dict[str, Any]] = []

    def first_worker(job: dict[str, Any]) -> Event:
        slow.append(job)
        env.advance(outbox.LEASE_SECONDS + 1)  # it takes longer than its lease...
        service.outbox_handlers["http_request"] = _ok
        assert service.run_outbox() == 1  # ...and another worker takes the job over
        return EffectResult(job["token"], True, {"status_code": 500, "body": "", "headers": {}})

    service.outbox_handlers["http_request"] = first_worker
    assert service.run_outbox() == 1
    ex = service.fetch_execution(account.sid, flow_sid, ex_sid)
    assert ex.context["widgets"]["first"]["status_code"] == 204  # the second worker's
    assert len(service.list_steps(account.sid, flow_sid, ex_sid).items) == 3
    assert (_job(service).status, _job(service).attempts) == ("done", 2)


def test_backoff_grows_and_is_capped() -> None:
    base, cap = outbox.BACKOFF_BASE_SECONDS, outbox.BACKOFF_MAX_SECONDS
    assert [backoff_seconds(n, base, cap) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert backoff_seconds(50, base, cap) == outbox.BACKOFF_MAX_SECONDS


def test_http_errors_are_not_retried(service: Callboard, account: Account) -> None:
    """A network error is the widget's ``failed`` at once (Studio does not retry: the
    request may not be idempotent)."""
    flow_sid, ex_sid = _http_execution(service, account)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with httpx.Client(transport=httpx.MockTransport(refuse)) as client:
        assert service.outbox.run(client=client) == 1
    assert _job(service).status == "done"
    steps = service.list_steps(account.sid, flow_sid, ex_sid).items
    assert [s.name for s in steps] == ["incomingRequest", "failed", "sent"]
