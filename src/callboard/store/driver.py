"""Hot statements sent straight to the driver, on both databases (issue 11).

Building, caching and compiling a SQLAlchemy statement and processing its result costs
more CPU than a small indexed read or insert itself; the statements every webhook runs go
to the driver's own cursor instead, on the SQLAlchemy connection's transaction. Their SQL
is written once, with ``?`` parameters (sqlite3's style); for PostgreSQL (psycopg 3) the
text is adapted once (``%s``) and cached, and psycopg prepares it on the server after a
few uses. Driver errors surface as SQLAlchemy's exceptions (``IntegrityError`` and all),
exactly as through ``Connection.execute``.

Values: TEXT, INTEGER, BOOLEAN and NULL columns read back as the driver gives them
(SQLite: booleans as 0/1), so callers convert where they need to; datetimes are written
as SQLAlchemy's SQLite ``DateTime`` writes them (SQLite) or as timestamps (PostgreSQL).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

__all__ = ["Insert", "fetch_all", "fetch_row", "insert_many", "insert_sql", "run"]


def fetch_row(conn: Connection, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The first row of ``sql`` (``?`` parameters), or None."""
    rows = _execute(conn, sql, params, _ONE)
    return rows[0] if rows else None


def fetch_all(conn: Connection, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` (``?`` parameters)."""
    return _execute(conn, sql, params, _ALL)


def run(conn: Connection, sql: str, params: tuple[Any, ...]) -> None:
    """Execute ``sql`` (``?`` parameters: an INSERT, UPDATE or DELETE)."""
    _execute(conn, sql, params, _NONE)


def insert_many(conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """``INSERT`` many rows (all with the same keys, every column the row needs: no
    column defaults are applied) in one statement; any datetime among the values is
    written as SQLAlchemy's ``DateTime`` writes it."""
    if rows:
        _generic(table, tuple(rows[0])).run(conn, rows)


class Insert:
    """A prebuilt ``INSERT`` of rows that all have the same keys (issue 11: CPU per run).

    Made once per table and keys (callers cache it): the SQL in both parameter styles,
    a getter making each row's parameter tuple in one C call, the values of ``defaults``
    for the columns the rows leave out (appended to every tuple), and, for SQLite, the
    positions of the ``times`` columns (datetimes → SQLAlchemy's text; ``times`` None:
    look at every value). One row goes with ``execute``, more with ``executemany``
    (psycopg: pipelined; its set-up costs more than one row's statement)."""

    __slots__ = ("_extra", "_get", "_pg", "_sql", "_times")

    def __init__(
        self,
        table: str,
        keys: tuple[str, ...],
        *,
        times: Collection[str] | None = None,
        defaults: Mapping[str, Any] | None = None,
    ) -> None:
        extra = {k: v for k, v in (defaults or {}).items() if k not in keys}
        columns = keys + tuple(extra)
        self._sql = insert_sql(table, columns)
        self._pg = _format_style(self._sql)
        self._extra = tuple(extra.values())
        self._get: Callable[[dict[str, Any]], tuple[Any, ...]] = (
            itemgetter(*keys) if len(keys) > 1 else lambda row: (row[keys[0]],)
        )
        self._times: tuple[int, ...] | None = (
            None if times is None else tuple(i for i, k in enumerate(columns) if k in times)
        )

    def values(self, rows: list[dict[str, Any]], *, sqlite: bool) -> list[tuple[Any, ...]]:
        """The rows' parameter tuples (SQLite: datetimes as text)."""
        get, extra = self._get, self._extra
        out = [get(row) + extra for row in rows] if extra else [get(row) for row in rows]
        times = self._times
        if not sqlite or times == ():
            return out
        if times is None:
            return [tuple([_sqlite_value(v) for v in row]) for row in out]
        fixed = []
        for row in out:
            patched = list(row)
            for i in times:
                value = patched[i]
                if isinstance(value, datetime):
                    patched[i] = _sqlite_time(value)
            fixed.append(tuple(patched))
        return fixed

    def run(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        dialect = conn.dialect
        sqlite = dialect.name == "sqlite"
        values = self.values(rows, sqlite=sqlite)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        sql = self._sql if sqlite else self._pg
        try:
            if len(values) == 1:
                cursor.execute(sql, values[0])
            else:
                cursor.executemany(sql, values)
        except dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(
                sql, None, exc, dialect.loaded_dbapi.Error, dialect=dialect
            ) from None
        finally:
            cursor.close()


@functools.lru_cache(maxsize=64)
def _generic(table: str, keys: tuple[str, ...]) -> Insert:
    return Insert(table, keys)


@functools.lru_cache(maxsize=64)
def insert_sql(table: str, keys: tuple[str, ...]) -> str:
    """``INSERT INTO table (keys...) VALUES (?, ...)``."""
    columns = ", ".join(f'"{k}"' for k in keys)
    marks = ", ".join("?" for _ in keys)
    return f'INSERT INTO "{table}" ({columns}) VALUES ({marks})'


_NONE, _ONE, _ALL = 0, 1, 2


def _execute(
    conn: Connection, sql: str, params: tuple[Any, ...], rows: int
) -> list[tuple[Any, ...]]:
    dialect = conn.dialect
    if dialect.name == "sqlite":
        for value in params:
            if isinstance(value, datetime):
                params = tuple([_sqlite_value(v) for v in params])
                break
    else:
        sql = _format_style(sql)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        if rows == _ONE:
            found = cursor.fetchone()
            out = [] if found is None else [tuple(found)]
        else:
            out = [tuple(row) for row in cursor.fetchall()] if rows == _ALL else []
    except dialect.loaded_dbapi.Error as exc:  # the same exceptions as SQLAlchemy's
        raise DBAPIError.instance(
            sql, params, exc, dialect.loaded_dbapi.Error, dialect=dialect
        ) from None
    finally:
        cursor.close()
    return out


@functools.lru_cache(maxsize=128)
def _format_style(sql: str) -> str:
    """``?`` parameters → psycopg's ``%s`` (a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


def _sqlite_value(value: Any) -> Any:
    return _sqlite_time(value) if isinstance(value, datetime) else value


def _sqlite_time(value: datetime) -> str:
    """SQLAlchemy's SQLite ``DateTime`` text (a zone is dropped: naive UTC is stored)."""
    if value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")
