"""Executions: create (run at once), 409 rules, end, delete, lists, revisions, isolation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from callboard.runtime.records import (
    Account,
    Conflict,
    InvalidParameter,
    NotFound,
    NotRunnable,
)
from callboard.runtime.service import Callboard
from callboard.store import tables as t
from tests.runtime.conftest import ask_flow, send_flow


def _flow(
    service: Callboard, account: Account, definition: dict[str, Any], status: str = "published"
) -> str:
    return service.create_flow(
        account.sid, friendly_name="f", status=status, definition=definition
    ).sid


def test_create_runs_the_flow_to_its_end(service: Callboard, account: Account) -> None:
    flow_sid = _flow(service, account, send_flow())
    ex = service.create_execution(
        account.sid, flow_sid, to="+15551234", from_="+15550000", parameters={"name": "Zeke"}
    )
    assert ex.sid.startswith("FN") and ex.status == "ended" and ex.ended_reason == "completed"
    assert (ex.flow_version, ex.contact_channel_address) == (1, "+15551234")
    assert ex.context["flow"]["data"] == {"name": "Zeke"}
    assert ex.context["trigger"]["request"]["parameters"] == {"name": "Zeke"}
    assert ex.context["widgets"]["first"]["outbound"]["Body"] == "Hello Zeke"
    steps = service.list_steps(account.sid, flow_sid, ex.sid).items
    assert [(s.transitioned_from, s.name, s.transitioned_to) for s in steps] == [
        ("Trigger", "incomingRequest", "first"),
        ("first", "sent", "Ended"),
    ]
    assert steps[1].type == "send-message" and steps[1].context["widgets"]["first"]
    assert "first" not in steps[0].context["widgets"]  # snapshot taken at that step
    step_ctx = service.fetch_step_context(account.sid, flow_sid, ex.sid, steps[0].sid)
    assert step_ctx.context == steps[0].context
    messages = service.list_messages(account.sid, execution_sid=ex.sid)
    assert [(m.to, m.from_, m.body) for m in messages] == [("+15551234", "+15550000", "Hello Zeke")]
    assert messages[0].sid == ex.context["widgets"]["first"]["outbound"]["Sid"]


def test_second_execution_for_an_active_contact_is_a_conflict(
    service: Callboard, account: Account
) -> None:
    flow_sid = _flow(service, account, ask_flow())
    first = service.create_execution(account.sid, flow_sid, to="+1", from_="+2")
    assert first.status == "active" and first.waiting_for == "first"
    with pytest.raises(Conflict) as caught:
        service.create_execution(account.sid, flow_sid, to="+1", from_="+2")
    assert caught.value.status == 409 and caught.value.code == 20409
    assert caught.value.details == {"conflicting_execution_sid": first.sid}
    assert first.sid in caught.value.message
    # Another contact, or the same contact on another flow, is fine.
    assert service.create_execution(account.sid, flow_sid, to="+3", from_="+2").status == "active"
    other_flow = _flow(service, account, ask_flow())
    assert service.create_execution(account.sid, other_flow, to="+1", from_="+2")
    # Once ended, the contact may start again.
    service.end_execution(account.sid, flow_sid, first.sid)
    again = service.create_execution(account.sid, flow_sid, to="+1", from_="+2")
    assert again.status == "active" and again.sid != first.sid


def test_end_and_end_again(service: Callboard, account: Account) -> None:
    flow_sid = _flow(service, account, ask_flow())
    ex = service.create_execution(account.sid, flow_sid, to="+1", from_="+2")
    with service.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(t.timers)).scalar() == 1
    ended = service.end_execution(account.sid, flow_sid, ex.sid)
    assert (ended.status, ended.ended_reason) == ("ended", "ended")
    assert ended.ended_at is not None
    with service.db.read() as conn:  # its timer went with it
        assert conn.execute(select(func.count()).select_from(t.timers)).scalar() == 0
    with pytest.raises(Conflict) as caught:
        service.end_execution(account.sid, flow_sid, ex.sid)
    assert caught.value.status == 409


def test_delete_removes_execution_and_steps(service: Callboard, account: Account) -> None:
    flow_sid = _flow(service, account, ask_flow())
    ex = service.create_execution(account.sid, flow_sid, to="+1", from_="+2")
    service.delete_execution(account.sid, flow_sid, ex.sid)
    with pytest.raises(NotFound):
        service.fetch_execution(account.sid, flow_sid, ex.sid)
    with service.db.read() as conn:
        for table in (t.executions, t.steps, t.timers):
            assert conn.execute(select(func.count()).select_from(table)).scalar() == 0
    # The contact's slot is free again.
    assert service.create_execution(account.sid, flow_sid, to="+1", from_="+2")


@pytest.mark.parametrize(
    ("to", "from_", "param"),
    [("", "+2", "To"), ("+1", "", "From"), ("  ", "+2", "To")],
)
def test_to_and_from_are_required(
    service: Callboard, account: Account, to: str, from_: str, param: str
) -> None:
    flow_sid = _flow(service, account, send_flow())
    with pytest.raises(InvalidParameter) as caught:
        service.create_execution(account.sid, flow_sid, to=to, from_=from_)
    assert caught.value.param == param


def test_draft_only_flow_runs_for_test_users_only(service: Callboard, account: Account) -> None:
    flow_sid = _flow(service, account, send_flow("draft 1"), status="draft")
    with pytest.raises(NotRunnable) as caught:
        service.create_execution(account.sid, flow_sid, to="+1", from_="+2")
    assert caught.value.status == 400
    service.update_test_users(account.sid, flow_sid, ["+1"])
    ex = service.create_execution(account.sid, flow_sid, to="+1", from_="+2")
    assert ex.flow_version == 1 and ex.context["widgets"]["first"]["outbound"]["Body"] == "draft 1"


def test_live_traffic_runs_latest_published_and_test_users_latest(
    service: Callboard, account: Account
) -> None:
    flow_sid = _flow(service, account, send_flow("published 1"))
    service.update_flow(account.sid, flow_sid, status="draft", definition=send_flow("draft 2"))
    service.update_test_users(account.sid, flow_sid, ["+tester"])
    live = service.create_execution(account.sid, flow_sid, to="+1", from_="+2")
    test = service.create_execution(account.sid, flow_sid, to="+tester", from_="+2")
    assert (live.flow_version, test.flow_version) == (1, 2)
    assert live.context["widgets"]["first"]["outbound"]["Body"] == "published 1"
    assert test.context["widgets"]["first"]["outbound"]["Body"] == "draft 2"


def test_invalid_latest_draft_is_not_run_for_test_users(
    service: Callboard, account: Account
) -> None:
    flow_sid = _flow(service, account, send_flow())
    service.update_flow(
        account.sid, flow_sid, status="draft", definition={"initial_state": "x", "states": []}
    )
    service.update_test_users(account.sid, flow_sid, ["+tester"])
    with pytest.raises(NotRunnable):
        service.create_execution(account.sid, flow_sid, to="+tester", from_="+2")
    assert service.create_execution(account.sid, flow_sid, to="+1", from_="+2").flow_version == 1


def test_list_filters_newest_first_and_pages(
    service: Callboard, account: Account, env: Any
) -> None:
    flow_sid = _flow(service, account, ask_flow())
    sids = []
    start = env.now()
    for i in range(5):
        env.advance(60)
        sids.append(service.create_execution(account.sid, flow_sid, to=f"+{i}", from_="+9").sid)
    service.end_execution(account.sid, flow_sid, sids[0])
    page = service.list_executions(account.sid, flow_sid, page_size=2)
    assert [e.sid for e in page.items] == [sids[4], sids[3]]
    page2 = service.list_executions(account.sid, flow_sid, page_size=2, page_token=page.next_token)
    assert [e.sid for e in page2.items] == [sids[2], sids[1]]
    active = service.list_executions(account.sid, flow_sid, status="active")
    assert [e.sid for e in active.items] == sids[:0:-1]
    ended = service.list_executions(account.sid, flow_sid, status="ended")
    assert [e.sid for e in ended.items] == [sids[0]]
    window = service.list_executions(
        account.sid,
        flow_sid,
        date_created_from=start + timedelta(seconds=120),  # inclusive
        date_created_to=start + timedelta(seconds=240),  # exclusive
    )
    assert [e.sid for e in window.items] == [sids[2], sids[1]]
    with pytest.raises(InvalidParameter):
        service.list_executions(account.sid, flow_sid, status="running")


def test_other_accounts_executions_are_not_found(
    service: Callboard, account: Account, other: Account
) -> None:
    flow_sid = _flow(service, account, send_flow())
    ex = service.create_execution(account.sid, flow_sid, to="+1", from_="+2")
    step = service.list_steps(account.sid, flow_sid, ex.sid).items[0]
    other_flow = _flow(service, other, send_flow())
    calls = [
        lambda: service.fetch_execution(other.sid, flow_sid, ex.sid),
        lambda: service.fetch_execution(other.sid, other_flow, ex.sid),  # own flow, foreign FN
        lambda: service.fetch_execution(account.sid, other_flow, ex.sid),
        lambda: service.end_execution(other.sid, flow_sid, ex.sid),
        lambda: service.delete_execution(other.sid, flow_sid, ex.sid),
        lambda: service.fetch_execution_context(other.sid, flow_sid, ex.sid),
        lambda: service.list_steps(other.sid, flow_sid, ex.sid),
        lambda: service.list_steps(other.sid, other_flow, ex.sid),
        lambda: service.fetch_step(other.sid, flow_sid, ex.sid, step.sid),
        lambda: service.fetch_step_context(other.sid, other_flow, ex.sid, step.sid),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call()
    assert service.list_messages(other.sid) == []
    assert service.fetch_execution(account.sid, flow_sid, ex.sid).sid == ex.sid


def test_steps_page_oldest_first(service: Callboard, account: Account) -> None:
    flow_sid = _flow(service, account, send_flow())
    ex = service.create_execution(account.sid, flow_sid, to="+1", from_="+2")
    first = service.list_steps(account.sid, flow_sid, ex.sid, page_size=1)
    second = service.list_steps(
        account.sid, flow_sid, ex.sid, page_size=1, page_token=first.next_token
    )
    assert [first.items[0].transitioned_from, second.items[0].transitioned_from] == [
        "Trigger",
        "first",
    ]
    assert second.next_token is None


def test_concurrent_creates_for_one_contact_give_one_execution(
    service: Callboard, account: Account
) -> None:
    """Threads racing for the same (flow, contact): one wins, the rest get 409 naming it."""
    from concurrent.futures import ThreadPoolExecutor

    flow_sid = _flow(service, account, ask_flow())

    def attempt(_: int) -> str:
        try:
            return service.create_execution(account.sid, flow_sid, to="+1", from_="+2").sid
        except Conflict as exc:
            assert exc.details is not None
            return "409:" + str(exc.details["conflicting_execution_sid"])

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    winners = [o for o in outcomes if not o.startswith("409:")]
    assert len(winners) == 1
    assert all(o == winners[0] or o == "409:" + winners[0] for o in outcomes)
    assert len(service.list_executions(account.sid, flow_sid).items) == 1


def test_concurrent_deliveries_to_one_execution_are_serialised(
    service: Callboard, account: Account
) -> None:
    """Two replies at once: exactly one is taken (the row lock / write lock), the other
    finds the execution ended and is ignored."""
    from concurrent.futures import ThreadPoolExecutor

    from callboard.contract.io import InboundMessage

    flow_sid = _flow(service, account, ask_flow())
    ex = service.create_execution(account.sid, flow_sid, to="+1", from_="+2")
    with ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(
                lambda i: service.run_event(ex.sid, InboundMessage({"Body": f"r{i}"})), range(4)
            )
        )
    assert sum(r.accepted for r in results) == 1
    steps = service.list_steps(account.sid, flow_sid, ex.sid).items
    assert [s.seq for s in steps] == [1, 2, 3]
