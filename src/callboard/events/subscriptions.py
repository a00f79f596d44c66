"""Subscriptions and their subscribed event types (a part of
:class:`callboard.events.service.EventStreams`); their SQL is
:mod:`callboard.store.event_subscriptions`'s."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from callboard.engine.core import Env
from callboard.events.records import (
    SubscribedEvent,
    Subscription,
    _description,
    _subscription,
    check_type,
)
from callboard.runtime.reading import keyset_page
from callboard.runtime.records import InvalidParameter, NotFound, Page
from callboard.store import event_subscriptions as store_subscriptions
from callboard.store.db import Database
from callboard.store.event_deliveries import delete_subscription_deliveries
from callboard.store.event_sinks import account_has_sink
from callboard.store.values import to_db_time

__all__ = ["SubscriptionService"]


class SubscriptionService:
    """Subscriptions and their subscribed event types."""

    def __init__(self, db: Database, env: Env) -> None:
        self.db = db
        self.env = env

    def _now(self) -> datetime:
        return to_db_time(self.env.now())

    # ------------------------------------------------------------------ subscriptions

    def _subscription_row(self, conn: Connection, account_sid: str, sid: str) -> Any:
        row = store_subscriptions.find_subscription(conn, account_sid, sid)
        if row is None:
            raise NotFound("Subscription", sid)
        return row

    def create_subscription(
        self,
        account_sid: str,
        *,
        description: str,
        sink_sid: str,
        types: list[tuple[str, int]],
    ) -> Subscription:
        text = _description(description)
        if not types:
            raise InvalidParameter("Types", "Missing required parameter Types in the post body")
        chosen = dict(types)  # a repeated type keeps its last version
        now = self._now()
        sid = "DF" + secrets.token_hex(16)
        with self.db.write() as conn:
            if not account_has_sink(conn, account_sid, sink_sid):
                raise InvalidParameter("SinkSid", f"Invalid SinkSid: sink {sink_sid} not found")
            store_subscriptions.insert_subscription(
                conn,
                {
                    "sid": sid,
                    "account_sid": account_sid,
                    "sink_sid": sink_sid,
                    "description": text,
                    "date_created": now,
                    "date_updated": now,
                },
            )
            store_subscriptions.insert_subscribed_types(
                conn,
                [
                    {
                        "subscription_sid": sid,
                        "type": typ,
                        "account_sid": account_sid,
                        "schema_version": version,
                    }
                    for typ, version in chosen.items()
                ],
            )
            return _subscription(self._subscription_row(conn, account_sid, sid))

    def fetch_subscription(self, account_sid: str, sid: str) -> Subscription:
        with self.db.read() as conn:
            return _subscription(self._subscription_row(conn, account_sid, sid))

    def list_subscriptions(
        self,
        account_sid: str,
        *,
        sink_sid: str | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[Subscription]:
        query, cols = store_subscriptions.subscriptions_listing(account_sid, sink_sid)
        with self.db.read() as conn:
            return keyset_page(
                conn,
                query,
                kind="subscriptions",
                cols=cols,
                types=[datetime, str],
                descending=True,
                page_size=page_size,
                page_token=page_token,
                convert=_subscription,
            )

    def update_subscription(
        self, account_sid: str, sid: str, *, description: str | None
    ) -> Subscription:
        with self.db.write() as conn:
            self._subscription_row(conn, account_sid, sid)
            values: dict[str, Any] = {"date_updated": self._now()}
            if description is not None:
                values["description"] = _description(description)
            store_subscriptions.update_subscription(conn, sid, values)
            return _subscription(self._subscription_row(conn, account_sid, sid))

    def delete_subscription(self, account_sid: str, sid: str) -> None:
        with self.db.write() as conn:
            self._subscription_row(conn, account_sid, sid)
            delete_subscription_deliveries(conn, sid)
            store_subscriptions.delete_subscription(conn, sid)

    # ------------------------------------------------------------------ subscribed events

    def list_subscribed_events(
        self,
        account_sid: str,
        subscription_sid: str,
        *,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[SubscribedEvent]:
        query, cols = store_subscriptions.subscribed_types_listing(subscription_sid)
        with self.db.read() as conn:
            self._subscription_row(conn, account_sid, subscription_sid)
            return keyset_page(
                conn,
                query,
                kind="types",
                cols=cols,
                types=[str],
                descending=False,
                page_size=page_size,
                page_token=page_token,
                convert=lambda r: SubscribedEvent(
                    r.account_sid, r.subscription_sid, r.type, r.schema_version
                ),
            )

    def fetch_subscribed_event(
        self, account_sid: str, subscription_sid: str, type_: str
    ) -> SubscribedEvent:
        with self.db.read() as conn:
            self._subscription_row(conn, account_sid, subscription_sid)
            row = store_subscriptions.find_subscribed_type(conn, subscription_sid, type_)
        if row is None:
            raise NotFound("Subscribed event", type_)
        return SubscribedEvent(account_sid, subscription_sid, row.type, row.schema_version)

    def put_subscribed_event(
        self,
        account_sid: str,
        subscription_sid: str,
        type_: str,
        schema_version: Any = None,
        *,
        must_exist: bool = False,
    ) -> tuple[SubscribedEvent, bool]:
        """Add (or, with ``must_exist``, only update) a type; returns it and whether it
        was created."""
        typ, version = check_type(type_, schema_version)
        with self.db.write() as conn:
            self._subscription_row(conn, account_sid, subscription_sid)
            row = store_subscriptions.find_subscribed_type(conn, subscription_sid, typ)
            if row is None:
                if must_exist:
                    raise NotFound("Subscribed event", type_)
                store_subscriptions.insert_subscribed_types(
                    conn,
                    [
                        {
                            "subscription_sid": subscription_sid,
                            "type": typ,
                            "account_sid": account_sid,
                            "schema_version": version,
                        }
                    ],
                )
            elif schema_version is not None:
                store_subscriptions.set_schema_version(conn, subscription_sid, typ, version)
            else:
                version = row.schema_version
        return SubscribedEvent(account_sid, subscription_sid, typ, version), row is None

    def delete_subscribed_event(self, account_sid: str, subscription_sid: str, type_: str) -> None:
        with self.db.write() as conn:
            self._subscription_row(conn, account_sid, subscription_sid)
            gone = store_subscriptions.delete_subscribed_type(conn, subscription_sid, type_)
        if gone == 0:
            raise NotFound("Subscribed event", type_)
