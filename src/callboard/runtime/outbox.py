"""The outbox: network work the runner wrote as rows, performed by the worker.

Jobs are claimed with a *lease*: ``status='running'`` and ``available_at`` = now +
:data:`LEASE_SECONDS` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL). The job is performed
outside any transaction; its result is delivered to the execution and the job marked
``done`` in one transaction — only if the lease is still ours (``attempts`` unchanged),
so a job taken over by another worker is never finished twice. A job left ``running``
by a crash becomes claimable again when its lease expires. Before a send whose outcome
is unknown is performed again, the provider is asked whether it went out
(:func:`reconcile`: a message or call found there is recorded as sent, not sent twice);
other jobs are at least once (the HTTP request may be sent again; a repeated result is
stale and ignored). A job that raises is
retried with exponential back-off (the shared leased queue, :mod:`callboard.store.queue`,
with this module's :data:`POLICY`); after
:data:`MAX_ATTEMPTS` it is ``failed`` and the widget gets its failure event
(``EffectResult(ok=False)``), so an execution never waits for ever on a job.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import Connection

from callboard.contract.io import (
    EffectResult,
    EndExecution,
    Event,
    HttpRequest,
    Respond,
    SendMessage,
    effect_from_json,
)
from callboard.runtime.executor import Executor
from callboard.runtime.http_requests import http_result
from callboard.runtime.performer import (
    ConversationEffect,
    VoiceEffect,
    message_sid_prefix,
    perform_effect,
)
from callboard.runtime.ports import HttpClientFactory, OutboxHandler, OutboxReconciler
from callboard.runtime.providers import MessageProvider, OutboundMessage
from callboard.store.executions import load_for_run
from callboard.store.outbox import any_due, claim_jobs, settle_job
from callboard.store.queue import QueuePolicy
from callboard.store.values import loads, to_db_time

__all__ = [
    "LEASE_SECONDS",
    "MAX_ATTEMPTS",
    "POLICY",
    "Outbox",
    "TransientJobError",
    "WorkerPorts",
    "perform_job",
    "reconcile",
    "release_jobs",
    "run_outbox",
]

log = logging.getLogger("callboard.worker")

LEASE_SECONDS = 60.0  # a claimed job not finished by then is taken over (crash recovery)
MAX_ATTEMPTS = 5  # then the job fails and the widget takes its failure event
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 300.0
POLICY = QueuePolicy(LEASE_SECONDS, BACKOFF_BASE_SECONDS, BACKOFF_MAX_SECONDS, MAX_ATTEMPTS)


class TransientJobError(Exception):
    """Raised by a provider or outbox handler for a failure worth retrying (network
    down, 5xx from the provider): the job is retried with back-off."""


class Outbox:
    """The outbox: jobs the runner wrote (network work), performed by the worker
    outside any transaction, their results delivered back through the
    :class:`~callboard.runtime.executor.Executor`. ``handlers`` perform the job kinds
    the channels own (``place_call``...); HTTP requests and message sends are built in,
    the requests sent with clients made by ``http_client`` (default: a plain client; the
    composition root gives the egress-checked one)."""

    def __init__(
        self,
        executor: Executor,
        provider: MessageProvider,
        handlers: dict[str, OutboxHandler] | None = None,
        http_client: HttpClientFactory | None = None,
        *,
        reconcilers: dict[str, OutboxReconciler] | None = None,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.executor = executor
        self.provider = provider
        self.handlers: dict[str, OutboxHandler] = dict(handlers or {})
        self.http_client: HttpClientFactory = http_client or _plain_client
        # job kind → how to ask the provider whether an interrupted attempt went out
        self.reconcilers: dict[str, OutboxReconciler] = dict(reconcilers or {})
        self.policy = replace(POLICY, lease_seconds=lease_seconds)

    def run(
        self,
        limit: int = 16,
        client: httpx.Client | None = None,
        stop: threading.Event | None = None,
    ) -> int:
        """Perform pending outbox jobs and feed their results back. Returns how many ran.
        ``stop`` set meanwhile: the jobs claimed but not started yet are released."""
        return run_outbox(self, limit, client, stop)


def _plain_client() -> httpx.Client:
    return httpx.Client(follow_redirects=True)


def perform_job(outbox: Outbox, job: dict[str, Any], client: httpx.Client | None) -> Event | None:
    """Do one job (no database transaction open) and return the event that carries its result."""
    custom = outbox.handlers.get(job["kind"])
    if custom is not None:
        return custom(job)
    payload = loads(job["payload"]) or {}
    meta = payload.pop("_meta", {}) or {}
    return perform_effect(effect_from_json(payload), WorkerPorts(outbox, job, meta, client))


class WorkerPorts:
    """The worker's :class:`~callboard.runtime.performer.EffectPorts` for one job: the
    job's effect is performed now, outside any transaction (network provider, HTTP)."""

    def __init__(
        self,
        outbox: Outbox,
        job: dict[str, Any],
        meta: dict[str, Any],
        client: httpx.Client | None,
    ) -> None:
        self.outbox = outbox
        self.job = job
        self.meta = meta
        self.client = client

    def send_message(self, effect: SendMessage) -> Event | None:
        env = self.outbox.executor.env
        message = OutboundMessage(
            account_sid=self.job.get("account_sid", ""),
            flow_sid=self.job.get("flow_sid", ""),
            execution_sid=self.job["execution_sid"],
            effect=effect,
            sid=str(self.meta.get("sid") or env.sid(message_sid_prefix(effect))),
            now=env.now(),
        )
        try:
            return self.outbox.provider.send(message)
        except TransientJobError:
            raise
        except Exception as exc:  # provider failure: the widget takes its failure event
            return EffectResult(effect.token, False, {"error": f"{type(exc).__name__}: {exc}"})

    def http_request(self, effect: HttpRequest) -> Event | None:
        return http_result(effect, client=self.client)

    def set_timer(self, token: str, due: datetime | None) -> None:
        self.unhandled()

    def respond(self, effect: Respond) -> Event | None:
        return self.unhandled()

    def voice(self, effect: VoiceEffect) -> Event | None:
        return self.unhandled()

    def conversation(self, effect: ConversationEffect) -> Event | None:
        return self.unhandled()

    def unhandled(self) -> Event:
        """A job kind no handler performs: its execution ends (failed)."""
        job = self.job
        log.warning(
            "no handler for outbox job %s (%s); ending its execution", job["id"], job["kind"]
        )
        return EndExecution("failed")


def run_outbox(
    outbox: Outbox,
    limit: int = 16,
    client: httpx.Client | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Claim up to ``limit`` due jobs (pending, retry due, or running with an expired
    lease), perform them and feed their results back. Returns how many were claimed.
    When ``stop`` is set (SIGTERM: the process drains), the job in progress finishes and
    the other claimed ones are released at once, not left to their lease."""
    service = outbox.executor
    db = service.db
    now_aware = service.env.now()
    now = to_db_time(now_aware)
    with db.read() as conn:  # cheap check first: no write lock when there is nothing
        if not any_due(conn, now):
            return 0
    lease_until = to_db_time(outbox.policy.lease_until(now_aware))
    with db.write() as conn:
        # Several workers may share a PostgreSQL database: SKIP LOCKED hands each job to
        # one of them (SQLite has one writer at a time anyway).
        jobs = claim_jobs(conn, now, lease_until, limit, skip_locked=db.for_update())
    if not jobs:
        return 0
    own_client = client is None
    http = client or outbox.http_client()
    try:
        for n, job in enumerate(jobs):
            if stop is not None and stop.is_set():
                release_jobs(service, jobs[n:])
                break
            if job["attempts"] > MAX_ATTEMPTS:  # crashed too often while running it
                _give_up(service, job, job.get("last_error") or "the job was interrupted")
                continue
            try:
                found = reconcile(outbox, job)
            except Exception as exc:  # the provider cannot tell: ask again later
                _still_unsure(service, job, f"{type(exc).__name__}: {exc}")
                continue
            if found is not None:  # the interrupted attempt went out: not again
                _finish(service, job, found)
                continue
            try:
                event = perform_job(outbox, job, http)
            except Exception as exc:
                if not isinstance(exc, TransientJobError):
                    log.exception("outbox job %s (%s) failed", job["id"], job["kind"])
                error = f"{type(exc).__name__}: {exc}"
                if POLICY.out_of_attempts(job["attempts"]):
                    _give_up(service, job, error)
                else:
                    _retry(service, job, error)
                continue
            _finish(service, job, event)
    finally:
        if own_client:
            http.close()
    return len(jobs)


def reconcile(outbox: Outbox, job: dict[str, Any]) -> Event | None:
    """A job whose previous attempt was interrupted (claimed while ``running``: its
    lease ran out, the process that held it died) may have reached the provider before
    the crash. Ask the provider (the job kind's reconciler): its result event when the
    attempt went out, None when it did not — or when the job was not interrupted, or
    its kind cannot be looked up (then it is performed again: at least once). Raises
    when the provider cannot tell (the job is retried later, never sent blind)."""
    since = job.get("interrupted_at")
    finder = outbox.reconcilers.get(job["kind"])
    if since is None or finder is None:
        return None
    found = finder(job, since)
    if found is not None:
        log.warning(
            "outbox job %s (%s): the interrupted attempt had reached the provider; "
            "recorded as done, not sent again",
            job["id"],
            job["kind"],
        )
    return found


def _finish(service: Executor, job: dict[str, Any], event: Event | None) -> None:
    """Mark the job done and feed its result back, in one transaction."""
    now = to_db_time(service.env.now())
    with service.db.write() as conn:
        _lock_execution(service, conn, job)
        if not settle_job(conn, job, {"status": "done", "date_updated": now}):
            log.warning("outbox job %s was taken over by another worker", job["id"])
            return
        _feed_back(service, conn, job, event)
    service.wakeup.set()


def release_jobs(service: Executor, jobs: list[dict[str, Any]]) -> None:
    """Give claimed jobs back, untried: due now, the attempt not counted (a process
    stopping releases its leases rather than leaving them to run out)."""
    now = to_db_time(service.env.now())
    with service.db.write() as conn:
        for job in jobs:
            values = {"status": "pending", "available_at": now, "attempts": job["attempts"] - 1}
            settle_job(conn, job, values)
    log.info("released %d outbox job(s) on stop", len(jobs))


def _still_unsure(service: Executor, job: dict[str, Any], error: str) -> None:
    """The reconciliation could not ask the provider: the job stays ``running`` (its
    outcome still unknown), due again after a back-off, with the interrupted attempt's
    start kept as its ``date_updated`` — so the next claim asks again about the same
    window, and never sends it blind."""
    now = service.env.now()
    values = {
        "available_at": to_db_time(POLICY.retry_at(now, job["attempts"])),
        "date_updated": job["interrupted_at"],
        "last_error": error,
    }
    with service.db.write() as conn:
        settle_job(conn, job, values)
    log.warning("outbox job %s: cannot reconcile it yet (%s); retried later", job["id"], error)


def _retry(service: Executor, job: dict[str, Any], error: str) -> None:
    now = service.env.now()
    later = to_db_time(POLICY.retry_at(now, job["attempts"]))
    with service.db.write() as conn:
        values = {
            "status": "pending",
            "available_at": later,
            "last_error": error,
            "date_updated": to_db_time(now),
        }
        settle_job(conn, job, values)


def _give_up(service: Executor, job: dict[str, Any], error: str) -> None:
    """The job failed for good: mark it and give the widget its failure event."""
    now = to_db_time(service.env.now())
    with service.db.write() as conn:
        _lock_execution(service, conn, job)
        values = {"status": "failed", "last_error": error, "date_updated": now}
        if not settle_job(conn, job, values):
            return
        event: Event = (
            EffectResult(job["token"], False, {"error": error})
            if job.get("token")
            else EndExecution("failed")
        )
        _feed_back(service, conn, job, event)
    service.wakeup.set()


def _lock_execution(service: Executor, conn: Connection, job: dict[str, Any]) -> None:
    """PostgreSQL: lock the job's execution first — the same order (execution, then its
    rows) as a run and retention, so they cannot deadlock."""
    if job.get("execution_sid") and service.db.for_update():
        load_for_run(conn, job["execution_sid"], lock=True)


def _feed_back(
    service: Executor, conn: Connection, job: dict[str, Any], event: Event | None
) -> None:
    if event is None or not job.get("execution_sid"):
        return
    if load_for_run(conn, job["execution_sid"], lock=False) is not None:
        service.run_event_in(conn, job["execution_sid"], event)
