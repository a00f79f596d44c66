"""The SQL of the ``event_subscriptions`` table (DF…) and of the event types each
subscribes to (``event_subscribed_types``, its rows: as ``flows.py`` holds the flows'
revisions), for :class:`callboard.events.subscriptions.SubscriptionService` and the
delivery worker's fan-out."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Select, delete, select, update

from callboard.store.event_tables import event_subscribed_types, event_subscriptions

__all__ = [
    "any_subscription",
    "delete_sink_subscriptions",
    "delete_subscribed_type",
    "delete_subscription",
    "find_subscribed_type",
    "find_subscription",
    "insert_subscribed_types",
    "insert_subscription",
    "set_schema_version",
    "subscribed_types_listing",
    "subscribers",
    "subscriptions_listing",
    "update_subscription",
]

_s, _st = event_subscriptions, event_subscribed_types


def insert_subscription(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(_s.insert(), [row])


def find_subscription(conn: Connection, account_sid: str, sid: str) -> Any:
    """The account's subscription's row, or None."""
    return conn.execute(select(_s).where(_s.c.sid == sid, _s.c.account_sid == account_sid)).first()


def subscriptions_listing(
    account_sid: str, sink_sid: str | None
) -> tuple[Select[Any], list[Column[Any]]]:
    """The account's subscriptions (to ``sink_sid``, when given), and the columns they
    are paged by (date created, SID)."""
    query = select(_s).where(_s.c.account_sid == account_sid)
    if sink_sid is not None:
        query = query.where(_s.c.sink_sid == sink_sid)
    return query, [_s.c.date_created, _s.c.sid]


def update_subscription(conn: Connection, sid: str, values: dict[str, Any]) -> None:
    conn.execute(update(_s).where(_s.c.sid == sid).values(values))


def delete_subscription(conn: Connection, sid: str) -> None:
    """Delete the subscription and its types (its deliveries first:
    :func:`callboard.store.event_deliveries.delete_subscription_deliveries`)."""
    conn.execute(delete(_st).where(_st.c.subscription_sid == sid))
    conn.execute(delete(_s).where(_s.c.sid == sid))


def delete_sink_subscriptions(conn: Connection, sink_sid: str) -> None:
    """Delete the sink's subscriptions and their types."""
    subs = select(_s.c.sid).where(_s.c.sink_sid == sink_sid)
    conn.execute(delete(_st).where(_st.c.subscription_sid.in_(subs)))
    conn.execute(delete(_s).where(_s.c.sink_sid == sink_sid))


def any_subscription(conn: Connection) -> bool:
    """Whether any subscription exists (in any account). One indexed read."""
    return conn.execute(select(_s.c.sid).limit(1)).first() is not None


def subscribers(conn: Connection, account_sids: Collection[str]) -> Sequence[Any]:
    """Every (``account_sid``, ``type``) the accounts subscribe to, with the
    subscription's ``sid``, ``sink_sid`` and ``date_created``."""
    return conn.execute(
        select(_st.c.account_sid, _st.c.type, _s.c.sid, _s.c.sink_sid, _s.c.date_created)
        .join(_s, _s.c.sid == _st.c.subscription_sid)
        .where(_st.c.account_sid.in_(account_sids))
    ).all()


# ---------------------------------------------------------------- subscribed types


def insert_subscribed_types(conn: Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute(_st.insert(), rows)


def subscribed_types_listing(subscription_sid: str) -> tuple[Select[Any], list[Column[Any]]]:
    """The subscription's types, and the column they are paged by (the type)."""
    return select(_st).where(_st.c.subscription_sid == subscription_sid), [_st.c.type]


def find_subscribed_type(conn: Connection, subscription_sid: str, type_: str) -> Any:
    """The subscription's row for ``type_``, or None."""
    return conn.execute(
        select(_st).where(_st.c.subscription_sid == subscription_sid, _st.c.type == type_)
    ).first()


def set_schema_version(conn: Connection, subscription_sid: str, type_: str, version: int) -> None:
    conn.execute(
        update(_st)
        .where(_st.c.subscription_sid == subscription_sid, _st.c.type == type_)
        .values(schema_version=version)
    )


def delete_subscribed_type(conn: Connection, subscription_sid: str, type_: str) -> int:
    """Delete the subscription's row for ``type_``; returns how many rows went (0 or 1)."""
    gone = conn.execute(
        delete(_st).where(_st.c.subscription_sid == subscription_sid, _st.c.type == type_)
    )
    return int(gone.rowcount)
