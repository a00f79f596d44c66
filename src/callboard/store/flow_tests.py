"""The SQL of the ``flow_tests`` table: the versions of a flow's stored test file."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, select

from callboard.store import tables as t

__all__ = ["flow_test_rows", "flow_test_version", "insert_flow_test"]


def flow_test_version(
    conn: Connection, flow_sid: str, version: int | None = None
) -> Row[Any] | None:
    """The flow's latest stored test file (or its ``version``); None when there is none."""
    ft = t.flow_tests
    query = select(ft).where(ft.c.flow_sid == flow_sid)
    if version is not None:
        query = query.where(ft.c.version == version)
    return conn.execute(query.order_by(ft.c.version.desc()).limit(1)).first()


def flow_test_rows(conn: Connection, flow_sid: str) -> list[Row[Any]]:
    """Every stored version of the flow's test file, newest first."""
    ft = t.flow_tests
    query = select(ft).where(ft.c.flow_sid == flow_sid).order_by(ft.c.version.desc())
    return list(conn.execute(query).all())


def insert_flow_test(conn: Connection, row: dict[str, Any]) -> Row[Any]:
    """Store ``row`` as a new version and return it as stored."""
    conn.execute(t.flow_tests.insert(), [row])
    stored = flow_test_version(conn, row["flow_sid"], row["version"])
    assert stored is not None
    return stored
