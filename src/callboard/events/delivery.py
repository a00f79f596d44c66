"""Event delivery: fan-out, claiming, sending, retries with back-off, giving up.

One :class:`EventDelivery` runs in ``callboard serve`` and in ``callboard worker``
(:meth:`start` / :meth:`stop`); several processes can share a database:

1. **fan-out** — undispatched ``events`` rows become one ``event_deliveries`` row per
   (event, sink) whose subscriptions name the event's type in the event's account;
   the events are marked ``dispatched`` in the same transaction.
2. **claim** — due pending deliveries (``next_attempt_at <= now``) are claimed by moving
   ``next_attempt_at`` forward by a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL;
   SQLite's write lock serialises claimers). A process that dies mid-send leaves rows
   that become due again when the lease ends: at-least-once.
3. **send** — one task per sink on a bounded thread pool (sinks already in flight are
   not claimed again, so a slow sink never holds more than one task; one account's
   sinks hold at most its share of the pool, and a sink in back-off is not claimed
   even for new events: :mod:`callboard.events.fairness`). A failed send
   stops that sink's task and pushes its other due deliveries back with it (circuit
   breaker), so a dead sink costs one request per back-off period, not one per event.
4. **results** — delivered rows are deleted (the sink becomes ``active`` again if it
   was ``initialized`` or ``failed``); failed ones get ``attempts + 1`` and a retry time
   ``base · 2^(attempts-1)`` capped at ``max_backoff``, with jitter (half fixed, half
   random). A delivery older than ``max_retry_seconds`` (``CALLBOARD_EVENTS_MAX_RETRY_SECONDS``,
   default 4 h) whose attempt fails is marked ``failed`` together with the sink's other
   expired ones, and the sink's ``status`` becomes ``failed`` (visible in the Events API
   and ``GET /callboard/v1/Sinks/{Sid}/Failures``).

Memory is bounded by the claim size; nothing is queued in memory between passes.
Executions never wait for any of this: recording is one INSERT in their transaction.
The clock and the random source are injectable (tests run back-off without waiting).

Steps 1, 2 and 4 (the ``event_deliveries`` queue) are in
:mod:`callboard.events.delivery_queue`; this module sends (step 3) and runs the loop.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from callboard.events.delivery_queue import Claimed, Clock, DeliveryQueue
from callboard.events.fairness import SinkFairness
from callboard.events.recording import wakeup
from callboard.events.settings import DeliveryConfig
from callboard.events.sinks import DeliveryError, Sender, make_sender
from callboard.store.db import Database
from callboard.store.event_sinks import existing_sinks, sink_sender

__all__ = ["DeliveryConfig", "EventDelivery"]

log = logging.getLogger("callboard.events")


@dataclass(slots=True)
class _SinkInfo:
    sid: str
    sink_type: str
    configuration: str
    auth_token: str


class EventDelivery:
    """The delivery engine over ``db``. :meth:`run_once` for tests; :meth:`start` for
    the background loop. Sinks are reached with ``client``, or one made by
    ``client_factory`` from the pool limits (the composition root gives the
    egress-checked one, :func:`callboard.runtime.egress.egress_client`)."""

    def __init__(
        self,
        db: Database,
        *,
        config: DeliveryConfig | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        client: httpx.Client | None = None,
        client_factory: Callable[[httpx.Limits], httpx.Client] | None = None,
        sender_factory: Callable[[str, dict[str, Any], str, httpx.Client], Sender] = make_sender,
    ) -> None:
        self.db = db
        self.config = config or DeliveryConfig()
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self.rng = rng or random.Random()
        self.queue = DeliveryQueue(db, self.config, self.clock, self.rng)
        self.fan_out = self.queue.fan_out  # the queue's steps, for tests and benchmarks
        self.claim = self.queue.claim
        self.prune = self.queue.prune
        limits = httpx.Limits(
            max_connections=self.config.concurrency * 2,
            max_keepalive_connections=self.config.concurrency * 2,
        )
        self._own_client = client is None
        make = client_factory or (lambda pool: httpx.Client(limits=pool))
        self.client = client or make(limits)
        self.sender_factory = sender_factory
        self._senders: dict[str, tuple[str, Sender]] = {}
        self._senders_lock = threading.Lock()
        self._inflight: dict[str, Future[None]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._last_prune = 0.0
        self.fairness = SinkFairness(self.db, self.config.per_account_concurrency())

    # ------------------------------------------------------------------ sending
    def _sink_info(self, sink_sid: str) -> _SinkInfo | None:
        with self.db.read() as conn:
            row = sink_sender(conn, sink_sid)
        if row is None:
            return None
        return _SinkInfo(row.sid, row.sink_type, row.configuration, row.auth_token)

    def _sender(self, info: _SinkInfo) -> Sender:
        import json

        key = f"{info.sink_type}\n{info.configuration}\n{info.auth_token}"
        with self._senders_lock:
            cached = self._senders.get(info.sid)
            if cached is not None and cached[0] == key:
                return cached[1]
            if cached is not None:
                cached[1].close()
            sender = self.sender_factory(
                info.sink_type, json.loads(info.configuration), info.auth_token, self.client
            )
            self._senders[info.sid] = (key, sender)
            return sender

    def deliver_sink(self, sink_sid: str, claimed: list[Claimed]) -> tuple[int, int]:
        """Send one sink's claimed deliveries; returns ``(delivered, failed attempts)``."""
        info = self._sink_info(sink_sid)
        if info is None:  # deleted meanwhile (its deliveries went with it)
            with self._senders_lock:
                gone = self._senders.pop(sink_sid, None)
            if gone is not None:
                gone[1].close()
            return 0, 0
        try:
            sender = self._sender(info)
        except Exception as exc:
            self.queue.record_failure(sink_sid, claimed, [], f"{type(exc).__name__}: {exc}", None)
            return 0, len(claimed)
        done: list[int] = []
        size = max(1, sender.batch)
        for start in range(0, len(claimed), size):
            chunk = claimed[start : start + size]
            try:
                sender.send([c.payload for c in chunk])
            except DeliveryError as exc:
                self.queue.record_success(sink_sid, done)
                self.queue.record_failure(
                    sink_sid, chunk, claimed[start + size :], str(exc), exc.status_code
                )
                return len(done), len(chunk)
            except Exception as exc:  # a sender bug must not kill the loop
                log.exception("sending to sink %s failed", sink_sid)
                self.queue.record_success(sink_sid, done)
                self.queue.record_failure(
                    sink_sid, chunk, claimed[start + size :], f"{type(exc).__name__}: {exc}", None
                )
                return len(done), len(chunk)
            done.extend(c.id for c in chunk)
        self.queue.record_success(sink_sid, done)
        return len(done), 0

    def _drop_stale_senders(self) -> None:
        """Close the cached senders (Redis connections) of deleted sinks."""
        with self._senders_lock:
            cached = list(self._senders)
        if not cached:
            return
        with self.db.read() as conn:
            alive = existing_sinks(conn, cached)
        with self._senders_lock:
            for sid in cached:
                if sid not in alive and sid in self._senders:
                    self._senders.pop(sid)[1].close()

    # ------------------------------------------------------------------ running
    def run_once(self) -> int:
        """Fan out, then claim and send until nothing is due (synchronously). Returns
        the number of deliveries attempted."""
        while self.fan_out() >= self.config.fanout_limit:
            pass
        total = 0
        while True:
            groups = self.claim()
            if not groups:
                return total
            for sink_sid, claimed in groups.items():
                ok, failed = self.deliver_sink(sink_sid, claimed)
                total += ok + failed

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._pool = ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="cb-events")
        self._thread = threading.Thread(target=self._loop, name="callboard-events", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        with self._senders_lock:
            for _, sender in self._senders.values():
                sender.close()
            self._senders.clear()
        if self._own_client:
            self.client.close()

    def _task(self, sink_sid: str, claimed: list[Claimed]) -> None:
        try:
            _, failed = self.deliver_sink(sink_sid, claimed)
            self.fairness.attempted(sink_sid, failed > 0)
        except Exception:
            log.exception("delivery to sink %s failed", sink_sid)
        finally:
            wakeup.set()  # the loop may claim this sink again

    def _pass(self) -> bool:
        """One round; True when it found a full batch (more work is likely waiting)."""
        busy = False
        while self.fan_out() >= self.config.fanout_limit and not self._stop.is_set():
            busy = True
        for sid, fut in list(self._inflight.items()):
            if fut.done():
                del self._inflight[sid]
        free = self.config.concurrency - len(self._inflight)
        if free <= 0 or self._pool is None:
            return busy
        exclude = set(self._inflight) | self.fairness.excluded(self.queue.now(), self._inflight)
        groups = self.claim(exclude=exclude)
        busy = busy or any(len(g) >= self.config.per_sink_limit for g in groups.values())
        extra: list[int] = []
        for sink_sid, claimed in groups.items():
            if free <= 0 or not self.fairness.admit(sink_sid, self._inflight):
                extra.extend(c.id for c in claimed)
                continue
            self._inflight[sink_sid] = self._pool.submit(self._task, sink_sid, claimed)
            free -= 1
        if extra:  # more sinks than free workers: release them for the next pass
            self.queue.release(extra)
        if time.monotonic() - self._last_prune > self.config.prune_every_seconds:
            self._last_prune = time.monotonic()
            self.prune()
            self._drop_stale_senders()
        return busy

    def _loop(self) -> None:
        while not self._stop.is_set():
            wakeup.clear()
            began = time.monotonic()
            busy = False
            try:
                if not self._inflight and not self.queue.has_subscriptions():
                    # Nothing can be delivered: no pass per recorded event (events are
                    # still marked dispatched, in large batches, every poll_seconds;
                    # a new subscription only gets events recorded after it).
                    while self.fan_out() >= self.config.fanout_limit:
                        if self._stop.is_set():
                            break
                    if time.monotonic() - self._last_prune > self.config.prune_every_seconds:
                        self._last_prune = time.monotonic()
                        self.prune()
                    self._stop.wait(self.config.poll_seconds)
                    continue
                busy = self._pass()
            except Exception:
                log.exception("event delivery pass failed")
            # Coalesce: unless a backlog is being worked through, at most one pass per
            # min_interval, so that one pass carries many executions' events.
            rest = self.config.min_interval - (time.monotonic() - began)
            if rest > 0 and not busy:
                self._stop.wait(rest)
            wakeup.wait(self.config.poll_seconds)
