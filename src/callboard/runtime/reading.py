"""Reading rows as records: the converters from table rows to the records the services
return (:mod:`callboard.runtime.records`), and keyset-paged listings."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Column, Connection, Select, and_, or_

from callboard.runtime.records import (
    Account,
    Execution,
    Flow,
    FlowRevision,
    InvalidParameter,
    Message,
    Page,
    Step,
)
from callboard.store.packed_json import unpack_state
from callboard.store.values import aware, dumps, from_db_time, loads

__all__ = [
    "keyset_page",
]

T = TypeVar("T")


_t = aware


# ------------------------------------------------------------------------- records


def account_record(row: Any) -> Account:
    return Account(
        sid=row.sid,
        friendly_name=row.friendly_name,
        status=row.status,
        auth_token=row.auth_token,
        date_created=_t(row.date_created),
        date_updated=_t(row.date_updated),
    )


def flow_record(flow: Any, rev: Any, *, listed: bool = False) -> Flow:
    return Flow(
        sid=flow.sid,
        account_sid=flow.account_sid,
        friendly_name=flow.friendly_name,
        author_sid=rev.author_sid,
        definition=None if listed else loads(rev.definition),
        status=rev.status,
        revision=flow.latest_revision,
        commit_message=None if listed else rev.commit_message,
        valid=None if listed else bool(rev.valid),
        errors=None if listed else loads(rev.errors) or [],
        warnings=None if listed else loads(rev.warnings) or [],
        date_created=_t(flow.date_created),
        date_updated=from_db_time(flow.date_updated),
        latest_published_revision=flow.latest_published,
        listed=listed,
    )


def revision_record(rev: Any, *, listed: bool = False) -> FlowRevision:
    return FlowRevision(
        sid=rev.flow_sid,
        account_sid=rev.account_sid,
        revision=rev.revision,
        friendly_name=rev.friendly_name,
        author_sid=rev.author_sid,
        definition=None if listed else loads(rev.definition),
        status=rev.status,
        commit_message=rev.commit_message,  # list items keep it (issue 13)
        valid=bool(rev.valid),
        errors=None if listed else loads(rev.errors) or [],
        date_created=_t(rev.date_created),
        date_updated=from_db_time(rev.date_updated),
        listed=listed,
    )


def execution_record(row: Any, state: dict[str, Any] | None = None) -> Execution:
    if state is None:
        state = unpack_state(row.state, row.state_z) or {}
    frames = state.get("frames") or []
    context = frames[0]["context"] if frames else {}
    waiting = state.get("waiting")
    return Execution(
        sid=row.sid,
        account_sid=row.account_sid,
        flow_sid=row.flow_sid,
        flow_version=row.flow_version,
        contact_channel_address=row.contact_channel_address,
        flow_address=row.flow_address,
        contact_sid=None,
        status=row.status,
        context=context,
        initiated_by=row.initiated_by,
        date_created=_t(row.date_created),
        date_updated=from_db_time(row.date_updated),
        ended_at=from_db_time(row.ended_at),
        ended_reason=row.ended_reason,
        waiting_for=waiting.get("widget") if isinstance(waiting, dict) else None,
    )


def step_record(
    row: Any, account_sid: str, flow_sid: str, *, context: dict[str, Any] | None = None
) -> Step:
    """``context``: the step's whole context (:class:`~callboard.store.steps.ContextReader`);
    None gives ``{}``."""
    return Step(
        sid=row.sid,
        account_sid=account_sid,
        flow_sid=flow_sid,
        execution_sid=row.execution_sid,
        parent_step_sid=row.parent_step_sid,
        name=row.name,
        transitioned_from=row.transitioned_from,
        transitioned_to=row.transitioned_to,
        type=row.type,
        context=context if context is not None else {},
        date_created=_t(row.date_created),
        date_updated=_t(row.date_created),
        seq=row.seq,
        subflow_sid=row.subflow_sid,
        warnings=loads(row.warnings) or [],
    )


def message_record(row: Any) -> Message:
    return Message(
        sid=row.sid,
        account_sid=row.account_sid,
        execution_sid=row.execution_sid,
        flow_sid=row.flow_sid,
        direction=row.direction,
        to=row.to_address,
        from_=row.from_address,
        body=row.body,
        media_urls=loads(row.media_urls) or [],
        status=row.status,
        date_created=_t(row.date_created),
    )


# --------------------------------------------------------------------------- paging


def _encode(kind: str, key: Sequence[Any]) -> str:
    values = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    raw = dumps([kind, *values]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(kind: str, text: str, types: Sequence[type]) -> list[Any]:
    bad = InvalidParameter("PageToken", f"Invalid PageToken {text!r}")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(data, list) or len(data) != len(types) + 1 or data[0] != kind:
        raise bad
    out: list[Any] = []
    for value, typ in zip(data[1:], types, strict=True):
        try:
            if typ is datetime:
                out.append(datetime.fromisoformat(value))
            elif typ is int:
                if not isinstance(value, int):
                    raise ValueError
                out.append(value)
            else:
                if not isinstance(value, str):
                    raise ValueError
                out.append(value)
        except (TypeError, ValueError):
            raise bad from None
    return out


def _after(cols: Sequence[Column[Any]], key: Sequence[Any], greater: bool) -> Any:
    """``cols > key`` (or ``<``) in lexicographic order, portable SQL."""
    clauses = []
    for i, col in enumerate(cols):
        eqs = [cols[j] == key[j] for j in range(i)]
        cmp = col > key[i] if greater else col < key[i]
        clauses.append(and_(*eqs, cmp))
    return or_(*clauses)


def keyset_page(
    conn: Connection,
    query: Select[Any],
    *,
    kind: str,
    cols: Sequence[Column[Any]],
    types: Sequence[type],
    descending: bool,
    page_size: int,
    page_token: str | None,
    convert: Callable[[Any], T],
) -> Page[T]:
    """One page of ``query`` ordered by ``cols``; tokens ``PA<key>`` / ``PB<key>``."""
    if not 1 <= page_size <= 1000:
        raise InvalidParameter("PageSize", "PageSize must be between 1 and 1000")
    backwards = False
    key: list[Any] | None = None
    if page_token:
        prefix, body = page_token[:2], page_token[2:]
        if prefix not in ("PA", "PB"):
            raise InvalidParameter("PageToken", f"Invalid PageToken {page_token!r}")
        key = _decode(kind, body, types)
        backwards = prefix == "PB"
    forward_desc = descending
    scan_desc = forward_desc != backwards
    if key is not None:
        query = query.where(_after(cols, key, greater=not scan_desc))
    order = [c.desc() if scan_desc else c.asc() for c in cols]
    rows = list(conn.execute(query.order_by(*order).limit(page_size + 1)))
    more = len(rows) > page_size
    rows = rows[:page_size]
    if backwards:
        rows.reverse()

    def token(prefix: str, row: Any) -> str:
        return prefix + _encode(kind, [getattr(row, c.name) for c in cols])

    if not rows:
        return Page([], None, None)
    next_token: str | None
    previous_token: str | None
    if backwards:
        next_token = token("PA", rows[-1])
        previous_token = token("PB", rows[0]) if more else None
    else:
        next_token = token("PA", rows[-1]) if more else None
        previous_token = token("PB", rows[0]) if key is not None else None
    return Page([convert(r) for r in rows], next_token, previous_token)
