"""Inbound webhooks through the service: processed once, bursts, 81002 notifications."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from callboard.contract.io import CallEvent, InboundMessage
from callboard.runtime.inbound_results import EMPTY_TWIML, InboundResult
from callboard.runtime.records import Account, InvalidParameter, NotFound
from callboard.runtime.service import Callboard
from callboard.store import tables as t
from callboard.store.suspend import run_on_loop
from tests.loops import run_async
from tests.runtime.conftest import ask_flow, flow_definition, widget


def _count(service: Callboard, table: Any, **where: Any) -> int:
    query = select(func.count()).select_from(table)
    for name, value in where.items():
        query = query.where(table.c[name] == value)
    with service.db.read() as conn:
        return int(conn.execute(query).scalar_one())


def _sms(sid: str, body: str, contact: str = "+15550001") -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC",
        "From": contact,
        "To": "+15559999",
        "Body": body,
        "NumMedia": "0",
    }


def _flow(service: Callboard, account: Account, definition: dict[str, Any]) -> str:
    return service.create_flow(
        account.sid, friendly_name="f", status="published", definition=definition
    ).sid


def ask_then_lookup() -> dict[str, Any]:
    """Ask (consumes one reply) → an HTTP request the execution then waits on."""
    return flow_definition(
        widget(
            "first",
            "send-and-wait-for-reply",
            {"body": "Name?", "timeout": "3600"},
            incomingMessage="lookup",
            timeout=None,
            deliveryFailure=None,
        ),
        widget(
            "lookup",
            "make-http-request",
            {"method": "GET", "url": "https://example.test/x"},
            success=None,
            failed=None,
        ),
    )


def wait_chain(n: int) -> dict[str, Any]:
    """``n`` Send & Wait For Reply widgets in a row: each reply is consumed by the next."""
    return flow_definition(
        *(
            widget(
                "first" if i == 0 else f"ask{i}",
                "send-and-wait-for-reply",
                {"body": f"Q{i}", "timeout": "3600"},
                incomingMessage=f"ask{i + 1}" if i < n - 1 else None,
                timeout=None,
                deliveryFailure=None,
            )
            for i in range(n)
        )
    )


def test_a_message_starts_an_execution_and_a_reply_continues_it(
    service: Callboard, account: Account
) -> None:
    flow_sid = _flow(service, account, ask_flow())
    first = service.inbound_message(account.sid, flow_sid, _sms("SM1", "hi"))
    assert first.started and first.accepted and not first.duplicate
    assert first.twiml == EMPTY_TWIML and first.status == "active"
    ex = service.fetch_execution(account.sid, flow_sid, first.execution_sid or "")
    assert ex.initiated_by == "SM1"
    assert ex.context["trigger"]["message"]["Body"] == "hi"
    reply = service.inbound_message(account.sid, flow_sid, _sms("SM2", "Ada"))
    assert (reply.execution_sid, reply.started, reply.accepted) == (ex.sid, False, True)
    assert reply.status == "ended"
    assert [m.body for m in service.list_messages(account.sid)] == [
        "What is your name?",
        "Thanks Ada",
    ]


def test_a_retried_webhook_is_processed_once_and_gets_the_same_answer(
    service: Callboard, account: Account
) -> None:
    flow_sid = _flow(service, account, ask_flow())
    first = service.inbound_message(account.sid, flow_sid, _sms("SM1", "hi"))
    again = service.inbound_message(account.sid, flow_sid, _sms("SM1", "hi"))
    assert again.duplicate and again.execution_sid == first.execution_sid
    assert again.to_json() == first.to_json()
    assert _count(service, t.executions) == 1
    reply = service.inbound_message(account.sid, flow_sid, _sms("SM2", "Ada"))
    retried = service.inbound_message(account.sid, flow_sid, _sms("SM2", "Ada"))
    assert retried.duplicate and retried.to_json() == reply.to_json()
    assert _count(service, t.executions) == 1  # not a second conversation
    steps = service.list_steps(account.sid, flow_sid, first.execution_sid or "").items
    assert [s.name for s in steps] == ["incomingMessage", "incomingMessage", "sent"]


def test_a_message_the_execution_does_not_wait_for_is_recorded_as_81002(
    service: Callboard, account: Account
) -> None:
    flow_sid = _flow(service, account, ask_then_lookup())
    start = service.inbound_message(account.sid, flow_sid, _sms("SM1", "hi"))
    service.inbound_message(account.sid, flow_sid, _sms("SM2", "Ada"))  # consumed
    ignored = service.inbound_message(account.sid, flow_sid, _sms("SM3", "hello?"))
    assert ignored.execution_sid == start.execution_sid
    assert not ignored.accepted and ignored.warnings[0]["code"] == 81002
    (note,) = service.list_notifications(account.sid, execution_sid=start.execution_sid)
    assert (note.code, note.level, note.flow_sid) == (81002, "warning", flow_sid)
    assert note.request_key == f"msg:{account.sid}:SM3"
    assert service.inbound_message(account.sid, flow_sid, _sms("SM3", "hello?")).duplicate
    assert len(service.list_notifications(account.sid)) == 1  # the retry adds nothing


def test_inbound_errors_record_nothing(
    service: Callboard, account: Account, other: Account
) -> None:
    flow_sid = _flow(service, account, ask_flow())
    with pytest.raises(NotFound):
        service.inbound_message(other.sid, flow_sid, _sms("SM1", "hi"))
    with pytest.raises(InvalidParameter):
        service.inbound_message(account.sid, flow_sid, {"MessageSid": "SM1", "To": "+1"})
    assert _count(service, t.processed_requests) == 0
    assert service.inbound_message(account.sid, flow_sid, _sms("SM1", "hi")).started


@pytest.mark.parametrize("duplicates", [False, True])
def test_a_burst_from_one_new_contact_starts_exactly_one_execution(
    service: Callboard, account: Account, duplicates: bool
) -> None:
    """50 simultaneous messages: one starts the execution, one is the reply it waits
    for, the other 48 are recorded as 81002. With each message sent twice (Twilio
    retrying while the first is processed), every duplicate is recognised."""
    flow_sid = _flow(service, account, ask_then_lookup())
    sids = [f"SM{i:032d}" for i in range(50)]
    requests = sids + sids if duplicates else sids
    results: list[InboundResult] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(requests))
    lock = threading.Lock()

    def send(sid: str) -> None:
        try:
            barrier.wait(30)
            result = service.inbound_message(account.sid, flow_sid, _sms(sid, sid))
            with lock:
                results.append(result)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(sid,)) for sid in requests]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not errors, errors
    assert _count(service, t.executions) == 1
    (ex_sid,) = {r.execution_sid for r in results}
    fresh = [r for r in results if not r.duplicate]
    assert len(fresh) == 50 and len(results) - len(fresh) == (50 if duplicates else 0)
    assert sum(r.started for r in fresh) == 1
    consumed = [r for r in fresh if r.accepted and not r.started]
    ignored = [r for r in fresh if not r.accepted]
    assert (len(consumed), len(ignored)) == (1, 48)
    assert _count(service, t.notifications, code=81002, execution_sid=ex_sid) == 48
    assert _count(service, t.processed_requests) == 50
    steps = service.list_steps(account.sid, flow_sid, ex_sid).items
    assert [s.seq for s in steps] == [1, 2]


def test_concurrent_events_for_one_execution_never_interleave(
    service: Callboard, account: Account
) -> None:
    """Events for one execution are serialised (row lock / one writer): 20 replies at
    once to a chain of waits give consecutive steps and no lost update."""
    flow_sid = _flow(service, account, wait_chain(20))
    ex = service.create_execution(account.sid, flow_sid, to="+1", from_="+2")
    threads = [
        threading.Thread(target=service.run_event, args=(ex.sid, InboundMessage({"Body": str(i)})))
        for i in range(20)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    done = service.fetch_execution(account.sid, flow_sid, ex.sid)
    assert done.status == "ended"
    steps = service.list_steps(account.sid, flow_sid, ex.sid).items
    assert [s.seq for s in steps] == list(range(1, 22))
    assert (
        len({done.context["widgets"][w]["inbound"]["Body"] for w in done.context["widgets"]}) == 20
    )


def test_a_repeated_call_back_is_answered_from_the_record(
    service: Callboard, account: Account
) -> None:
    flow_sid = _flow(service, account, ask_flow())
    ex = service.create_execution(account.sid, flow_sid, to="+1", from_="+2")
    event = CallEvent("t-none", "gather", {"Digits": "1"})
    first = service.call_event(account.sid, ex.sid, "CA1", event)
    again = service.call_event(account.sid, ex.sid, "CA1", event)
    assert not first.accepted and again.duplicate and again.twiml == first.twiml
    assert len(service.list_notifications(account.sid, execution_sid=ex.sid)) == 1
    with pytest.raises(NotFound):
        service.call_event(account.sid, "FN" + "0" * 32, "CA2", event)


def test_the_worker_is_woken_only_when_a_message_left_it_work(
    service: Callboard, account: Account
) -> None:
    """A message that starts or continues an execution without writing an outbox job or
    a near timer does not wake the worker (it would run a whole pass for nothing); one
    whose run queues an HTTP request does."""
    wakeup = service.executor.wakeup
    flow_sid = _flow(service, account, ask_then_lookup())
    wakeup.clear()
    first = service.inbound_message(account.sid, flow_sid, _sms("SM1", "hi"))
    assert first.started and first.status == "active"  # waits an hour for a reply
    assert not wakeup.is_set()
    again = service.inbound_message(account.sid, flow_sid, _sms("SM1", "hi"))
    assert again.duplicate and not wakeup.is_set()
    service.inbound_message(account.sid, flow_sid, _sms("SM2", "Ada"))  # → the HTTP request
    assert _count(service, t.outbox) == 1
    assert wakeup.is_set()


def test_concurrent_replies_from_one_contact_are_each_consumed_once(
    service: Callboard, account: Account
) -> None:
    """20 replies at once from the contact of a chain of waits, through the webhook
    path (computed on read snapshots on SQLite, written only if the execution did not
    change meanwhile): each is consumed by one wait, in consecutive steps, none lost
    and none twice."""
    flow_sid = _flow(service, account, wait_chain(20))
    first = service.inbound_message(account.sid, flow_sid, _sms("SM" + "f" * 32, "hi"))
    errors: list[BaseException] = []
    barrier = threading.Barrier(20)

    def send(i: int) -> None:
        try:
            barrier.wait(30)
            service.inbound_message(account.sid, flow_sid, _sms(f"SM{i:032d}", str(i)))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not errors, errors
    _each_reply_consumed_once(service, account, flow_sid, str(first.execution_sid))
    assert _count(service, t.notifications) == 0


def _each_reply_consumed_once(
    service: Callboard, account: Account, flow_sid: str, execution_sid: str
) -> None:
    """The chain of 20 waits ended, in consecutive steps, each reply consumed once."""
    done = service.fetch_execution(account.sid, flow_sid, execution_sid)
    assert done.status == "ended"
    steps = service.list_steps(account.sid, flow_sid, done.sid).items
    assert [s.seq for s in steps] == list(range(1, 22))
    bodies = {done.context["widgets"][w]["inbound"]["Body"] for w in done.context["widgets"]}
    assert bodies == {str(i) for i in range(20)}


def test_concurrent_replies_computed_on_the_event_loop_are_each_consumed_once(
    service: Callboard, account: Account
) -> None:
    """The same burst with every message on one event loop (the Flow webhook's way on
    SQLite: :mod:`callboard.store.suspend`): the units interleave at their commits,
    the losers compute again, and each reply is consumed once, in consecutive steps."""
    flow_sid = _flow(service, account, wait_chain(20))
    first = service.inbound_message(account.sid, flow_sid, _sms("SM" + "e" * 32, "hi"))

    async def burst() -> None:
        await asyncio.gather(
            *(
                run_on_loop(
                    lambda i=i: service.inbound_message(
                        account.sid, flow_sid, _sms(f"SM{i:032d}", str(i))
                    )
                )
                for i in range(20)
            )
        )

    run_async(burst())
    _each_reply_consumed_once(service, account, flow_sid, str(first.execution_sid))


def test_interleaved_messages_on_the_event_loop_each_wake_the_worker_for_their_own_work(
    service: Callboard, account: Account
) -> None:
    """Two messages computed on one event loop, the second begun while the first waits
    for its commit: the first's outbox job still wakes the worker (what a run left for
    the worker is kept per unit, not per thread)."""
    flow_sid = _flow(service, account, ask_then_lookup())
    service.inbound_message(account.sid, flow_sid, _sms("SM1", "hi", "+15550001"))
    wakeup = service.executor.wakeup
    wakeup.clear()

    async def both() -> None:
        await asyncio.gather(
            run_on_loop(  # a reply: → the HTTP request (an outbox job)
                lambda: service.inbound_message(account.sid, flow_sid, _sms("SM2", "Ada"))
            ),
            run_on_loop(  # a new contact: waits an hour, nothing for the worker
                lambda: service.inbound_message(
                    account.sid, flow_sid, _sms("SM3", "hi", "+15550002")
                )
            ),
        )

    run_async(both())
    assert _count(service, t.outbox) == 1
    assert wakeup.is_set()


def test_an_execution_whose_state_was_stored_as_json_text_reads_and_resumes(
    service: Callboard, account: Account
) -> None:
    """Rows written before migration 1000 hold their state as JSON text (``state_z``
    NULL): they are shown and resumed as before, and written back packed."""
    flow_sid = _flow(service, account, ask_then_lookup())
    first = service.inbound_message(account.sid, flow_sid, _sms("SM" + "a" * 32, "hi"))
    sid = str(first.execution_sid)
    e = t.executions
    with service.db.read() as conn:
        packed = conn.execute(select(e.c.state_z).where(e.c.sid == sid)).scalar_one()
    from callboard.store.packed_json import unpack_state
    from callboard.store.values import dumps

    with service.db.write() as conn:
        conn.execute(
            e.update()
            .where(e.c.sid == sid)
            .values(state=dumps(unpack_state(None, packed)), state_z=None)
        )
    before = service.fetch_execution(account.sid, flow_sid, sid)
    assert before.context["trigger"]["message"]["Body"] == "hi"
    reply = service.inbound_message(account.sid, flow_sid, _sms("SM" + "b" * 32, "Ann"))
    assert reply.accepted and reply.execution_sid == sid
    after = service.fetch_execution(account.sid, flow_sid, sid)
    assert after.context["widgets"]["first"]["inbound"]["Body"] == "Ann"
    with service.db.read() as conn:
        row = conn.execute(select(e.c.state, e.c.state_z).where(e.c.sid == sid)).one()
    assert row.state == "" and row.state_z is not None
