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
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, RootTransaction

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


class GroupCommit:
    """Batches the process's SQLite write transactions (see the module docstring)."""

    def __init__(self, connect: Callable[[], Connection]) -> None:
        self._connect = connect  # a new write connection (its BEGIN is BEGIN IMMEDIATE)
        self._lock = threading.Lock()
        self._batch: _Batch | None = None
        self._waiting = 0  # writers blocked on the lock
        self._count_lock = threading.Lock()
        self._local = threading.local()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        current: _Batch | None = getattr(self._local, "batch", None)
        if current is not None:  # a write inside a write on this thread: a savepoint
            with current.conn.begin_nested():
                yield current.conn
            return
        with self._count_lock:
            self._waiting += 1
        self._lock.acquire()
        with self._count_lock:
            self._waiting -= 1
        failed: BaseException | None = None
        try:
            batch = self._batch
            if batch is None:
                conn = self._connect()
                try:
                    batch = _Batch(conn, conn.begin())
                except BaseException:
                    conn.close()
                    raise
                self._batch = batch
            batch.size += 1
            self._local.batch = batch
            try:
                with batch.conn.begin_nested():
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
        except BaseException as exc:
            batch.error = exc
            with contextlib.suppress(Exception):  # the connection is gone: closed below
                batch.tx.rollback()
        finally:
            batch.conn.close()
            batch.done.set()
