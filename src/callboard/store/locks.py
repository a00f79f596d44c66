"""Locks across processes sharing one database: THE lock primitive.

* **PostgreSQL**: a session advisory lock (``pg_advisory_lock`` /
  ``pg_try_advisory_lock`` on a fixed key) held on a connection of its own for the
  ``with`` block, released with ``pg_advisory_unlock`` (and by PostgreSQL itself when the
  process dies: a crashed holder never blocks the others).
* **SQLite**: an exclusive ``flock`` on a file beside the database
  (``callboard.db.<name>.lock``), released when the block ends or the process dies. An
  in-memory database is one process's: a thread lock.

Uses: the schema migration and the first-run account and owner
(:data:`STARTUP`: several processes started together on an empty database migrate it
once, :meth:`callboard.store.db.Database.migrate`), and the retention pass
(:data:`RETENTION`: one process per database runs it; the others skip their turn).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

__all__ = ["LOCK_KEYS", "RETENTION", "STARTUP", "held"]

STARTUP = "startup"  # migrations and the first account/owner
RETENTION = "retention"  # the hourly retention pass
# Fixed 64-bit keys ("CB" + a number): the same in every process and version.
LOCK_KEYS: dict[str, int] = {STARTUP: 0x4342_0000_0001, RETENTION: 0x4342_0000_0002}

_memory_locks: dict[str, threading.Lock] = {name: threading.Lock() for name in LOCK_KEYS}


@contextmanager
def held(engine: Engine, name: str, lock_file: Path | None, *, wait: bool = True) -> Iterator[bool]:
    """Hold the lock ``name`` for the block. ``wait=False``: do not wait for it; the
    block gets False when another process holds it (and must then skip its work)."""
    key = LOCK_KEYS[name]
    if engine.dialect.name == "postgresql":
        with _advisory(engine, key, wait=wait) as got:
            yield got
    elif lock_file is not None:
        with _file_lock(lock_file, wait=wait) as got:
            yield got
    else:
        lock = _memory_locks[name]
        got = lock.acquire(blocking=wait)
        try:
            yield got
        finally:
            if got:
                lock.release()


@contextmanager
def _advisory(engine: Engine, key: int, *, wait: bool) -> Iterator[bool]:
    # Autocommit: the lock is the session's, never tied to (or held open by) a transaction.
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        if wait:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            got = True
        else:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        try:
            yield got
        finally:
            if got:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                except Exception:  # the connection broke: the server dropped the lock
                    conn.invalidate()


@contextmanager
def _file_lock(path: Path, *, wait: bool) -> Iterator[bool]:
    try:
        import fcntl
    except ImportError:  # not POSIX: SQLite's own write lock is all there is
        yield True
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            got = True
        except BlockingIOError:
            got = False
        try:
            yield got
        finally:
            if got:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
