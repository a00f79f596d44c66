"""The SQL of the ``accounts`` table that the channels need on every request: an
account's secrets (its Auth Token and its Twilio credentials) and setting the latter."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, select, update

from callboard.store import tables as t

__all__ = ["AccountSecrets", "read_secrets", "set_twilio"]

_SECRETS = select(
    t.accounts.c.auth_token, t.accounts.c.twilio_account_sid, t.accounts.c.twilio_auth_token
).where(t.accounts.c.sid == bindparam("sid"))
_SECRETS_SQL = (
    "SELECT auth_token, twilio_account_sid, twilio_auth_token FROM accounts WHERE sid = ?"
)


class AccountSecrets(NamedTuple):
    auth_token: str
    twilio_account_sid: str | None
    twilio_auth_token: str | None


def read_secrets(conn: Connection, account_sid: str) -> AccountSecrets | None:
    """The account's Auth Token and Twilio credentials (None: no such account). On
    SQLite the one statement goes straight to the driver (three TEXT columns):
    SQLAlchemy's execution overhead was most of its cost."""
    if conn.dialect.name == "sqlite":
        driver = conn.connection.driver_connection
        row = driver.execute(_SECRETS_SQL, (account_sid,)).fetchone()  # type: ignore[union-attr]
    else:
        row = conn.execute(_SECRETS, {"sid": account_sid}).first()
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
