"""The background worker: durable timers, outbox jobs, retention, SQLite checkpoints.

One thread per :class:`Worker` (``callboard serve`` starts one; ``callboard worker``
runs one without HTTP). Several may share one PostgreSQL database.

* **timers** — :func:`callboard.runtime.timers.fire_due_timers` each pass; the loop
  sleeps until the next due timer (at most ``poll``: 200 ms; on PostgreSQL, where every
  process's runs wake it through LISTEN/NOTIFY, :mod:`callboard.store.notify`, 2 s),
  and a run that starts a nearer timer wakes it at once.
* **outbox** — :class:`callboard.runtime.outbox.Outbox` (leased jobs: HTTP requests,
  network message sends, outbound calls), until it is empty.
* **retention** — :class:`callboard.runtime.retention.RetentionJob`, its own thread.
* **SQLite checkpoints** — every few seconds, off the request path.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

import httpx

from callboard.runtime.executor import Executor
from callboard.runtime.outbox import Outbox
from callboard.runtime.retention import RetentionJob, RetentionPolicy
from callboard.runtime.timers import Observer, fire_due_timers, sleep_seconds

__all__ = ["POLL_SECONDS", "Worker", "WorkerHost"]

log = logging.getLogger("callboard.worker")

POLL_SECONDS = 0.2
CHECKPOINT_SECONDS = 5.0


class WorkerHost(Protocol):
    """What the worker runs over (:class:`~callboard.runtime.service.Callboard` is one)."""

    @property
    def executor(self) -> Executor: ...

    @property
    def outbox(self) -> Outbox: ...


class Worker:
    """The background thread. ``start()`` once; ``stop()`` waits for it to finish.

    ``retention`` (a :class:`~callboard.runtime.retention.RetentionPolicy`) also starts
    the retention job (its own thread, every ``retention_interval`` seconds)."""

    def __init__(
        self,
        service: WorkerHost,
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
            RetentionJob(service.executor, retention, interval=retention_interval)
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
        self.service.executor.wakeup.set()
        if self._retention is not None:
            self._retention.stop(timeout)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_once(self, client: httpx.Client | None = None) -> int:
        """One pass: due timers, then the outbox until it is empty. Returns the work done."""
        done = 0
        while True:  # a burst of due timers: keep firing before anything else
            n = fire_due_timers(self.service.executor, observer=self.timer_observer)
            done += n
            if n == 0 or self._stop.is_set():
                break
        while True:
            n = self.service.outbox.run(client=client, stop=self._stop)
            done += n
            if n == 0 or self._stop.is_set():
                break
        return done

    def _loop(self) -> None:
        last_checkpoint = time.monotonic()
        with self.service.outbox.http_client() as client:
            while not self._stop.is_set():
                self.service.executor.wakeup.clear()
                wait = self.poll
                try:
                    self.run_once(client)
                    if time.monotonic() - last_checkpoint > CHECKPOINT_SECONDS:
                        last_checkpoint = time.monotonic()
                        self.service.executor.db.checkpoint()
                    wait = sleep_seconds(self.service.executor, longest=self.poll)
                except Exception:  # keep the loop alive (database restarting...); logged
                    log.exception("worker pass failed")
                    wait = 1.0
                self.service.executor.wakeup.wait(wait)
