"""Database connections: engine set-up, read and write transactions, migrations.

SQLite (the default) is tuned for one writing process: WAL journal, ``busy_timeout``,
``synchronous=FULL`` (a committed write survives a power cut; group commit keeps that
cheap), foreign keys on, automatic checkpoints only every 10,000 pages
(the worker checkpoints in the background, see :meth:`Database.checkpoint`). Writes are
serialised in-process, batched into shared transactions (group commit) and open with
``BEGIN IMMEDIATE`` (so a write never
fails half-way on a lock upgrade); reads use plain deferred transactions and never block
behind writers (WAL).

PostgreSQL: ordinary READ COMMITTED transactions, ``synchronous_commit=on`` (the server
groups concurrent commits itself: ``commit_delay``); :meth:`Database.write` takes no
process lock and callers lock rows (``SELECT … FOR UPDATE``) where they need to.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, Table, create_engine, event
from sqlalchemy.engine import make_url

from callboard.store.driver import Insert
from callboard.store.group_commit import GroupCommit
from callboard.store.locks import STARTUP, held
from callboard.store.suspend import current_loop

__all__ = ["Database", "DatabaseError", "insert_rows", "normalise_url"]

MIGRATIONS = Path(__file__).parent / "migrations"
CONNECT_TIMEOUT_SECONDS = 5  # PostgreSQL: a server that accepts but never answers


class DatabaseError(RuntimeError):
    """The database cannot be used (bad URL, unreachable server, failed migration)."""


def normalise_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` use psycopg 3 (``postgresql+psycopg://``)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Database:
    """One engine plus the transaction helpers every store user goes through."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        try:
            parsed = make_url(self.url)
        except Exception as exc:
            raise DatabaseError(f"cannot read database URL {url!r}: {exc}") from None
        self.dialect = parsed.get_backend_name()
        self.is_sqlite = self.dialect == "sqlite"
        self._write_lock = threading.RLock()
        self._readers: dict[asyncio.AbstractEventLoop, list[Connection]] = {}  # read()
        self._readers_lock = threading.Lock()
        self._closed = False
        self._file: Path | None = None  # SQLite: the database file (lock files beside it)
        if self.is_sqlite:
            path = parsed.database or ""
            if path and path != ":memory:" and not path.startswith("file:"):
                self._file = Path(path).expanduser()
                self._file.parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(
                self.url,
                echo=echo,
                connect_args={"check_same_thread": False, "timeout": 30},
                pool_size=8,
                max_overflow=8,
            )
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
            shared = bool(path) and path != ":memory:" and not path.startswith("file:")
            lock = (
                Path(path).expanduser().with_name(Path(path).name + "-writer") if shared else None
            )
            self._group = GroupCommit(self._write_connection, lock)
        elif self.dialect == "postgresql":
            # libpq's connect_timeout bounds the whole connection set-up (TCP and the
            # start-up exchange); a URL that sets its own wins.
            timeout = (
                {}
                if "connect_timeout" in parsed.query
                else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
            )
            self.engine = create_engine(
                self.url,
                echo=echo,
                pool_size=10,
                max_overflow=10,
                pool_pre_ping=True,
                connect_args=timeout,
            )
            event.listen(self.engine, "connect", _postgresql_connect)
        else:
            raise DatabaseError(
                f"unsupported database {self.dialect!r}: use sqlite:/// or postgresql://"
            )

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (rolled back at the end).

        SQLite, on the event loop (:func:`~callboard.store.suspend.run_on_loop`): one
        connection kept for the loop's reads, which never overlap there (a read block
        does not suspend) — checking one out of the pool and back costs more than a
        small read."""
        loop = current_loop() if self.is_sqlite else None
        kept = self._loop_reader(loop) if loop is not None else None
        if kept is not None and loop is not None:
            try:
                yield kept
            finally:
                self._give_back(loop, kept)
            return
        with self.engine.connect() as conn:
            try:
                yield conn
            finally:
                conn.rollback()

    def _loop_reader(self, loop: asyncio.AbstractEventLoop) -> Connection | None:
        """A kept read connection of ``loop`` (another one when it is in use)."""
        with self._readers_lock:
            if self._closed:
                return None
            kept = self._readers.setdefault(loop, [])
            if kept:
                return kept.pop()
            for gone in [other for other in self._readers if other.is_closed()]:
                for conn in self._readers.pop(gone):  # a test's loop, finished
                    conn.close()
        return self.engine.connect()

    def _give_back(self, loop: asyncio.AbstractEventLoop, conn: Connection) -> None:
        try:
            conn.rollback()
        except BaseException:
            conn.invalidate()  # broken: the next read opens another
            conn.close()
            raise
        with self._readers_lock:
            if self._closed or loop.is_closed():
                conn.close()
            else:
                self._readers.setdefault(loop, []).append(conn)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back on error.

        SQLite: serialised in-process, opened with ``BEGIN IMMEDIATE`` and committed in
        groups (:mod:`callboard.store.group_commit`): the block runs in a savepoint of
        the batch's transaction, and this returns once that transaction committed."""
        if self.is_sqlite:
            with self._group.write() as conn:
                yield conn
        else:
            with self.engine.connect() as conn, conn.begin():
                yield conn

    def apply(self, write: Callable[[Connection], object]) -> None:
        """Run ``write(conn)`` in a write transaction of its own and return once it is
        committed (raising its error, nothing of it stored). On SQLite a committer
        thread applies the writes queued meanwhile back to back, each in its own
        savepoint, in one transaction (:meth:`GroupCommit.submit`): for writes computed
        beforehand (:mod:`callboard.runtime.unit`)."""
        if self.is_sqlite:
            self._group.submit(write)
            return
        with self.write() as conn:
            write(conn)

    def _write_connection(self) -> Connection:
        return self.engine.connect().execution_options(callboard_write=True)

    def for_update(self) -> bool:
        """Whether row locks (``SELECT … FOR UPDATE``) are needed and supported."""
        return not self.is_sqlite

    def lock(self, name: str, *, wait: bool = True) -> AbstractContextManager[bool]:
        """Hold the cross-process lock ``name`` (:mod:`callboard.store.locks`: an
        advisory lock on PostgreSQL, a file lock beside a SQLite database) for a ``with``
        block; ``wait=False`` gives False at once when another process holds it."""
        lock_file = (
            None if self._file is None else self._file.with_name(f"{self._file.name}.{name}.lock")
        )
        return held(self.engine, name, lock_file, wait=wait)

    # ------------------------------------------------------------------ schema
    def migrate(self) -> None:
        """Create or upgrade the schema to the newest revision (Alembic), under the
        start-up lock: processes started together on an empty database migrate it
        once (the others wait, then find it at the newest revision)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        try:
            with self.lock(STARTUP), self._write_lock, self.engine.connect() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
                conn.commit()
        except DatabaseError:
            raise
        except Exception as exc:
            raise DatabaseError(f"database migration failed: {exc}") from exc

    def check(self) -> None:
        """Connect once, turning failures into a :class:`DatabaseError` that names the URL."""
        try:
            with self.engine.connect():
                pass
        except Exception as exc:
            shown = make_url(self.url).render_as_string(hide_password=True)
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            text = reason[0] if reason else type(exc).__name__
            if "timeout" in text.lower():
                text += (
                    f" (no answer within {CONNECT_TIMEOUT_SECONDS} s: is it a PostgreSQL server?)"
                )
            raise DatabaseError(f"cannot connect to {shown}: {text}") from None

    def check_writes(self) -> None:
        """Start a write and roll it back: raises when the database takes no writes (a
        read-only file or server, a lock held too long)."""
        with self.engine.connect() as conn, conn.begin() as tx:
            conn.exec_driver_sql("UPDATE accounts SET sid = sid WHERE 1 = 0")
            tx.rollback()

    def checkpoint(self) -> None:
        """SQLite: copy the WAL back into the database file (PASSIVE: never waits for
        readers or writers). The worker calls it every few seconds, so commits on the
        request path rarely pay for a checkpoint. No-op on PostgreSQL."""
        if not self.is_sqlite:
            return
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def dispose(self) -> None:
        if self.is_sqlite:
            self._group.close()  # first: it gives its kept connection back
        with self._readers_lock:
            self._closed = True
            kept = [conn for conns in self._readers.values() for conn in conns]
            self._readers.clear()
        for conn in kept:
            conn.close()
        self.engine.dispose()


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """``INSERT`` many rows (all with the same keys), straight to the driver in the
    current transaction (:class:`callboard.store.driver.Insert`: SQLAlchemy's per-row
    processing is most of the cost of a small insert — on PostgreSQL too). The columns'
    scalar defaults fill the keys the rows leave out, as SQLAlchemy's insert would;
    datetimes are written as SQLAlchemy's ``DateTime`` writes them, so reads are
    unchanged. The statement is built once per table and keys."""
    if rows:
        _insert(table, tuple(rows[0])).run(conn, rows)


@functools.lru_cache(maxsize=128)
def _insert(table: Table, keys: tuple[str, ...]) -> Insert:
    """The prebuilt insert of ``keys`` into ``table``: the scalar Python-side defaults
    of its columns not in ``keys`` added, its ``DateTime`` columns converted."""
    defaults: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if column.name not in keys and default is not None and default.is_scalar:
            defaults[column.name] = default.arg  # type: ignore[attr-defined]
    times = {c.name for c in table.columns if isinstance(c.type, DateTime)}
    return Insert(table.name, keys, times=times, defaults=defaults)


def _sqlite_connect(dbapi_connection: Any, record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN (pysqlite's own handling is off).
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")  # durable acknowledgements
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA wal_autocheckpoint=10000")
    cur.close()


def _postgresql_connect(dbapi_connection: Any, record: Any) -> None:
    # Acknowledged means durable, whatever the server's or role's default.
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    with dbapi_connection.cursor() as cur:
        cur.execute("SET synchronous_commit = on")
    dbapi_connection.autocommit = autocommit


def _sqlite_begin(conn: Connection) -> None:
    if conn.get_execution_options().get("callboard_write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")
