"""Durable timers: the scheduler that fires them.

Every widget wait with a deadline (Send & Wait For Reply's timeout, the TwiML Redirect
return, call ring timeouts...) is a row in ``timers`` — ``(execution_sid, token,
due_at)`` — written in the transaction that starts the wait, so it survives restarts
and crashes. :func:`fire_due_timers` fires the ones that are due:

1. a cheap read finds up to ``limit`` due timers (``ix_timers_due``: an index range
   scan, O(log n + due) however many timers are pending);
2. they are fired in batches, one write transaction per batch (on PostgreSQL up to
   :data:`FIRE_THREADS` batches at once). The batch's execution rows are locked first
   (PostgreSQL: ``FOR UPDATE SKIP LOCKED`` — a timer whose execution another process
   or thread is working on is left for the next pass, so several schedulers never
   wait on each other; SQLite: one writer anyway); for each timer the
   row is deleted (0 rows → it was cancelled or fired meanwhile: nothing happens) and
   :class:`~callboard.contract.io.TimerFired` is delivered — deletion and delivery commit
   together, in a SAVEPOINT so one broken execution does not hold back the others;
3. the engine ignores a fire whose token no longer names the current wait (late,
   duplicate or superseded timers change nothing).

Lock order is always *execution, then its timers* (the same as event delivery), so the
scheduler and webhooks cannot deadlock on PostgreSQL.

:func:`sleep_seconds` tells the worker how long to sleep: until the next due timer,
never more than :data:`MAX_SLEEP_SECONDS`; a delivery that starts a nearer timer wakes
the worker at once (:meth:`Executor.notify`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from callboard.contract.io import EndExecution, TimerFired
from callboard.runtime.executor import MAX_SLEEP_SECONDS, Executor
from callboard.store.executions import lock_free_executions
from callboard.store.timers import delete_timer, due_timers, earliest_due
from callboard.store.values import aware, from_db_time, to_db_time

__all__ = [
    "BATCH_SIZE",
    "MAX_SLEEP_SECONDS",
    "FiredTimer",
    "Observer",
    "fire_due_timers",
    "next_timer_due",
    "sleep_seconds",
]

log = logging.getLogger("callboard.timers")


MIN_SLEEP_SECONDS = 0.002
BATCH_SIZE = 25  # timers per write transaction (SQLite's writer lock is held that long)
FIRE_THREADS = 4  # PostgreSQL: batches fired in parallel by one scheduler


@dataclass(frozen=True, slots=True)
class FiredTimer:
    """One timer handled by :func:`fire_due_timers` (for observers and benchmarks)."""

    execution_sid: str
    token: str
    due_at: datetime  # aware UTC
    committed_at: datetime  # aware UTC wall-clock time of the commit
    accepted: bool  # False: a stale fire the engine ignored


Observer = Callable[[FiredTimer], None]


def next_timer_due(service: Executor) -> datetime | None:
    """When the earliest pending timer is due (None when there is none); one index probe."""
    with service.db.read() as conn:
        return from_db_time(earliest_due(conn))


def sleep_seconds(
    service: Executor, now: datetime | None = None, longest: float = MAX_SLEEP_SECONDS
) -> float:
    """How long the worker may sleep: until the next timer, at most ``longest``
    (MAX_SLEEP_SECONDS; longer when notifications wake it, :mod:`callboard.store.notify`)."""
    due = next_timer_due(service)
    if due is None:
        return longest
    wait = (due - (now or service.env.now())).total_seconds()
    return max(MIN_SLEEP_SECONDS, min(longest, wait))


def fire_due_timers(
    service: Executor,
    now: datetime | None = None,
    *,
    limit: int = 500,
    batch_size: int = BATCH_SIZE,
    observer: Observer | None = None,
) -> int:
    """Fire up to ``limit`` timers due at ``now`` (default: the service's clock).
    Returns how many were fired (stale fires included: their rows are gone too)."""
    db = service.db
    when = to_db_time(now or service.env.now())
    with db.read() as conn:
        due = due_timers(conn, when, limit)
    chunks = [due[i : i + batch_size] for i in range(0, len(due), batch_size)]
    parallel = 1 if db.is_sqlite else min(FIRE_THREADS, len(chunks))
    if parallel <= 1:
        fired = sum(_fire_chunk(service, chunk, observer) for chunk in chunks)
    else:  # PostgreSQL: batches in parallel (row locks keep each execution to one)
        with ThreadPoolExecutor(parallel, thread_name_prefix="callboard-timers") as pool:
            fired = sum(pool.map(lambda chunk: _fire_chunk(service, chunk, observer), chunks))
    if fired:
        service.notify()
    return fired


def _fire_chunk(service: Executor, chunk: Sequence[Any], observer: Observer | None) -> int:
    """Fire one batch of timers in one write transaction; returns how many fired."""
    db = service.db
    done: list[tuple[str, str, datetime, bool]] = []
    with db.write() as conn:
        if db.for_update():  # busy elsewhere (or deleted): left for the next pass
            wanted = sorted({timer.execution_sid for timer in chunk})
            locked = lock_free_executions(conn, wanted)
        for timer in chunk:
            if db.for_update() and timer.execution_sid not in locked:
                continue
            accepted = _fire_one(service, conn, timer.id, timer.execution_sid, timer.token)
            if accepted is not None:
                done.append((timer.execution_sid, timer.token, timer.due_at, accepted))
    committed = datetime.now(UTC)
    if observer is not None:
        for sid, token, due_at, accepted in done:
            observer(FiredTimer(sid, token, aware(due_at), committed, accepted))
    return len(done)


def _fire_one(
    service: Executor, conn: Connection, timer_id: int, sid: str, token: str
) -> bool | None:
    """Delete the timer and deliver TimerFired, in a SAVEPOINT. None: already gone."""
    savepoint = conn.begin_nested()
    try:
        if delete_timer(conn, timer_id) == 0:
            savepoint.commit()
            return None
        result = service.run_event_in(conn, sid, TimerFired(token))
        savepoint.commit()
        return result.accepted
    except Exception:
        savepoint.rollback()
        log.exception("timer %s of execution %s failed; ending the execution", token, sid)
    # A timer whose delivery keeps failing must not fire forever, nor leave the
    # execution waiting for ever: drop it and end the execution as failed.
    savepoint = conn.begin_nested()
    try:
        delete_timer(conn, timer_id)
        service.run_event_in(conn, sid, EndExecution("failed"))
        savepoint.commit()
    except Exception:
        savepoint.rollback()
        log.exception("could not end execution %s; dropping its timer %s", sid, token)
        delete_timer(conn, timer_id)
    return False
