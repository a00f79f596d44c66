"""How far behind the background work is, read from what the database already holds.

Durable timers (``timers``), outbox jobs (``outbox``: HTTP requests, sends) and Event
Streams deliveries (``event_deliveries``) are rows; their depth and the age of the oldest
one that is due tell whether the worker keeps up. ``/metrics`` exports these figures and
``GET /callboard/v1/Health`` uses the lags for readiness.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from callboard.events import tables as et
from callboard.runtime.rows import from_db_time, to_db_time
from callboard.store import tables as t

__all__ = ["Backlog", "read_backlog"]


@dataclass(frozen=True, slots=True)
class Backlog:
    timers_pending: int = 0
    timers_overdue: int = 0
    timer_lag_seconds: float = 0.0  # how long the oldest due timer has waited
    outbox_pending: int = 0  # pending or running
    outbox_retrying: int = 0  # pending after at least one failed attempt
    outbox_failed: int = 0  # given up
    outbox_lag_seconds: float = 0.0
    events_pending: int = 0
    events_retrying: int = 0
    events_failed: int = 0
    events_lag_seconds: float = 0.0

    @property
    def lag_seconds(self) -> float:
        """The worst of the three lags."""
        return max(self.timer_lag_seconds, self.outbox_lag_seconds, self.events_lag_seconds)

    def as_json(self) -> dict[str, Any]:
        return {
            "timers": {
                "pending": self.timers_pending,
                "overdue": self.timers_overdue,
                "lag_seconds": round(self.timer_lag_seconds, 3),
            },
            "outbox": {
                "pending": self.outbox_pending,
                "retrying": self.outbox_retrying,
                "failed": self.outbox_failed,
                "lag_seconds": round(self.outbox_lag_seconds, 3),
            },
            "event_deliveries": {
                "pending": self.events_pending,
                "retrying": self.events_retrying,
                "failed": self.events_failed,
                "lag_seconds": round(self.events_lag_seconds, 3),
            },
        }


def _lag(now: datetime, oldest: datetime | None) -> float:
    when = from_db_time(oldest)
    if when is None:
        return 0.0
    return max(0.0, (now - when).total_seconds())


def read_backlog(db: Any, now: datetime) -> Backlog:
    """The backlog at ``now`` (aware UTC), in one read transaction. ``db`` is a
    :class:`callboard.store.db.Database`."""
    cutoff = to_db_time(now)
    with db.read() as conn:
        timers = conn.execute(
            select(
                func.count(),
                func.count().filter(t.timers.c.due_at <= cutoff),
                func.min(t.timers.c.due_at),
            )
        ).one()
        waiting = t.outbox.c.status.in_(("pending", "running"))
        outbox = conn.execute(
            select(
                func.count().filter(waiting),
                func.count().filter(waiting, t.outbox.c.attempts > 0),
                func.count().filter(t.outbox.c.status == "failed"),
                func.min(t.outbox.c.available_at).filter(
                    t.outbox.c.status == "pending", t.outbox.c.available_at <= cutoff
                ),
            )
        ).one()
        d = et.event_deliveries.c
        events = conn.execute(
            select(
                func.count().filter(d.status == "pending"),
                func.count().filter(d.status == "pending", d.attempts > 0),
                func.count().filter(d.status == "failed"),
                func.min(d.next_attempt_at).filter(
                    d.status == "pending", d.next_attempt_at <= cutoff
                ),
            )
        ).one()
    oldest_timer = timers[2] if timers[1] else None
    return Backlog(
        timers_pending=int(timers[0]),
        timers_overdue=int(timers[1]),
        timer_lag_seconds=_lag(now, oldest_timer),
        outbox_pending=int(outbox[0]),
        outbox_retrying=int(outbox[1]),
        outbox_failed=int(outbox[2]),
        outbox_lag_seconds=_lag(now, outbox[3]),
        events_pending=int(events[0]),
        events_retrying=int(events[1]),
        events_failed=int(events[2]),
        events_lag_seconds=_lag(now, events[3]),
    )
