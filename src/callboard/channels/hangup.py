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
right now (:func:`call_being_answered`) is left alone: its answer hangs it up.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection

from callboard.channels.router import ChannelRouter
from callboard.channels.twilio_provider import TwilioError
from callboard.contract.io import CallEvent, Event, Start
from callboard.runtime.loaded import LoadedExecution
from callboard.runtime.ports import OutboxHandler
from callboard.runtime.records import RunResult
from callboard.store.calls import ENDED_CALL_STATUSES, keep_twiml, live_calls, update_call
from callboard.store.outbox import insert_jobs
from callboard.store.values import dumps, loads, to_db_time

__all__ = [
    "ENDED",
    "HANG_UP_JOB",
    "CallRunHook",
    "call_being_answered",
    "hang_up_job",
    "hang_up_live_calls",
]

log = logging.getLogger("callboard.channels")

HANG_UP_JOB = "hang_up_call"
ENDED = ENDED_CALL_STATUSES


def call_being_answered(event: Event) -> str | None:
    """The call whose webhook the run of ``event`` answers (None: no call's): an end of
    its execution reaches that call through the answer, not through the Calls API. The
    webhook's parameters travel in the event: a call-back's, or an incoming call's
    trigger data."""
    if isinstance(event, CallEvent):
        params = event.params
    elif isinstance(event, Start) and event.trigger == "incomingCall":
        params = event.data
    else:
        return None
    sid = params.get("CallSid")
    return str(sid) if sid else None


class CallRunHook:
    """The channels' runner hook (:data:`callboard.runtime.ports.RunHook`), in the run's
    transaction: keep the TwiML a call execution answered (``calls.twiml``); when the
    execution has just ended, hang up its calls but the one being answered."""

    def __init__(self, router: ChannelRouter) -> None:
        self.router = router

    def __call__(
        self, conn: Connection, ex: LoadedExecution, event: Event, result: RunResult
    ) -> None:
        if result.accepted and result.status == "ended":
            hang_up_live_calls(conn, self.router, ex.sid, call_being_answered(event))
        if result.responses:
            twiml = result.responses[-1].twiml
            keep_twiml(conn, ex.sid, twiml, to_db_time(self.router.env.now()))


def hang_up_live_calls(
    conn: Connection, router: ChannelRouter, execution_sid: str, skip: str | None
) -> int:
    """End the calls of ``execution_sid`` that are still up (in its transaction), but
    ``skip`` (the call being answered). Returns how many were ended."""
    rows = live_calls(conn, execution_sid)
    now = router.env.now()
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
        update_call(conn, row.sid, values)
        done += 1
    if jobs:
        insert_jobs(conn, jobs)
        router.wakeup.set()
    return done


def hang_up_job(router: ChannelRouter) -> OutboxHandler:
    """The outbox handler of ``hang_up_call`` jobs (no transaction open)."""

    def handle(job: dict[str, Any]) -> Event | None:
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
