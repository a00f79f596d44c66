"""THE leased job queue, shared by the outbox (:mod:`callboard.store.outbox`, run by
:mod:`callboard.runtime.outbox`) and Event Streams deliveries
(:mod:`callboard.store.event_deliveries`, run by :mod:`callboard.events.delivery_queue`).

A queue is a table whose rows are *due* when they are claimable (a status condition)
and their due column (``available_at``, ``next_attempt_at``) has passed. Claiming picks
due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers share the
table) and moves their due column to the end of a *lease*: a row a crashed worker left
is due again when its lease runs out. A failure makes the row due again after a
back-off (:func:`backoff_seconds`); the :class:`QueuePolicy` says when to give up
(after ``max_attempts``, or ``max_age_seconds`` after the row was made). What differs
between the two queues — the table, its due column, the claimable rows, the policy —
is a parameter.
The shape of a queue's backlog (``/metrics``, Health) is :class:`QueueBacklog`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, Table, and_, select, update

__all__ = ["LeasedQueue", "QueueBacklog", "QueuePolicy", "backoff_seconds"]


@dataclass(frozen=True, slots=True)
class QueueBacklog:
    """How many jobs of a queue wait, and since when the oldest due one has."""

    pending: int = 0  # waiting (the outbox: pending or running)
    retrying: int = 0  # waiting after at least one failed attempt
    failed: int = 0  # given up
    oldest_due: datetime | None = None  # naive UTC; None: nothing is due


def backoff_seconds(
    attempts: int, base: float = 1.0, cap: float = 300.0, rng: random.Random | None = None
) -> float:
    """Delay after the ``attempts``-th failure: ``base`` × 2^(attempts-1), at most
    ``cap``; with ``rng``, half of it jittered (uniform in [delay/2, delay])."""
    exponent = max(0, min(attempts - 1, 30))
    delay = float(min(cap, base * 2.0**exponent))
    if rng is None:
        return delay
    return delay / 2 + rng.uniform(0, delay / 2)


@dataclass(frozen=True, slots=True)
class QueuePolicy:
    """How long a claim holds, how failures back off, when to give up."""

    lease_seconds: float
    backoff_base: float
    backoff_cap: float
    max_attempts: int | None = None  # give up after this many failed attempts
    max_age_seconds: float | None = None  # give up on rows made longer ago than this

    def lease_until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.lease_seconds)

    def retry_at(self, now: datetime, attempts: int, rng: random.Random | None = None) -> datetime:
        """When a row that failed its ``attempts``-th attempt is due again."""
        delay = backoff_seconds(attempts, self.backoff_base, self.backoff_cap, rng)
        return now + timedelta(seconds=delay)

    def out_of_attempts(self, attempts: int) -> bool:
        return self.max_attempts is not None and attempts >= self.max_attempts

    def age_cutoff(self, now: datetime) -> datetime | None:
        """Rows made at or before this are given up on (None: no age limit)."""
        if self.max_age_seconds is None:
            return None
        return now - timedelta(seconds=self.max_age_seconds)


@dataclass(frozen=True, slots=True)
class LeasedQueue:
    """A leased queue over ``table``: rows matching ``claimable`` whose ``due_column``
    has passed are due."""

    table: Table
    due_column: str
    claimable: ColumnElement[bool]

    def due(self, now: datetime) -> ColumnElement[bool]:
        return and_(self.claimable, self.table.c[self.due_column] <= now)

    def any_due(
        self, conn: Connection, now: datetime, where: ColumnElement[bool] | None = None
    ) -> bool:
        """Whether a row is due: one cheap probe (no lock) before claiming. Ordered by
        the due column, so that the queue's partial index (ordered the same way) is the
        plan without statistics — never a sequential scan of the whole table."""
        return conn.execute(self.probe(now, where)).first() is not None

    def probe(self, now: datetime, where: ColumnElement[bool] | None = None) -> Select[Any]:
        """The query :meth:`any_due` runs."""
        cond = self.due(now) if where is None else and_(self.due(now), where)
        due = self.table.c[self.due_column]
        return select(self.table.c.id).where(cond).order_by(due).limit(1)

    def claim(self, conn: Connection, query: Select[Any], *, skip_locked: bool) -> list[Row[Any]]:
        """Run ``query`` (due rows of this table, maybe joined) locking what it picks;
        ``skip_locked`` (PostgreSQL): rows another worker is claiming are left to it."""
        if skip_locked:
            query = query.with_for_update(skip_locked=True, of=self.table)
        return list(conn.execute(query).all())

    def lease(self, conn: Connection, ids: list[int], lease_until: datetime, **values: Any) -> None:
        """Hold the claimed rows ``ids`` until ``lease_until`` (and set ``values``)."""
        if ids:
            table = self.table
            conn.execute(
                update(table)
                .where(table.c.id.in_(ids))
                .values({self.due_column: lease_until, **values})
            )

    def make_due(self, conn: Connection, ids: list[int], when: datetime) -> None:
        """Make rows ``ids`` due at ``when`` (released, or retried later)."""
        self.lease(conn, ids, when)
