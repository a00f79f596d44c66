"""The credentials generation (issue 11): one number, ``credentials_generation.generation``,
that the database's triggers (migration ``1200``) bump in the transaction of every change
to what HTTP Basic authentication reads — an account's row (Auth Token, status), an API
key, who created a key and its role, a user's role or removal — whoever makes it: any
server process, the CLI, hand-written SQL.

A process that caches verified credentials reads the generation on every request and
drops its cache when the number moved (:class:`callboard.api.credentials.CredentialsCache`).
The read must come *before* the credential rows it verifies against, so that a cached
entry is never newer than the generation it is filed under.

:class:`GenerationReader` reads it on a connection of its own, kept open outside the
pool: one tiny statement straight to the driver, a few microseconds on SQLite, one round
trip on PostgreSQL, cheap enough for the event loop. Its timeouts are short (a stalled
database costs a request the slow path, not the loop seconds); any failure closes the
connection and answers None (the caller then checks the credentials as before).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

from sqlalchemy import Connection

from callboard.store.db import Database

__all__ = ["GENERATION_SQL", "GenerationReader", "read_generation"]

log = logging.getLogger("callboard.store")

GENERATION_SQL = "SELECT generation FROM credentials_generation WHERE id = 1"
SQLITE_BUSY_MS = 250
POSTGRESQL_STATEMENT_MS = 1000


def read_generation(conn: Connection) -> int:
    """The generation, on ``conn`` (0 when the row is missing)."""
    value = conn.exec_driver_sql(GENERATION_SQL).scalar()
    return int(value or 0)


class GenerationReader:
    """Reads the generation on a connection of its own. :meth:`read` is cheap and never
    waits long; :meth:`connect` (blocking: call it from a worker thread) opens the
    connection when there is none."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: Any = None  # the driver's connection (sqlite3 / psycopg)
        self._lock = threading.Lock()
        self._closed = False

    @property
    def connected(self) -> bool:
        return self._conn is not None

    def connect(self) -> bool:
        """Open the connection (if none is open); False when the database cannot be
        reached (logged at debug level: the request's own reads report it)."""
        with self._lock:
            if self._conn is not None or self._closed:
                return self._conn is not None
            try:
                self._conn = self._open()
            except Exception as exc:
                log.debug("credentials generation: no connection: %s", exc)
                return False
            return True

    def _open(self) -> Any:
        pooled = self.db.engine.raw_connection()  # the engine's own connect settings
        conn: Any = pooled.driver_connection
        pooled.detach()  # ours alone, closed when we close it
        try:
            if self.db.is_sqlite:
                conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
            else:
                conn.rollback()  # the pool's ping may have opened a transaction
                conn.autocommit = True
                conn.execute(f"SET statement_timeout = {POSTGRESQL_STATEMENT_MS}")
        except Exception:
            conn.close()
            raise
        return conn

    def read(self) -> int | None:
        """The generation now (a statement of its own: it sees every commit made before
        it); None without a connection or on any failure."""
        conn = self._conn
        if conn is None:
            return None
        try:
            cursor = conn.execute(GENERATION_SQL)
            row = cursor.fetchone()
        except Exception as exc:
            log.debug("credentials generation: read failed: %s", exc)
            self._drop(conn)
            return None
        return int(row[0]) if row is not None else None

    def _drop(self, conn: Any) -> None:
        with self._lock:
            if self._conn is conn:
                self._conn = None
        with contextlib.suppress(Exception):
            conn.close()

    def close(self) -> None:
        with self._lock:
            conn, self._conn, self._closed = self._conn, None, True
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()
