"""Group commit for SQLite: many concurrent write transactions, one durable COMMIT.

With ``synchronous=FULL`` every COMMIT waits for the disk (an ``fsync`` of the WAL,
~1–2 ms here), and SQLite has one writer at a time. So concurrent writers in the process
share one open transaction (one connection, ``BEGIN IMMEDIATE``):

* each :meth:`GroupCommit.write` takes the process's write lock, joins the open batch (or
  opens one) and runs its block inside a ``SAVEPOINT``: an error in one block rolls back
  only that block's changes and is raised to that caller alone;
* after its block, the writer commits the batch itself when no other writer is waiting
  for the lock (or the batch is full, or old); otherwise it leaves the batch open for the
  waiting writer and waits for the batch's COMMIT;
* :meth:`write` returns only after the COMMIT that holds its changes (so a request is
  answered only once its writes are on disk); when that COMMIT fails, every writer of the
  batch gets the error (nothing of the batch was stored).

A writer in the batch sees the batch's earlier, not yet committed changes (as if they had
been committed just before); they commit together or not at all, and no answer is given
before the commit, so no one outside the batch can act on them early.

Writes known in advance (a unit of work computed on a read snapshot:
:mod:`callboard.runtime.unit`) are :meth:`GroupCommit.submit`'d instead: one committer
thread takes every write queued meanwhile and applies them back to back, each in its own
savepoint, as ONE writer of the batch. The writer's lock — and the file lock other
processes queue on — is then held by one thread doing SQL, not handed from thread to
thread between the writes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, RootTransaction

from callboard.store.suspend import Completion

__all__ = ["GroupCommit"]

MAX_BATCH = 64  # writers per COMMIT at most
MAX_BATCH_SECONDS = 0.02  # a batch open longer than this is committed by its next writer


class _Batch:
    __slots__ = ("conn", "done", "error", "opened", "size", "tx")

    def __init__(self, conn: Connection, tx: RootTransaction) -> None:
        self.conn = conn
        self.tx = tx
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.opened = time.monotonic()
        self.size = 0


@contextmanager
def _savepoint(conn: Connection, name: str = "cb_writer") -> Iterator[None]:
    """One writer's savepoint, sent straight to the driver (SQLAlchemy's nested
    transactions cost more than the work of a small write)."""
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        raw.execute(f"ROLLBACK TO {name}")
        raw.execute(f"RELEASE {name}")
        raise
    raw.execute(f"RELEASE {name}")


class _Submitted:
    """A write queued for the committer thread, and what became of it."""

    __slots__ = ("apply", "done", "error")

    def __init__(self, apply: Callable[[Connection], object]) -> None:
        self.apply = apply
        self.done = Completion()  # a blocking wait, or a suspension on the event loop
        self.error: BaseException | None = None


# The database files this thread is writing to (inside ``write()``), through any
# GroupCommit of this process.
_WRITING = threading.local()


class GroupCommit:
    """Batches the process's SQLite write transactions (see the module docstring)."""

    def __init__(self, connect: Callable[[], Connection], lock_file: Path | None = None) -> None:
        self._connect = connect  # a new write connection (its BEGIN is BEGIN IMMEDIATE)
        # Between processes on one database file: a kernel lock (flock) queues the
        # writers, instead of SQLite's busy handler, which sleeps and polls (1–100 ms).
        self._lock_file = lock_file
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._batch: _Batch | None = None
        self._waiting = 0  # writers blocked on the lock
        self._count_lock = threading.Lock()
        self._local = threading.local()
        self._idle: Connection | None = None  # the write connection between batches
        self._queue: deque[_Submitted] = deque()
        self._queued = threading.Condition()
        self._committer: threading.Thread | None = None
        self._closing = False

    def submit(self, apply: Callable[[Connection], object]) -> None:
        """Run ``apply(conn)`` in the committer thread's next batch, in a savepoint of
        its own; return once that batch committed. Raises what ``apply`` raised (its
        savepoint rolled back, the batch's other writes unaffected) or the COMMIT's
        error (nothing of the batch stored)."""
        current: _Batch | None = getattr(self._local, "batch", None)
        if current is not None:  # inside a write() on this thread: part of it
            with _savepoint(current.conn, "cb_unit"):
                apply(current.conn)
            return
        if self._lock_file is not None and self._lock_file in _WRITING.__dict__.get("files", ()):
            raise self._second_database()
        item = _Submitted(apply)
        with self._queued:
            if self._closing:
                raise RuntimeError("the database is closed")
            self._queue.append(item)
            if self._committer is None:
                self._committer = threading.Thread(
                    target=self._commit_loop, name="callboard-committer", daemon=True
                )
                self._committer.start()
            self._queued.notify()
        item.done.wait()
        if item.error is not None:
            raise item.error

    def _second_database(self) -> RuntimeError:
        """This thread already writes to the file through another Database: waiting
        for the kernel lock would wait for itself, for ever."""
        name = self._lock_file.name[: -len("-writer")] if self._lock_file else "the database"
        return RuntimeError(
            f"a write to {name} inside another write to it through a second Database "
            "object (use one Database per file)"
        )

    def _commit_loop(self) -> None:
        while True:
            with self._queued:
                while not self._queue and not self._closing:
                    self._queued.wait()
                if not self._queue:
                    return
                items = [self._queue.popleft() for _ in range(min(MAX_BATCH, len(self._queue)))]
            try:
                with self._write() as conn:
                    for item in items:
                        try:
                            with _savepoint(conn, "cb_unit"):
                                item.apply(conn)
                        except Exception as exc:  # this write's alone
                            item.error = exc
            except BaseException as exc:  # BEGIN or COMMIT failed: nothing was stored
                for item in items:
                    item.error = item.error or exc
            finally:
                Completion.set_all(item.done for item in items)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        current: _Batch | None = getattr(self._local, "batch", None)
        if current is not None:  # a write inside a write on this thread: a savepoint
            with current.conn.begin_nested():
                yield current.conn
            return
        writing: set[Path] = _WRITING.__dict__.setdefault("files", set())
        if self._lock_file is None:
            with self._write() as conn:
                yield conn
            return
        if self._lock_file in writing:
            raise self._second_database()
        writing.add(self._lock_file)
        try:
            with self._write() as conn:
                yield conn
        finally:
            writing.discard(self._lock_file)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._count_lock:
            self._waiting += 1
        self._lock.acquire()
        with self._count_lock:
            self._waiting -= 1
        failed: BaseException | None = None
        try:
            batch = self._batch
            if batch is None:
                self._lock_processes()
                try:
                    conn = self._idle or self._connect()  # kept between batches
                    self._idle = None
                    try:
                        batch = _Batch(conn, conn.begin())
                    except BaseException:
                        conn.close()
                        raise
                except BaseException:
                    self._unlock_processes()
                    raise
                self._batch = batch
            batch.size += 1
            self._local.batch = batch
            try:
                with _savepoint(batch.conn):
                    yield batch.conn
            except BaseException as exc:  # raised below, once the batch is committed
                failed = exc
            finally:
                self._local.batch = None
                if self._commit_now(batch):
                    self._commit(batch)
        finally:
            self._lock.release()
        # Errors too wait for the batch: a caller that reads after a failed write (the
        # row a unique index collided with) must see what the batch committed.
        batch.done.wait()
        if failed is not None:
            raise failed
        if batch.error is not None:
            raise batch.error

    def _commit_now(self, batch: _Batch) -> bool:
        with self._count_lock:
            waiting = self._waiting
        return (
            waiting == 0
            or batch.size >= MAX_BATCH
            or time.monotonic() - batch.opened > MAX_BATCH_SECONDS
        )

    def _commit(self, batch: _Batch) -> None:
        """COMMIT (under the lock) and release the batch's writers."""
        self._batch = None
        try:
            batch.tx.commit()
            self._idle = batch.conn  # the next batch's (checking one out costs more)
        except BaseException as exc:
            batch.error = exc
            with contextlib.suppress(Exception):  # the connection is gone: closed below
                batch.tx.rollback()
            batch.conn.close()
        finally:
            self._unlock_processes()
            batch.done.set()

    def _lock_processes(self) -> None:
        if self._lock_file is None:
            return
        if self._fd is None:
            try:
                self._fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:  # a read-only folder: SQLite's own locking still applies
                self._lock_file = None
                return
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def _unlock_processes(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._queued:
            self._closing = True
            self._queued.notify()
            committer = self._committer
        if committer is not None and committer is not threading.current_thread():
            committer.join(10)
        with self._lock:
            if self._idle is not None:
                self._idle.close()
                self._idle = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
