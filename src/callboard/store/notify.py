"""Waking every process sharing a PostgreSQL database on a write: LISTEN/NOTIFY.

A transaction that runs an execution (new steps, outbox jobs, timers due soon) calls
:func:`notify_run` before it commits: ``pg_notify('callboard', '<FlowSid> [work]')``.
PostgreSQL delivers it — only if the transaction commits, and only then — to every
connection that listens, in every process, this one included. Each process has one
:class:`Listener`: a thread on a connection of its own that hands each payload to its
subscribers (the worker's wake-up, Event Streams delivery's, the live event streams of
the API: :mod:`callboard.api.live`). So a worker sleeps on its slow fallback poll until
another process writes work for it, and an SSE client on server A sees the steps
server B just committed at once.

Why LISTEN/NOTIFY and not Redis: the database that holds the work is the one that
announces it, in the same transaction (no announcement of a write that rolled back,
none lost between commit and publish), and a deployment needs nothing beside
PostgreSQL. A notification can still be missed (the listener reconnecting): the
processes keep a slow poll as the fallback. SQLite has one process writing: nothing
to announce (:func:`notify_run` does nothing there).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

__all__ = [
    "CHANNEL",
    "FALLBACK_POLL_SECONDS",
    "WORK",
    "WORK_HORIZON_SECONDS",
    "Listener",
    "notify_run",
    "parse",
]

log = logging.getLogger("callboard.notify")

CHANNEL = "callboard"
WORK = "work"  # the payload's flag: outbox jobs or a timer due soon were written
RECONNECT_SECONDS = 1.0
# With a listener, the processes poll this seldom (the fallback); a run that writes a
# timer due sooner than this (plus a margin) flags it as work, so nobody oversleeps it.
FALLBACK_POLL_SECONDS = 2.0
WORK_HORIZON_SECONDS = FALLBACK_POLL_SECONDS + 0.5

_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', :payload)")


def notify_run(conn: Connection, flow_sid: str, *, work: bool) -> None:
    """In a write transaction on PostgreSQL: announce, at commit, that an execution of
    ``flow_sid`` changed (``work``: and that it left work for a worker)."""
    if conn.dialect.name != "postgresql":
        return
    conn.execute(_NOTIFY, {"payload": f"{flow_sid} {WORK}" if work else flow_sid})


def parse(payload: str) -> tuple[str, bool]:
    """``(flow_sid, work)`` of a payload :func:`notify_run` sent."""
    flow_sid, _, flag = payload.partition(" ")
    return flow_sid, flag == WORK


Subscriber = Callable[[str], None]


class Listener:
    """LISTEN on a connection of its own, in a thread: each payload goes to every
    subscriber (called on the listener's thread: they must be quick). ``connected``
    tells whether notifications are arriving now (else the processes rely on polling).
    A broken connection is made again after :data:`RECONNECT_SECONDS`; every subscriber
    is then called with ``""`` (anything may have been missed meanwhile)."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        self.subscribers: list[Subscriber] = []
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def subscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.append(subscriber)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="callboard-listen", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.connected.clear()

    def _deliver(self, payload: str) -> None:
        for subscriber in self.subscribers:
            try:
                subscriber(payload)
            except Exception:  # one subscriber's failure never silences the others
                log.exception("notification subscriber failed")

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.connected.set()
                    self._deliver("")  # (re)connected: whatever was missed, look again
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5, stop_after=256):
                            self._deliver(note.payload)
            except Exception as exc:
                if not self._stop.is_set():
                    log.warning("listening for notifications failed (%s); polling meanwhile", exc)
            self.connected.clear()
            self._stop.wait(RECONNECT_SECONDS)
