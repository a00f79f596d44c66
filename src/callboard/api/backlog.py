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

from callboard.store.db import Database
from callboard.store.event_deliveries import delivery_backlog
from callboard.store.outbox import outbox_backlog
from callboard.store.timers import timer_backlog
from callboard.store.values import from_db_time, to_db_time

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


def read_backlog(db: Database, now: datetime) -> Backlog:
    """The backlog at ``now`` (aware UTC), in one read transaction."""
    cutoff = to_db_time(now)
    with db.read() as conn:
        timers = timer_backlog(conn, cutoff)
        outbox = outbox_backlog(conn, cutoff)
        events = delivery_backlog(conn, cutoff)
    return Backlog(
        timers_pending=timers[0],
        timers_overdue=timers[1],
        timer_lag_seconds=_lag(now, timers[2]),
        outbox_pending=outbox.pending,
        outbox_retrying=outbox.retrying,
        outbox_failed=outbox.failed,
        outbox_lag_seconds=_lag(now, outbox.oldest_due),
        events_pending=events.pending,
        events_retrying=events.retrying,
        events_failed=events.failed,
        events_lag_seconds=_lag(now, events.oldest_due),
    )
