"""Recording events in the transaction of the state change they describe.

:func:`record_events` is called by the runner (:mod:`callboard.runtime.runner`) on
the open write connection, right after it saved an execution's new state and steps:
one ``events`` row per CloudEvent, in the same transaction. A rolled-back delivery
therefore records nothing, and a committed one is always announced. Fan-out to the
subscriptions happens later, in the delivery worker, so recording stays one
multi-row INSERT (measured in ``benchmarks/events_throughput.py``).
"""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection

from callboard.events.envelope import (
    EXECUTION_ENDED,
    EXECUTION_STARTED,
    STEP_ENDED,
    cloud_event,
    ended_reason,
    ms_time,
)
from callboard.events.payloads import pack_payload
from callboard.events.tables import events
from callboard.store.db import insert_rows
from callboard.store.executions import find_execution_by_sid
from callboard.store.values import to_db_time

__all__ = ["ExecutionLike", "event_row", "record_events", "wakeup"]

# Set whenever events were recorded: the delivery loop and live streams wake early.
wakeup = threading.Event()


class ExecutionLike(Protocol):
    """What :func:`record_events` reads from the runner's ``LoadedExecution``."""

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


def record_events(
    conn: Connection,
    ex: ExecutionLike,
    steps: list[dict[str, Any]],
    *,
    started: bool,
    ended: bool,
    now: datetime,
    reason: str | None = None,
) -> int:
    """Record execution.started (when ``started``), one step.ended per row of ``steps``
    (the runner's step rows, in order) and execution.ended (when ``ended``; ``reason``
    is Callboard's ended reason, read from the row when not given). Call it after the
    execution row was written. Returns how many events were recorded."""
    if not (started or ended or steps):
        return 0
    path = f"/v2/Flows/{ex.flow_sid}/Executions/{ex.sid}"
    created = ex.date_created
    initiated_by = ex.initiated_by
    if (ended and not reason) or ((started or ended) and (created is None or not initiated_by)):
        row = find_execution_by_sid(conn, ex.sid)
        if row is not None:
            created = created or row.date_created
            initiated_by = initiated_by or row.initiated_by
            reason = reason or row.ended_reason

    def execution_data(status: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "execution_sid": ex.sid,
            "account_sid": ex.account_sid,
            "flow_sid": ex.flow_sid,
            "contact_channel_address": ex.contact,
            "status": status,
            "date_created": ms_time(created or now),
            "date_updated": ms_time(now),
            "started_by": initiated_by,
            "flow_revision": ex.flow_version,
        }
        if status == "ended":
            data["ended_reason"] = ended_reason(reason)
        return data

    out: list[dict[str, Any]] = []
    if started:
        ev = cloud_event(EXECUTION_STARTED, path, execution_data("active"), created or now)
        out.append(event_row(ev, ex.account_sid, ex.flow_sid, ex.sid, now))
    for step in steps:
        when = step.get("date_created") or now
        data = {
            "account_sid": ex.account_sid,
            "flow_sid": ex.flow_sid,
            "execution_sid": ex.sid,
            "step_sid": step["sid"],
            "parent_step_sid": step.get("parent_step_sid"),
            "name": step["name"],
            "transitioned_from": step["transitioned_from"],
            "transitioned_to": step["transitioned_to"],
            "type": step.get("type"),
            "flow_revision": ex.flow_version,
            "date_created": ms_time(when),
        }
        ev = cloud_event(STEP_ENDED, f"{path}/Steps/{step['sid']}", data, when)
        out.append(event_row(ev, ex.account_sid, ex.flow_sid, ex.sid, now))
    if ended:
        ev = cloud_event(EXECUTION_ENDED, path, execution_data("ended"), now)
        out.append(event_row(ev, ex.account_sid, ex.flow_sid, ex.sid, now))
    insert_rows(conn, events, out)  # the driver's executemany on SQLite (same stored values)
    wakeup.set()
    return len(out)
