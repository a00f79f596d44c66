"""Accounts, API keys and HTTP Basic authentication (a part of :class:`Callboard`)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from callboard.engine.core import Env
from callboard.runtime.auth import (
    CredentialCache,
    hash_secret,
    new_secret,
    new_token,
    verify_secret,
)
from callboard.runtime.reading import account_record
from callboard.runtime.records import Account, ApiKey, CreatedApiKey, NotFound
from callboard.store import accounts as store
from callboard.store.db import Database
from callboard.store.values import from_db_time, to_db_time

__all__ = ["AccountService"]


class AccountService:
    """Accounts, API keys and HTTP Basic authentication."""

    def __init__(self, db: Database, env: Env, credentials: CredentialCache) -> None:
        self.db = db
        self.env = env
        self.credentials = credentials
        # told when an account's secrets change (the channels' credential cache)
        self.on_secrets_changed: list[Callable[[str | None], None]] = []

    def _now(self) -> datetime:
        return to_db_time(self.env.now())

    def _changed(self, account_sid: str | None) -> None:
        self.credentials.clear()
        for listener in self.on_secrets_changed:
            listener(account_sid)

    def create_account(self, friendly_name: str | None = None) -> Account:
        sid = self.env.sid("AC")
        now = self._now()
        row = {
            "sid": sid,
            "friendly_name": (friendly_name or "").strip() or f"Account {sid[-6:]}",
            "status": "active",
            "auth_token": new_token(),
            "date_created": now,
            "date_updated": now,
        }
        with self.db.write() as conn:
            store.insert_account(conn, row)
        return account_record(SimpleNamespace(**row))

    def list_accounts(self) -> list[Account]:
        """Every account, oldest first."""
        with self.db.read() as conn:
            rows = store.all_accounts(conn)
        return [account_record(r) for r in rows]

    def fetch_account(self, account_sid: str) -> Account:
        with self.db.read() as conn:
            row = store.find_account(conn, account_sid)
        if row is None:
            raise NotFound("Account", account_sid)
        return account_record(row)

    def count_accounts(self) -> int:
        with self.db.read() as conn:
            return store.count_accounts(conn)

    def rotate_auth_token(self, account_sid: str) -> Account:
        """A new Auth Token; the old one stops working at once."""
        with self.db.write() as conn:
            values = {"auth_token": new_token(), "date_updated": self._now()}
            if not store.update_account(conn, account_sid, values):
                raise NotFound("Account", account_sid)
            row = store.find_account(conn, account_sid)
        self._changed(account_sid)
        return account_record(row)

    def create_api_key(self, account_sid: str, friendly_name: str | None = None) -> CreatedApiKey:
        """A new API key (SK…). The secret is returned once and stored hashed."""
        self.fetch_account(account_sid)
        sid = self.env.sid("SK")
        secret = new_secret()
        now = self._now()
        row = {
            "sid": sid,
            "account_sid": account_sid,
            "friendly_name": (friendly_name or "").strip() or f"Key {sid[-6:]}",
            "secret_hash": hash_secret(secret),
            "date_created": now,
        }
        with self.db.write() as conn:
            store.insert_api_key(conn, row)
        return CreatedApiKey(_key_record(SimpleNamespace(**row)), secret)

    def list_api_keys(self, account_sid: str) -> list[ApiKey]:
        with self.db.read() as conn:
            rows = store.api_keys_of(conn, account_sid)
        return [_key_record(r) for r in rows]

    def delete_api_key(self, account_sid: str, key_sid: str) -> None:
        with self.db.write() as conn:
            gone = store.delete_api_key(conn, account_sid, key_sid)
        if not gone:
            raise NotFound("API key", key_sid)
        self._changed(account_sid)

    def authenticate(self, username: str, password: str) -> Account | None:
        """HTTP Basic credentials → the account, or None. ``username`` is an Account SID
        (password = Auth Token) or an API Key SID (password = its secret). Fast after the
        first success (the slow secret hash is skipped for a pair already verified)."""
        if not username or not password or len(username) != 34 or len(password) > 256:
            return None
        if username.startswith("AC"):
            # read fresh on every request: a rotated token or a closed account is
            # refused at once, whichever process changed it
            row = store.account_for_auth(self.db, username)
            if row is None or row.status != "active":
                return None
            if not hmac.compare_digest(row.auth_token.encode(), password.encode()):
                return None
            return account_record(row)
        if username.startswith("SK"):
            with self.db.read() as conn:
                row = store.api_key_with_account(conn, username)
            if row is None or row.status != "active":
                return None
            cached = self.credentials.get(username, password)
            if cached != row.secret_hash:
                if not verify_secret(password, row.secret_hash):
                    return None
                self.credentials.put(username, password, row.secret_hash)
            return account_record(row)
        return None


def _key_record(row: Any) -> ApiKey:
    return ApiKey(
        sid=row.sid,
        account_sid=row.account_sid,
        friendly_name=row.friendly_name,
        date_created=from_db_time(row.date_created) or row.date_created,
    )
