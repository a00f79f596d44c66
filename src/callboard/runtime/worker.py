"""The background worker: durable timers, outbox jobs, retention, SQLite checkpoints.

One thread per :class:`Worker` (``callboard serve`` starts one; ``callboard worker``
runs one without HTTP). Several may share one PostgreSQL database.

* **timers** — :func:`callboard.runtime.timers.fire_due_timers` each pass; the loop
  sleeps until the next due timer (at most 200 ms), and a delivery that starts a nearer
  timer wakes it at once.
* **outbox** — jobs written by event delivery (HTTP requests, network message sends,
  outbound calls) are claimed with a *lease*: ``status='running'`` and ``available_at``
  = now + :data:`LEASE_SECONDS` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL). The job is
  performed outside any transaction; its result is delivered to the execution and the
  job marked ``done`` in one transaction — only if the lease is still ours (``attempts``
  unchanged), so a job taken over by another worker is never finished twice. A job left
  ``running`` by a crash becomes claimable again when its lease expires (at-least-once:
  the HTTP request may be sent again; a repeated result is stale and ignored). A job
  that raises is retried with exponential back-off; after :data:`MAX_ATTEMPTS` it is
  ``failed`` and the widget gets its failure event (``EffectResult(ok=False)``), so an
  execution never waits for ever on a job.
* **retention** — :class:`callboard.runtime.retention.RetentionJob`, its own thread.
* **SQLite checkpoints** — every few seconds, off the request path.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import Connection, and_, or_, select, update

from callboard.engine.io import (
    EffectResult,
    EndExecution,
    Event,
    HttpRequest,
    SendMessage,
    effect_from_json,
)
from callboard.runtime.egress import egress_client
from callboard.runtime.local import http_result
from callboard.runtime.providers import OutboundMessage
from callboard.runtime.retention import RetentionJob, RetentionPolicy
from callboard.runtime.rows import loads, to_db_time
from callboard.runtime.timers import Observer, fire_due_timers, sleep_seconds
from callboard.store import tables as t

if TYPE_CHECKING:
    from callboard.runtime.service import Callboard

__all__ = [
    "LEASE_SECONDS",
    "MAX_ATTEMPTS",
    "POLL_SECONDS",
    "TransientJobError",
    "Worker",
    "backoff_seconds",
    "perform_job",
    "run_outbox",
]

log = logging.getLogger("callboard.worker")

POLL_SECONDS = 0.2
CHECKPOINT_SECONDS = 5.0
LEASE_SECONDS = 60.0  # a claimed job not finished by then is taken over (crash recovery)
MAX_ATTEMPTS = 5  # then the job fails and the widget takes its failure event
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 300.0


class TransientJobError(Exception):
    """Raised by a provider or outbox handler for a failure worth retrying (network
    down, 5xx from the provider): the job is retried with back-off."""


def backoff_seconds(attempts: int) -> float:
    """Delay before attempt ``attempts + 1``: 1 s, 2 s, 4 s... capped at 5 minutes."""
    return float(min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1)))


def perform_job(
    service: Callboard, job: dict[str, Any], client: httpx.Client | None
) -> Event | None:
    """Do one job (no database transaction open) and return the event to deliver."""
    kind = job["kind"]
    custom = service.outbox_handlers.get(kind)
    if custom is not None:
        return custom(service, job)
    payload = loads(job["payload"]) or {}
    meta = payload.pop("_meta", {}) or {}
    effect = effect_from_json(payload)
    if isinstance(effect, HttpRequest):
        return http_result(effect, client=client)
    if isinstance(effect, SendMessage):
        message = OutboundMessage(
            account_sid=job.get("account_sid", ""),
            flow_sid=job.get("flow_sid", ""),
            execution_sid=job["execution_sid"],
            effect=effect,
            sid=str(meta.get("sid") or service.env.sid("SM")),
            now=service.env.now(),
        )
        try:
            return service.provider.send(message)
        except TransientJobError:
            raise
        except Exception as exc:  # provider failure: the widget takes its failure event
            return EffectResult(effect.token, False, {"error": f"{type(exc).__name__}: {exc}"})
    log.warning("no handler for outbox job %s (%s); ending its execution", job["id"], kind)
    return EndExecution("failed")


def run_outbox(service: Callboard, limit: int = 16, client: httpx.Client | None = None) -> int:
    """Claim up to ``limit`` due jobs (pending, retry due, or running with an expired
    lease), perform them and deliver their results. Returns how many were claimed."""
    db = service.db
    now_aware = service.env.now()
    now = to_db_time(now_aware)
    o, e = t.outbox, t.executions
    due = or_(o.c.status == "pending", o.c.status == "running")
    with db.read() as conn:  # cheap check first: no write lock when there is nothing
        pending = conn.execute(select(o.c.id).where(due, o.c.available_at <= now).limit(1)).first()
    if pending is None:
        return 0
    lease_until = to_db_time(now_aware + timedelta(seconds=LEASE_SECONDS))
    with db.write() as conn:
        # Several workers may share a PostgreSQL database: SKIP LOCKED hands each job to
        # one of them (SQLite has one writer at a time anyway).
        claim = select(o.c.id).where(due, o.c.available_at <= now).order_by(o.c.id).limit(limit)
        if db.for_update():
            claim = claim.with_for_update(skip_locked=True)
        ids = list(conn.execute(claim).scalars())
        if not ids:
            return 0
        conn.execute(
            update(o)
            .where(o.c.id.in_(ids))
            .values(
                status="running",
                attempts=o.c.attempts + 1,
                available_at=lease_until,
                date_updated=now,
            )
        )
        rows = conn.execute(
            select(o, e.c.account_sid, e.c.flow_sid)
            .join(e, e.c.sid == o.c.execution_sid, isouter=True)
            .where(o.c.id.in_(ids))
            .order_by(o.c.id)
        ).all()
        jobs = [dict(r._mapping) for r in rows]
    own_client = client is None
    http = client or egress_client(follow_redirects=True)
    try:
        for job in jobs:
            if job["attempts"] > MAX_ATTEMPTS:  # crashed too often while running it
                _give_up(service, job, job.get("last_error") or "the job was interrupted")
                continue
            try:
                event = perform_job(service, job, http)
            except Exception as exc:
                if not isinstance(exc, TransientJobError):
                    log.exception("outbox job %s (%s) failed", job["id"], job["kind"])
                error = f"{type(exc).__name__}: {exc}"
                if job["attempts"] >= MAX_ATTEMPTS:
                    _give_up(service, job, error)
                else:
                    _retry(service, job, error)
                continue
            _finish(service, job, event)
    finally:
        if own_client:
            http.close()
    return len(jobs)


def _ours(job: dict[str, Any]) -> Any:
    """The job row while our lease holds (nobody re-claimed it since)."""
    o = t.outbox
    return and_(o.c.id == job["id"], o.c.status == "running", o.c.attempts == job["attempts"])


def _finish(service: Callboard, job: dict[str, Any], event: Event | None) -> None:
    """Mark the job done and deliver its result, in one transaction."""
    now = to_db_time(service.env.now())
    with service.db.write() as conn:
        _lock_execution(service, conn, job)
        mine = conn.execute(
            update(t.outbox).where(_ours(job)).values(status="done", date_updated=now)
        )
        if mine.rowcount == 0:
            log.warning("outbox job %s was taken over by another worker", job["id"])
            return
        _deliver(service, conn, job, event)
    service.wakeup.set()


def _retry(service: Callboard, job: dict[str, Any], error: str) -> None:
    now = service.env.now()
    later = to_db_time(now + timedelta(seconds=backoff_seconds(job["attempts"])))
    with service.db.write() as conn:
        conn.execute(
            update(t.outbox)
            .where(_ours(job))
            .values(
                status="pending", available_at=later, last_error=error, date_updated=to_db_time(now)
            )
        )


def _give_up(service: Callboard, job: dict[str, Any], error: str) -> None:
    """The job failed for good: mark it and give the widget its failure event."""
    now = to_db_time(service.env.now())
    with service.db.write() as conn:
        _lock_execution(service, conn, job)
        mine = conn.execute(
            update(t.outbox)
            .where(_ours(job))
            .values(status="failed", last_error=error, date_updated=now)
        )
        if mine.rowcount == 0:
            return
        event: Event = (
            EffectResult(job["token"], False, {"error": error})
            if job.get("token")
            else EndExecution("failed")
        )
        _deliver(service, conn, job, event)
    service.wakeup.set()


def _lock_execution(service: Callboard, conn: Connection, job: dict[str, Any]) -> None:
    """PostgreSQL: lock the job's execution first — the same order (execution, then its
    rows) as event delivery and retention, so they cannot deadlock."""
    if job.get("execution_sid") and service.db.for_update():
        conn.execute(
            select(t.executions.c.sid)
            .where(t.executions.c.sid == job["execution_sid"])
            .with_for_update()
        )


def _deliver(
    service: Callboard, conn: Connection, job: dict[str, Any], event: Event | None
) -> None:
    if event is None or not job.get("execution_sid"):
        return
    exists = conn.execute(
        select(t.executions.c.sid).where(t.executions.c.sid == job["execution_sid"])
    ).first()
    if exists is not None:
        service._deliver_in(conn, job["execution_sid"], event)


class Worker:
    """The background thread. ``start()`` once; ``stop()`` waits for it to finish.

    ``retention`` (a :class:`~callboard.runtime.retention.RetentionPolicy`) also starts
    the retention job (its own thread, every ``retention_interval`` seconds)."""

    def __init__(
        self,
        service: Callboard,
        poll: float = POLL_SECONDS,
        *,
        retention: RetentionPolicy | None = None,
        retention_interval: float = 3600.0,
        timer_observer: Observer | None = None,
    ) -> None:
        self.service = service
        self.poll = poll
        self.timer_observer = timer_observer  # sees every fired timer (benchmarks)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._retention = (
            RetentionJob(service, retention, interval=retention_interval)
            if retention is not None
            else None
        )

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="callboard-worker", daemon=True)
        self._thread.start()
        if self._retention is not None:
            self._retention.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self.service.wakeup.set()
        if self._retention is not None:
            self._retention.stop(timeout)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_once(self, client: httpx.Client | None = None) -> int:
        """One pass: due timers, then the outbox until it is empty. Returns the work done."""
        done = 0
        while True:  # a burst of due timers: keep firing before anything else
            n = fire_due_timers(self.service, observer=self.timer_observer)
            done += n
            if n == 0 or self._stop.is_set():
                break
        while True:
            n = run_outbox(self.service, client=client)
            done += n
            if n == 0 or self._stop.is_set():
                break
        return done

    def _loop(self) -> None:
        last_checkpoint = time.monotonic()
        with egress_client(follow_redirects=True) as client:
            while not self._stop.is_set():
                self.service.wakeup.clear()
                wait = self.poll
                try:
                    self.run_once(client)
                    if time.monotonic() - last_checkpoint > CHECKPOINT_SECONDS:
                        last_checkpoint = time.monotonic()
                        self.service.db.checkpoint()
                    wait = min(self.poll, sleep_seconds(self.service))
                except Exception:  # keep the loop alive (database restarting...); logged
                    log.exception("worker pass failed")
                    wait = 1.0
                self.service.wakeup.wait(wait)
