"""The SQL of the ``accounts`` and ``api_keys`` tables: accounts, API keys, the row
HTTP Basic authentication reads, and an account's secrets (its Auth Token and its Twilio
credentials) that the channels need on every webhook."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, func, select, update

from callboard.store import tables as t
from callboard.store.db import Database
from callboard.store.driver import fetch_row

__all__ = [
    "AccountSecrets",
    "account_for_auth",
    "all_accounts",
    "api_key_with_account",
    "api_keys_of",
    "count_accounts",
    "delete_api_key",
    "find_account",
    "insert_account",
    "insert_api_key",
    "read_secrets",
    "rest_limit",
    "set_twilio",
    "update_account",
]

_SECRETS_SQL = (
    "SELECT auth_token, twilio_account_sid, twilio_auth_token FROM accounts WHERE sid = ?"
)


class AccountSecrets(NamedTuple):
    auth_token: str
    twilio_account_sid: str | None
    twilio_auth_token: str | None


def read_secrets(conn: Connection, account_sid: str) -> AccountSecrets | None:
    """The account's Auth Token and Twilio credentials (None: no such account). The one
    statement goes straight to the driver (:mod:`callboard.store.driver`): SQLAlchemy's
    execution overhead was most of its cost."""
    row = fetch_row(conn, _SECRETS_SQL, (account_sid,))
    if row is None:
        return None
    return AccountSecrets(str(row[0]), row[1] or None, row[2] or None)


def set_twilio(
    conn: Connection,
    account_sid: str,
    twilio_sid: str | None,
    auth_token: str | None,
    now: datetime,
) -> bool:
    """Set (None: clear) the account's Twilio credentials; False: no such account."""
    done = conn.execute(
        update(t.accounts)
        .where(t.accounts.c.sid == account_sid)
        .values(twilio_account_sid=twilio_sid, twilio_auth_token=auth_token, date_updated=now)
    )
    return bool(done.rowcount)


_a, _k = t.accounts, t.api_keys
_ACCOUNT = select(_a).where(_a.c.sid == bindparam("sid"))
_ACCOUNT_SQL = (
    "SELECT sid, friendly_name, status, auth_token, date_created, date_updated "
    "FROM accounts WHERE sid = ?"
)


class _AccountRow(NamedTuple):
    sid: str
    friendly_name: str
    status: str
    auth_token: str
    date_created: datetime
    date_updated: datetime


def _db_time(value: Any) -> datetime:
    """A DateTime column as SQLAlchemy's SQLite type stores it (``YYYY-MM-DD HH:MM:SS.ffffff``)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def account_for_auth(db: Database, sid: str) -> Any:
    """The account's row (sid, friendly_name, status, auth_token, dates) or None. On
    SQLite the one statement goes straight to the driver, outside a transaction (a single
    SELECT is consistent on its own): SQLAlchemy's execution overhead was most of its
    cost."""
    if not db.is_sqlite:
        with db.read() as conn:
            return conn.execute(_ACCOUNT, {"sid": sid}).first()
    with db.engine.connect() as conn:
        driver = conn.connection.driver_connection
        found = driver.execute(_ACCOUNT_SQL, (sid,)).fetchone()  # type: ignore[union-attr]
    if found is None:
        return None
    sid_, name, status, token, created, updated = found
    return _AccountRow(sid_, name, status, token, _db_time(created), _db_time(updated))


def insert_account(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(_a.insert(), [row])


def all_accounts(conn: Connection) -> Sequence[Any]:
    return conn.execute(select(_a).order_by(_a.c.date_created, _a.c.sid)).all()


def find_account(conn: Connection, account_sid: str) -> Any:
    return conn.execute(select(_a).where(_a.c.sid == account_sid)).first()


def count_accounts(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(_a)).scalar_one())


def update_account(conn: Connection, account_sid: str, values: dict[str, Any]) -> bool:
    """False: no such account."""
    return bool(conn.execute(update(_a).where(_a.c.sid == account_sid).values(values)).rowcount)


def insert_api_key(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(_k.insert(), [row])


def api_keys_of(conn: Connection, account_sid: str) -> Sequence[Any]:
    return conn.execute(
        select(_k).where(_k.c.account_sid == account_sid).order_by(_k.c.date_created, _k.c.sid)
    ).all()


def delete_api_key(conn: Connection, account_sid: str, key_sid: str) -> bool:
    """False: no such key in the account."""
    gone = conn.execute(delete(_k).where(_k.c.sid == key_sid, _k.c.account_sid == account_sid))
    return bool(gone.rowcount)


def api_key_with_account(conn: Connection, key_sid: str) -> Any:
    """The key's secret hash with its account's columns, or None."""
    return conn.execute(
        select(_k.c.secret_hash, _a)
        .join(_a, _a.c.sid == _k.c.account_sid)
        .where(_k.c.sid == key_sid)
    ).first()


def rest_limit(conn: Connection, account_sid: str) -> int | None:
    """The account's REST rate limit (executions per second per flow; None: no limit)."""
    row = fetch_row(
        conn, "SELECT rest_executions_per_second FROM accounts WHERE sid = ?", (account_sid,)
    )
    return int(row[0]) if row is not None and row[0] else None
