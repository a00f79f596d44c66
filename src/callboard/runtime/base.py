"""What the parts of the service share: the attributes :class:`Callboard` sets, small
helpers used by several parts."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from callboard.engine.core import Env
from callboard.runtime.auth import CredentialCache
from callboard.runtime.definitions import DefinitionCache
from callboard.runtime.delivery import Runner
from callboard.runtime.records import DeliveryResult, NotFound
from callboard.runtime.rows import to_db_time
from callboard.store import tables as t
from callboard.store.db import Database

__all__ = ["FLOW_STATUSES", "Obj", "ServiceBase", "delete_executions"]

FLOW_STATUSES = ("draft", "published")


class ServiceBase:
    """The state every part of the service uses (set by ``Callboard.__init__``)."""

    db: Database
    env: Env
    credentials: CredentialCache
    definitions: DefinitionCache
    runner: Runner
    wakeup: threading.Event

    def _now(self) -> datetime:
        return to_db_time(self.env.now())

    def _flow_row(self, conn: Connection, account_sid: str, flow_sid: str) -> Any:
        row = conn.execute(
            select(t.flows).where(t.flows.c.sid == flow_sid, t.flows.c.account_sid == account_sid)
        ).first()
        if row is None:
            raise NotFound("Flow", flow_sid)
        return row

    def _notify(self, result: DeliveryResult | None = None) -> None:
        """Wake the worker when there is work for it now: outbox jobs, or a timer due
        sooner than the worker's longest sleep (it sleeps until the next due timer)."""
        if result is None or result.outbox_jobs:
            self.wakeup.set()
        elif result.timer_due is not None:
            from callboard.runtime.timers import MAX_SLEEP_SECONDS

            if (result.timer_due - self.env.now()).total_seconds() < MAX_SLEEP_SECONDS:
                self.wakeup.set()


class Obj:
    """Attribute access over a dict (records built from rows we just wrote)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def delete_executions(conn: Connection, sids: list[str]) -> None:
    """Delete executions with their steps, timers, outbox jobs, notifications and
    processed webhook requests (messages stay, detached: they are the channel's log)."""
    conn.execute(delete(t.steps).where(t.steps.c.execution_sid.in_(sids)))
    conn.execute(delete(t.notifications).where(t.notifications.c.execution_sid.in_(sids)))
    conn.execute(delete(t.processed_requests).where(t.processed_requests.c.execution_sid.in_(sids)))
    conn.execute(delete(t.timers).where(t.timers.c.execution_sid.in_(sids)))
    conn.execute(delete(t.outbox).where(t.outbox.c.execution_sid.in_(sids)))
    conn.execute(
        update(t.messages).where(t.messages.c.execution_sid.in_(sids)).values(execution_sid=None)
    )
    conn.execute(delete(t.executions).where(t.executions.c.sid.in_(sids)))
