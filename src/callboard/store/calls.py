"""The SQL of the ``calls`` table: one row per call an execution answers or places,
with the last TwiML its execution answered (``twiml``/``twiml_seq``) and, for the
simulator channel, the simulated caller's state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, func, or_, select, update

from callboard.store import tables as t
from callboard.store.db import insert_rows
from callboard.store.driver import fetch_all

__all__ = [
    "ENDED_CALL_STATUSES",
    "LiveCall",
    "call_execution",
    "call_for_token",
    "call_row",
    "calls_of",
    "insert_call",
    "keep_twiml",
    "latest_twiml",
    "live_calls",
    "twiml_seq",
    "update_call",
]

ENDED_CALL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
_c = t.calls
# Every ended execution runs it: straight to the driver (store.driver), on both databases.
_LIVE_CALLS_SQL = (
    "SELECT sid, account_sid, channel, sim_state, status FROM calls "
    "WHERE execution_sid = ? AND status NOT IN ("
    + ", ".join(f"'{status}'" for status in sorted(ENDED_CALL_STATUSES))
    + ")"
)


class LiveCall(NamedTuple):
    sid: str
    account_sid: str
    channel: str
    sim_state: str | None
    status: str


def live_calls(conn: Connection, execution_sid: str) -> list[LiveCall]:
    """The execution's calls that have not ended."""
    found = fetch_all(conn, _LIVE_CALLS_SQL, (execution_sid,))  # TEXT columns only
    return [LiveCall(*row) for row in found]


def insert_call(conn: Connection, row: dict[str, Any]) -> None:
    insert_rows(conn, _c, [row])


def update_call(conn: Connection, call_sid: str, values: dict[str, Any]) -> None:
    conn.execute(update(_c).where(_c.c.sid == call_sid).values(values))


def call_execution(conn: Connection, account_sid: str, call_sid: str) -> str | None:
    """The execution the account's call belongs to (None: unknown call)."""
    value = conn.execute(
        select(_c.c.execution_sid).where(_c.c.sid == call_sid, _c.c.account_sid == account_sid)
    ).scalar_one_or_none()
    return str(value) if value else None


def keep_twiml(conn: Connection, execution_sid: str, twiml: str, now: datetime) -> None:
    """Remember the TwiML the execution just answered (``twiml_seq`` + 1)."""
    conn.execute(
        update(_c)
        .where(_c.c.execution_sid == execution_sid)
        .values(twiml=twiml, twiml_seq=_c.c.twiml_seq + 1, date_updated=now)
    )


def latest_twiml(conn: Connection, execution_sid: str, after_seq: int) -> str | None:
    """The execution's newest TwiML when it is newer than ``after_seq``."""
    row = conn.execute(
        select(_c.c.twiml, _c.c.twiml_seq)
        .where(_c.c.execution_sid == execution_sid)
        .order_by(_c.c.twiml_seq.desc())
        .limit(1)
    ).first()
    if row is not None and row.twiml and int(row.twiml_seq) > after_seq:
        return str(row.twiml)
    return None


def twiml_seq(conn: Connection, execution_sid: str) -> int:
    value = conn.execute(
        select(func.max(_c.c.twiml_seq)).where(_c.c.execution_sid == execution_sid)
    ).scalar_one_or_none()
    return int(value or 0)


def calls_of(conn: Connection, account_sid: str, flow_sid: str, contact: str) -> Sequence[Any]:
    """The flow's last 100 calls (with ``contact``, when given), newest first."""
    q = select(_c).where(_c.c.account_sid == account_sid, _c.c.flow_sid == flow_sid)
    if contact:
        q = q.where(or_(_c.c.from_address == contact, _c.c.to_address == contact))
    return conn.execute(q.order_by(_c.c.date_created.desc()).limit(100)).all()


def call_row(conn: Connection, call_sid: str, account_sid: str | None = None) -> Any:
    q = select(_c).where(_c.c.sid == call_sid)
    if account_sid is not None:
        q = q.where(_c.c.account_sid == account_sid)
    return conn.execute(q).first()


def call_for_token(conn: Connection, execution_sid: str, token: str) -> Any:
    """The call an execution placed for the wait ``token`` (None: none was recorded)."""
    return conn.execute(
        select(_c).where(_c.c.execution_sid == execution_sid, _c.c.token == token)
    ).first()
