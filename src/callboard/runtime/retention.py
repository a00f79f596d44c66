"""Data retention: Studio's documented rule, with both periods configurable.

* An execution that has **ended** is deleted, with its steps, timers, outbox jobs,
  notifications and processed webhook requests, ``days_after_end`` days after it ended
  (default 30, ``CALLBOARD_RETENTION_DAYS_AFTER_END``).
* An execution **not ended** ``stuck_days`` days after it was created (default 60,
  ``CALLBOARD_STUCK_EXECUTION_DAYS``) is considered stuck: it is ended through the
  engine (``EndExecution("stuck")``, so Event Streams subscribers get
  ``execution.ended`` with reason ``STUCK``) and deleted, in one transaction.
* Messages (the channel's own log) are kept: their ``execution_sid`` is cleared.

Work is done in batches (``batch_size`` executions per transaction, 500 by default; 50
for stuck ones, which run through the engine), so live traffic never waits long for
the database. On PostgreSQL the executions of a batch are locked with ``FOR UPDATE
SKIP LOCKED``: one being worked on right now is left for the next run.

:func:`purge` is what ``callboard purge`` and the background :class:`RetentionJob`
(hourly, in ``callboard serve`` and ``callboard worker``) run. Time comes from the
service's clock (``Callboard.env``), so tests move it by 31 or 61 days at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from callboard.contract.io import EndExecution
from callboard.runtime.executor import Executor
from callboard.store.executions import (
    count_expired,
    count_stuck,
    delete_executions,
    expired_sids,
    stuck_sids,
)
from callboard.store.locks import RETENTION
from callboard.store.notifications import prune_notifications
from callboard.store.outbox import prune_finished_jobs
from callboard.store.requests import prune_requests
from callboard.store.values import to_db_time

__all__ = ["PurgeCounts", "PurgeReport", "RetentionJob", "RetentionPolicy", "count", "purge"]

log = logging.getLogger("callboard.retention")

STUCK_BATCH = 50


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """The two periods, in days (fractions allowed)."""

    days_after_end: float = 30.0
    stuck_days: float = 60.0

    def __post_init__(self) -> None:
        if not self.days_after_end > 0 or not self.stuck_days > 0:
            raise ValueError("retention periods must be positive numbers of days")

    def ended_before(self, now: datetime) -> datetime:
        return to_db_time(now - timedelta(days=self.days_after_end))

    def created_before(self, now: datetime) -> datetime:
        return to_db_time(now - timedelta(days=self.stuck_days))


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    """What a purge finds: executions past retention, and stuck ones."""

    expired: int
    stuck: int

    @property
    def total(self) -> int:
        return self.expired + self.stuck


@dataclass(frozen=True, slots=True)
class PurgeReport:
    expired_deleted: int = 0  # ended executions deleted after the retention period
    stuck_ended: int = 0  # stuck executions ended (and then deleted)
    stuck_deleted: int = 0
    dry_run: bool = False

    @property
    def deleted(self) -> int:
        return self.expired_deleted + self.stuck_deleted


def count(service: Executor, policy: RetentionPolicy, now: datetime | None = None) -> PurgeCounts:
    """How many executions a purge at ``now`` would delete (``--dry-run``)."""
    now = now or service.env.now()
    with service.db.read() as conn:
        expired = count_expired(conn, policy.ended_before(now))
        stuck = count_stuck(conn, policy.created_before(now))
    return PurgeCounts(expired, stuck)


def purge(
    service: Executor,
    policy: RetentionPolicy,
    *,
    now: datetime | None = None,
    batch_size: int = 500,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
) -> PurgeReport:
    """Apply the policy at ``now`` (default: the service's clock). ``progress`` is
    called with the number of executions handled after each batch; ``stop`` ends the
    run between batches. ``dry_run`` only counts."""
    if batch_size < 1:
        raise ValueError("batch size must be at least 1")
    now = now or service.env.now()
    if dry_run:
        found = count(service, policy, now)
        return PurgeReport(found.expired, found.stuck, found.stuck, dry_run=True)
    stuck_ended = stuck_deleted = 0
    while stop is None or not stop.is_set():
        ended, deleted = _stuck_batch(service, policy, now, min(batch_size, STUCK_BATCH))
        stuck_ended += ended
        stuck_deleted += deleted
        if progress is not None and deleted:
            progress(deleted)
        if deleted == 0:
            break
    expired = 0
    while stop is None or not stop.is_set():
        n = _expired_batch(service, policy, now, batch_size)
        expired += n
        if progress is not None and n:
            progress(n)
        if n < batch_size:
            break
    _prune_orphans(service, policy, now)
    if expired or stuck_deleted:
        log.info(
            "retention: deleted %d ended execution(s), ended and deleted %d stuck one(s)",
            expired,
            stuck_deleted,
        )
    return PurgeReport(expired, stuck_ended, stuck_deleted)


def _expired_batch(
    service: Executor, policy: RetentionPolicy, now: datetime, batch_size: int
) -> int:
    skip_locked = service.db.for_update()
    with service.db.write() as conn:
        sids = expired_sids(conn, policy.ended_before(now), batch_size, skip_locked=skip_locked)
        if sids:
            delete_executions(conn, sids)
    return len(sids)


def _stuck_batch(
    service: Executor,
    policy: RetentionPolicy,
    now: datetime,
    batch_size: int,
) -> tuple[int, int]:
    """End and delete up to ``batch_size`` stuck executions: (ended, deleted)."""
    skip_locked = service.db.for_update()
    ended = 0
    with service.db.write() as conn:
        sids = stuck_sids(conn, policy.created_before(now), batch_size, skip_locked=skip_locked)
        done: list[str] = []
        for sid in sids:
            savepoint = conn.begin_nested()
            try:
                result = service.run_event_in(conn, sid, EndExecution("stuck"))
                savepoint.commit()
                ended += int(result.accepted)
            except Exception:
                savepoint.rollback()
                log.exception("retention: ending stuck execution %s failed; deleting it", sid)
            done.append(sid)
        if done:
            delete_executions(conn, done)
    return ended, len(done)


def _prune_orphans(service: Executor, policy: RetentionPolicy, now: datetime) -> None:
    """Processed webhook requests, notifications and finished outbox jobs (e.g. a call
    hang-up, issue 4) that belong to no execution."""
    cutoff = policy.ended_before(now)
    with service.db.write() as conn:
        prune_finished_jobs(conn, cutoff)
        prune_requests(conn, cutoff)
        prune_notifications(conn, cutoff)


class RetentionJob:
    """Runs :func:`purge` in a background thread: first ``delay`` seconds after start,
    then every ``interval`` seconds — in one process per database at a time (the others
    skip their turn, :meth:`run_once`). ``stop()`` interrupts between batches."""

    def __init__(
        self,
        service: Executor,
        policy: RetentionPolicy,
        *,
        interval: float = 3600.0,
        delay: float = 10.0,
        batch_size: int = 500,
    ) -> None:
        self.service = service
        self.policy = policy
        self.interval = interval
        self.delay = delay
        self.batch_size = batch_size
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None or self.interval <= 0:
            return
        self._thread = threading.Thread(target=self._loop, name="callboard-retention", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_once(self) -> PurgeReport | None:
        """One pass, unless another process sharing the database is running one (the
        retention lock, :mod:`callboard.store.locks`): then None, and this turn is
        skipped — retention runs once per database, not once per process."""
        with self.service.db.lock(RETENTION, wait=False) as held:
            if not held:
                log.debug("retention: another process is running it; skipped")
                return None
            return purge(self.service, self.policy, batch_size=self.batch_size, stop=self._stop)

    def _loop(self) -> None:
        wait = self.delay
        while not self._stop.wait(wait):
            try:
                self.run_once()
            except Exception:  # logged; tried again at the next interval
                log.exception("retention run failed")
            wait = self.interval
