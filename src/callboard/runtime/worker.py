"""The background worker: performs outbox jobs and fires due timers.

A minimal in-process loop (one thread, started by ``callboard serve``):

* **outbox**: jobs written by event delivery (HTTP requests, network message sends,
  outbound calls) are claimed (``pending`` → ``running``), performed *outside* any
  transaction, then their result is delivered to the execution as a new event and the
  job marked ``done`` in that same transaction;
* **timers**: every ~200 ms, timers whose ``due_at`` has passed are fired
  (:meth:`Callboard.fire_due_timers`);
* **SQLite checkpoints**: every few seconds, off the request path.

The loop sleeps on ``service.wakeup`` so work committed by a request starts at once.
Issue 5 hardens this (several workers, retries with back-off, crash recovery of
``running`` jobs); the interface stays: :class:`Worker` ``start()`` / ``stop()``, and
:func:`run_outbox` for tests.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import select, update

from callboard.engine.io import (
    EffectResult,
    EndExecution,
    Event,
    HttpRequest,
    SendMessage,
    effect_from_json,
)
from callboard.runtime.local import http_result
from callboard.runtime.providers import OutboundMessage
from callboard.runtime.rows import loads, to_db_time
from callboard.store import tables as t

if TYPE_CHECKING:
    from callboard.runtime.service import Callboard

__all__ = ["POLL_SECONDS", "Worker", "perform_job", "run_outbox"]

log = logging.getLogger("callboard.worker")

POLL_SECONDS = 0.2
CHECKPOINT_SECONDS = 5.0


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
        except Exception as exc:  # provider failure: the widget takes its failure event
            return EffectResult(effect.token, False, {"error": f"{type(exc).__name__}: {exc}"})
    log.warning("no handler for outbox job %s (%s); ending its execution", job["id"], kind)
    return EndExecution("failed")


def run_outbox(service: Callboard, limit: int = 16, client: httpx.Client | None = None) -> int:
    """Claim up to ``limit`` pending jobs, perform them and deliver their results."""
    db = service.db
    now = to_db_time(service.env.now())
    o, e = t.outbox, t.executions
    with db.read() as conn:  # cheap check first: no write lock when there is nothing
        pending = conn.execute(
            select(o.c.id).where(o.c.status == "pending", o.c.available_at <= now).limit(1)
        ).first()
    if pending is None:
        return 0
    with db.write() as conn:
        # Claim: several workers may share a PostgreSQL database; SKIP LOCKED hands each
        # job to one of them (SQLite has one writer at a time anyway).
        claim = (
            select(o.c.id)
            .where(o.c.status == "pending", o.c.available_at <= now)
            .order_by(o.c.id)
            .limit(limit)
        )
        if db.for_update():
            claim = claim.with_for_update(skip_locked=True)
        ids = list(conn.execute(claim).scalars())
        if not ids:
            return 0
        conn.execute(
            update(o)
            .where(o.c.id.in_(ids), o.c.status == "pending")
            .values(status="running", attempts=o.c.attempts + 1, date_updated=now)
        )
        rows = conn.execute(
            select(o, e.c.account_sid, e.c.flow_sid)
            .join(e, e.c.sid == o.c.execution_sid, isouter=True)
            .where(o.c.id.in_(ids))
            .order_by(o.c.id)
        ).all()
        jobs = [dict(r._mapping) for r in rows]
    own_client = client is None
    http = client or httpx.Client(follow_redirects=True)
    try:
        for job in jobs:
            try:
                event = perform_job(service, job, http)
            except Exception as exc:
                log.exception("outbox job %s failed", job["id"])
                _finish(service, job, None, f"{type(exc).__name__}: {exc}")
                continue
            _finish(service, job, event, None)
    finally:
        if own_client:
            http.close()
    return len(jobs)


def _finish(
    service: Callboard, job: dict[str, Any], event: Event | None, error: str | None
) -> None:
    """Mark the job and deliver its result, in one transaction."""
    now = to_db_time(service.env.now())
    with service.db.write() as conn:
        conn.execute(
            update(t.outbox)
            .where(t.outbox.c.id == job["id"])
            .values(status="failed" if error else "done", last_error=error, date_updated=now)
        )
        if event is not None and job.get("execution_sid"):
            exists = conn.execute(
                select(t.executions.c.sid).where(t.executions.c.sid == job["execution_sid"])
            ).first()
            if exists is not None:
                service._deliver_in(conn, job["execution_sid"], event)
    service.wakeup.set()


class Worker:
    """The background thread. ``start()`` once; ``stop()`` waits for it to finish."""

    def __init__(self, service: Callboard, poll: float = POLL_SECONDS) -> None:
        self.service = service
        self.poll = poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="callboard-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self.service.wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_once(self, client: httpx.Client | None = None) -> int:
        """One pass: due timers, then the outbox until it is empty. Returns the work done."""
        done = self.service.fire_due_timers()
        while True:
            n = run_outbox(self.service, client=client)
            done += n
            if n == 0 or self._stop.is_set():
                break
        return done

    def _loop(self) -> None:
        last_checkpoint = time.monotonic()
        with httpx.Client(follow_redirects=True) as client:
            while not self._stop.is_set():
                self.service.wakeup.clear()
                try:
                    self.run_once(client)
                    if time.monotonic() - last_checkpoint > CHECKPOINT_SECONDS:
                        last_checkpoint = time.monotonic()
                        self.service.db.checkpoint()
                except Exception:  # keep the loop alive; the error is logged
                    log.exception("worker pass failed")
                self.service.wakeup.wait(self.poll)
