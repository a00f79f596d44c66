"""One unit of work: reads, then the writes they decided, applied in one transaction.

A run of the engine reads (the execution, its flow's revision) and then writes (the new
state, the steps, the events...). :class:`Writes` holds those writes:

* **eager** (``Writes(conn)``): each write is done at once on the caller's write
  transaction — the caller holds the locks it needs (PostgreSQL's ``SELECT … FOR
  UPDATE``, or SQLite's one writer), so nothing it read can change under it;
* **deferred** (``Writes()``): the writes are kept and :meth:`Writes.apply`'d later, in
  a write transaction of their own. The reads were made on a read snapshot, holding no
  lock: on SQLite, whose one writer at a time serialises every process sharing the file,
  the engine's work then runs in parallel in each process, and the writer's lock is held
  only for the INSERTs and UPDATEs.

A deferred unit is optimistic: a write that finds the snapshot outdated raises —
an execution row whose ``version`` moved on (:class:`~callboard.store.executions.StaleExecution`),
a unique index another transaction filled meanwhile (``IntegrityError``: a twin webhook,
a new execution in the same To/From slot) — and :func:`transact` computes the unit
again on a newer snapshot. Group commit makes a failed writer wait for its batch's
COMMIT, so the next snapshot sees the winner.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from callboard.store.db import Database
from callboard.store.executions import StaleExecution
from callboard.store.suspend import offload

__all__ = [
    "RACE_RETRIES",
    "SNAPSHOT_TRIES",
    "Write",
    "Writes",
    "lost_deadlock",
    "retryable",
    "transact",
]

T = TypeVar("T")
Write = Callable[[Connection], object]

RACE_RETRIES = 8
SNAPSHOT_TRIES = 3
"""After that many lost races on snapshots, a unit runs inside the writer's lock (a
burst for one execution cannot starve a message)."""


class Writes:
    """The writes of a unit of work: done at once on ``conn`` (eager), or kept for
    :meth:`apply` (deferred, ``conn`` None)."""

    __slots__ = ("_conn", "_kept")

    def __init__(self, conn: Connection | None = None) -> None:
        self._conn = conn
        self._kept: list[Write] = []

    @property
    def deferred(self) -> bool:
        return self._conn is None

    def __bool__(self) -> bool:
        """Whether writes are kept for :meth:`apply`."""
        return bool(self._kept)

    def add(self, write: Write) -> None:
        if self._conn is not None:
            write(self._conn)
        else:
            self._kept.append(write)

    def apply(self, conn: Connection) -> None:
        """Do the kept writes, in order, on ``conn`` (a write transaction)."""
        for write in self._kept:
            write(conn)
        self._kept.clear()


def lost_deadlock(exc: BaseException) -> bool:
    """PostgreSQL deadlocks and serialisation failures (SQLSTATE 40P01 / 40001)."""
    return isinstance(exc, OperationalError) and getattr(exc.orig, "sqlstate", None) in (
        "40P01",
        "40001",
    )


def retryable(exc: BaseException) -> bool:
    """A lost race, computed again on a newer snapshot: a unique index filled
    meanwhile, an execution row changed meanwhile, a deadlock."""
    return isinstance(exc, IntegrityError | StaleExecution) or lost_deadlock(exc)


def transact(
    db: Database,
    work: Callable[[Connection, Writes], T],
    *,
    snapshot: bool,
    attempt: Callable[[], None] = lambda: None,
    retry: Callable[[BaseException], bool] = retryable,
) -> T:
    """Run ``work(conn, writes)`` until its writes land. With ``snapshot`` on SQLite:
    on a read snapshot, the writes deferred to a write transaction of their own;
    otherwise (PostgreSQL, whose rows are locked as they are read, or ``snapshot``
    False, or after :data:`SNAPSHOT_TRIES` lost races) in one write transaction with
    eager writes (in a thread of its own under
    :func:`~callboard.store.suspend.run_on_loop`: it holds the writer's lock while it
    runs). ``attempt`` is called before each try.
    A lost race (``retry``, by default :func:`retryable`) runs ``work`` again, at most
    :data:`RACE_RETRIES` times; other errors propagate at once."""
    last: BaseException | None = None
    for tries in range(RACE_RETRIES):
        attempt()
        try:
            if snapshot and db.is_sqlite and tries < SNAPSHOT_TRIES:
                writes = Writes()
                with db.read() as conn:
                    value = work(conn, writes)
                if writes:
                    db.apply(writes.apply)
            else:
                value = offload(lambda: _locked(db, work))
            return value
        except Exception as exc:
            if not retry(exc):
                raise
            last = exc
    assert last is not None
    raise last


def _locked(db: Database, work: Callable[[Connection, Writes], T]) -> T:
    with db.write() as conn:
        return work(conn, Writes(conn))
