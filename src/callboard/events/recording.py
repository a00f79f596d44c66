"""Recording events in the transaction of the state change they describe.

:func:`run_recorder` is the runner's recorder (:mod:`callboard.runtime.runner`): it
makes the ``events`` row for a run's events (:mod:`callboard.events.batches`) and the
write that inserts it with the run's other writes, in the same transaction. A
rolled-back delivery therefore records nothing, and a committed one is always
announced. It is two halves: :func:`build_event_rows` (pure: no connection, so the rows
are made before the write lock is taken) and :func:`insert_event_rows` (one INSERT,
:func:`callboard.store.events.insert_events`).
Fan-out to the subscriptions happens later, in the delivery worker (measured in
``benchmarks/events_recording.py``).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection

from callboard.events.batches import ENDED, ROW_EVENTS, STARTED, pack_run
from callboard.events.envelope import epoch_ms
from callboard.events.payloads import pack_payload
from callboard.store.events import insert_events
from callboard.store.values import to_db_time

__all__ = [
    "ExecutionLike",
    "build_event_rows",
    "event_row",
    "insert_event_rows",
    "run_recorder",
    "wakeup",
]

# Set whenever events were recorded: the delivery loop and live streams wake early.
wakeup = threading.Event()


class ExecutionLike(Protocol):
    """What :func:`build_event_rows` reads from the runner's ``LoadedExecution``."""

    sid: str
    account_sid: str
    flow_sid: str
    flow_version: int
    contact: str
    initiated_by: str
    date_created: datetime | None


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def event_row(
    event: dict[str, Any],
    account_sid: str,
    flow_sid: str | None,
    execution_sid: str | None,
    when: datetime,
    *,
    dispatched: bool = False,
) -> dict[str, Any]:
    return {
        "sid": event["id"],
        "account_sid": account_sid,
        "flow_sid": flow_sid,
        "execution_sid": execution_sid,
        "type": event["type"],
        "payload": "",
        "payload_z": pack_payload(_dumps(event)),  # events.payloads
        "dispatched": dispatched,
        "date_created": to_db_time(when),
    }


def build_event_rows(
    ex: ExecutionLike,
    steps: list[dict[str, Any]],
    *,
    started: bool,
    ended: bool,
    now: datetime,
    reason: str | None = None,
    created: datetime | None = None,
    initiated_by: str | None = "",
) -> list[dict[str, Any]]:
    """The ``events`` rows announcing execution.started (when ``started``), one
    step.ended per row of ``steps`` (the runner's step rows, in order) and
    execution.ended (when ``ended``; ``reason`` is Callboard's ended reason), without a
    connection: one row per run (:mod:`callboard.events.batches`). ``created`` defaults
    to the execution's (else ``now``), ``initiated_by`` (``started_by``) to the
    execution's when empty (None: none, ``null``)."""
    count = len(steps) + started + ended
    if not count:
        return []
    now_ms = epoch_ms(now)
    created_ms = epoch_ms(created or ex.date_created or now)
    by = None if initiated_by is None else initiated_by or ex.initiated_by
    rows = [
        [s["sid"], s.get("parent_step_sid"), s["name"], s["transitioned_from"],
         s["transitioned_to"], s.get("type"), epoch_ms(s.get("date_created") or now)]
        for s in steps
    ]  # fmt: skip
    when = to_db_time(now)
    out: list[dict[str, Any]] = []
    first = 0
    while True:  # one row, unless the run has more events than a row holds
        room = ROW_EVENTS - (started and not first)
        part = rows[first : first + room]
        last = first + len(part) == len(rows)
        flags = (STARTED if started and not first else 0) | (
            ENDED if ended and last and len(part) < room else 0
        )
        payload = pack_run(
            secrets.token_bytes(16),
            ex.contact,
            by,
            ex.flow_version,
            now_ms,
            created_ms,
            reason,
            flags,
            part,
        )
        out.append(
            {
                "sid": "",
                "account_sid": ex.account_sid,
                "flow_sid": ex.flow_sid,
                "execution_sid": ex.sid,
                "type": "",
                "payload": "",
                "payload_z": payload,
                "dispatched": False,
                "date_created": when,
            }
        )
        first += len(part)
        if last and (flags & ENDED or not ended):
            return out


def insert_event_rows(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Insert rows made by :func:`build_event_rows` on ``conn`` (the run's write
    transaction) and wake the delivery loop and live streams. Returns how many rows."""
    if rows:
        insert_events(conn, rows)  # the driver's executemany
        wakeup.set()
    return len(rows)


def run_recorder(
    ex: ExecutionLike,
    steps: list[dict[str, Any]],
    *,
    started: bool,
    ended: bool,
    now: datetime,
    reason: str | None = None,
) -> Callable[[Connection], int]:
    """The runtime's :class:`~callboard.runtime.ports.RunRecorder`: the rows are built
    now (outside any transaction: a run computed on a read snapshot holds no writer's
    lock for it), and the write it returns inserts them."""
    rows = build_event_rows(
        ex,
        steps,
        started=started,
        ended=ended,
        now=now,
        reason=reason,
        created=ex.date_created,
        initiated_by=ex.initiated_by,
    )
    return lambda conn: insert_event_rows(conn, rows)
