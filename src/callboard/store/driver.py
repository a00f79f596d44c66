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
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

__all__ = ["fetch_all", "fetch_row", "insert_many", "insert_sql", "run"]


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
    column defaults are applied) in one ``executemany`` (psycopg: pipelined)."""
    if not rows:
        return
    keys = tuple(rows[0])
    sql = insert_sql(table, keys)
    dialect = conn.dialect
    if dialect.name == "sqlite":
        values = [tuple([_sqlite_value(row[k]) for k in keys]) for row in rows]
    else:
        sql = _format_style(sql)
        values = [tuple([row[k] for k in keys]) for row in rows]
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, values)
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            sql, None, exc, dialect.loaded_dbapi.Error, dialect=dialect
        ) from None
    finally:
        cursor.close()


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
        params = tuple(_sqlite_value(v) for v in params)
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
    if isinstance(value, datetime):  # SQLAlchemy's SQLite DateTime format
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")
    return value
