"""Bundle loading for the runner (:mod:`callboard.runtime.delivery`).

A :class:`~callboard.engine.Bundle` is the revision an execution runs plus the subflows
its Run Subflow widgets name: a subflow already entered keeps its pinned revision, else
the widget's ``flow_revision`` (a number, or "latest" for test users), else the latest
published revision. Parsed definitions come from a shared LRU.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from callboard.engine.state import Bundle, FlowRef
from callboard.flow.model import FlowDefinition
from callboard.runtime.definitions import DefinitionCache
from callboard.runtime.records import NotFound
from callboard.store import tables as t
from callboard.widgets.registry import WIDGETS

if TYPE_CHECKING:
    from callboard.runtime.delivery import ExecRow

__all__ = ["LATEST_DRAFT", "load_bundle", "load_definition"]

LATEST_DRAFT = ("LatestRevision", "LatestDraft", "latest_revision", "latest")


def load_definition(
    conn: Connection, definitions: DefinitionCache, flow_sid: str, revision: int
) -> FlowDefinition:
    def text() -> str:
        value = conn.execute(
            select(t.flow_revisions.c.definition).where(
                t.flow_revisions.c.flow_sid == flow_sid,
                t.flow_revisions.c.revision == revision,
            )
        ).scalar_one_or_none()
        if value is None:
            raise NotFound("Flow revision", f"{flow_sid}/{revision}")
        return str(value)

    return definitions.get(flow_sid, revision, text)


def load_bundle(
    conn: Connection,
    ex: ExecRow,
    definition: Callable[[Connection, str, int], FlowDefinition],
) -> Bundle:
    main = FlowRef(ex.flow_sid, ex.flow_version, definition(conn, ex.flow_sid, ex.flow_version))
    wanted: dict[str, str] = {}
    for state in main.definition.states:
        if state.type != "run-subflow":
            continue
        sid = state.properties.get("flow_sid")
        if isinstance(sid, str) and sid.startswith("FW") and sid != ex.flow_sid:
            wanted.setdefault(sid, str(state.properties.get("flow_revision") or ""))
    if not wanted:
        return Bundle(main, widgets=WIDGETS)
    pinned: dict[str, int] = {}
    if ex.state is not None:
        for frame in ex.state.frames[1:]:
            pinned[frame.flow_sid] = frame.revision
    rows = conn.execute(
        select(t.flows.c.sid, t.flows.c.latest_revision, t.flows.c.latest_published).where(
            t.flows.c.sid.in_(list(wanted)), t.flows.c.account_sid == ex.account_sid
        )
    ).all()
    subflows: dict[str, FlowRef] = {}
    for row in rows:
        spec = wanted[row.sid]
        revision: int | None
        if row.sid in pinned:
            revision = pinned[row.sid]
        elif spec.isdigit():
            revision = int(spec)
        elif spec in LATEST_DRAFT and ex.test_user:
            revision = row.latest_revision
        else:
            revision = row.latest_published
        if revision is None:
            continue
        try:
            flow = definition(conn, row.sid, revision)
        except NotFound:
            continue
        subflows[row.sid] = FlowRef(row.sid, revision, flow)
    return Bundle(main, subflows, widgets=WIDGETS)
