"""Hanging up the live calls of an execution that ends outside their webhooks.

An execution that ends while answering one of its call's webhooks tells Twilio with the
answer (``<Hangup/>``). One that ends any other way — REST ``Status=ended``, a timer (a
TwiML Redirect's timeout, a Send & Wait For Reply timeout...), a worker job's result,
retention ending a stuck execution, a message status call-back — would leave its calls
connected to nothing. :func:`hang_up_live_calls` (called by the channels' runner hook,
in the delivery transaction) ends them:

* a call on the **twilio** channel gets an outbox job (``hang_up_call``): the worker
  updates the call through the Calls API with ``Status=completed`` after the commit,
  retried like every job (:func:`hang_up_job`). A 4xx from Twilio (the call has ended
  already) is final and changes nothing. The job belongs to no execution (its
  ``execution_sid`` is NULL; the payload names the call, account and execution), so
  retention deleting a stuck execution right after ending it does not take the job away;
* a call on the **simulator** channel (or of an account without Twilio credentials) is
  marked ``completed`` at once (its simulated caller then hears that the call ended).

Either way the call's row says ``completed``. The call whose webhook is being answered
right now (:func:`answering`) is left alone: its answer hangs it up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Connection, bindparam, select, update

from callboard.channels.router import ChannelRouter
from callboard.channels.twilio_provider import TwilioError
from callboard.contract.io import Event
from callboard.runtime.rows import dumps, loads, to_db_time
from callboard.store import tables as t
from callboard.store.db import insert_rows

if TYPE_CHECKING:
    from callboard.runtime.service import Callboard

__all__ = ["HANG_UP_JOB", "answering", "hang_up_job", "hang_up_live_calls"]

log = logging.getLogger("callboard.channels")

HANG_UP_JOB = "hang_up_call"
ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
# Built once (every ended execution runs it): building the statement and its cache key
# again for each execution was a measurable part of a REST-created execution's CPU (on
# SQLite the same query goes straight to the driver).
_LIVE_CALLS = select(
    t.calls.c.sid, t.calls.c.account_sid, t.calls.c.channel, t.calls.c.sim_state, t.calls.c.status
).where(
    t.calls.c.execution_sid == bindparam("execution_sid"),
    t.calls.c.status.notin_(sorted(ENDED)),
)
_LIVE_CALLS_SQL = (
    "SELECT sid, account_sid, channel, sim_state, status FROM calls "
    "WHERE execution_sid = ? AND status NOT IN ("
    + ", ".join(f"'{status}'" for status in sorted(ENDED))
    + ")"
)


class _LiveCall(NamedTuple):
    sid: str
    account_sid: str
    channel: str
    sim_state: str | None
    status: str


_answering: ContextVar[str | None] = ContextVar("callboard_answering_call", default=None)


@contextmanager
def answering(call_sid: str | None) -> Iterator[None]:
    """While answering a webhook of ``call_sid``: an end of its execution reaches that
    call through the answer, not through the Calls API."""
    token = _answering.set(call_sid or None)
    try:
        yield
    finally:
        _answering.reset(token)


def hang_up_live_calls(
    conn: Connection, service: Callboard, router: ChannelRouter, execution_sid: str
) -> int:
    """End the calls of ``execution_sid`` that are still up (in its transaction).
    Returns how many were ended."""
    c = t.calls
    rows: Sequence[Any]
    if conn.dialect.name == "sqlite":  # straight to the driver: TEXT columns only
        driver = conn.connection.driver_connection
        found = driver.execute(_LIVE_CALLS_SQL, (execution_sid,)).fetchall()  # type: ignore[union-attr]
        rows = [_LiveCall(*row) for row in found]
    else:
        rows = conn.execute(_LIVE_CALLS, {"execution_sid": execution_sid}).all()
    skip = _answering.get()
    now = service.env.now()
    jobs: list[dict[str, Any]] = []
    done = 0
    for row in rows:
        if row.sid == skip:
            continue
        values: dict[str, Any] = {"status": "completed", "date_updated": to_db_time(now)}
        on_twilio = row.channel != "simulator" and router.credentials(conn, row.account_sid)
        if on_twilio:
            jobs.append(
                {  # not tied to the execution: retention may delete it at once
                    "execution_sid": None,
                    "kind": HANG_UP_JOB,
                    "token": "",
                    "payload": dumps(
                        {
                            "call_sid": row.sid,
                            "account_sid": row.account_sid,
                            "execution_sid": execution_sid,
                        }
                    ),
                    "status": "pending",
                    "attempts": 0,
                    "available_at": to_db_time(now),
                    "date_created": to_db_time(now),
                }
            )
        elif row.sim_state:  # the simulated caller hears the call end
            state = loads(row.sim_state) or {}
            state.update(status="completed", index=-1)
            values["sim_state"] = dumps(state)
        conn.execute(update(c).where(c.c.sid == row.sid).values(values))
        done += 1
    if jobs:
        insert_rows(conn, t.outbox, jobs)
        service.wakeup.set()
    return done


def hang_up_job(router: ChannelRouter) -> Callable[[Callboard, dict[str, Any]], Event | None]:
    """The outbox handler of ``hang_up_call`` jobs (no transaction open)."""

    def handle(service: Callboard, job: dict[str, Any]) -> Event | None:
        payload = loads(job["payload"]) or {}
        call_sid = str(payload.get("call_sid") or "")
        creds = router.read_credentials(str(payload.get("account_sid") or ""))
        if not call_sid or creds is None:  # credentials removed meanwhile: nothing to call
            return None
        try:  # TransientJobError (5xx, network) propagates: the job is retried
            router.twilio(creds).hang_up(call_sid)
        except TwilioError as exc:
            log.info("hanging up %s: Twilio answered %s (%s)", call_sid, exc.status, exc.message)
        return None

    return handle
