"""Bundle loading for the runner (:mod:`callboard.runtime.runner`).

A :class:`~callboard.engine.Bundle` is the revision an execution runs plus the subflows
its Run Subflow widgets name: a subflow already entered keeps its pinned revision, else
the widget's ``flow_revision`` (a number, or "latest" for test users), else the latest
published revision. Parsed definitions come from a shared LRU.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

from callboard.engine.state import Bundle, FlowRef
from callboard.flow.model import FlowDefinition
from callboard.runtime.definitions import DefinitionCache
from callboard.runtime.loaded import LoadedExecution
from callboard.runtime.records import NotFound
from callboard.store.flows import definition_text, flow_revision_numbers
from callboard.widgets.registry import WIDGETS

__all__ = ["LATEST_DRAFT", "load_bundle", "load_definition"]

LATEST_DRAFT = ("LatestRevision", "LatestDraft", "latest_revision", "latest")


def load_definition(
    conn: Connection, definitions: DefinitionCache, flow_sid: str, revision: int
) -> FlowDefinition:
    def text() -> str:
        value = definition_text(conn, flow_sid, revision)
        if value is None:
            raise NotFound("Flow revision", f"{flow_sid}/{revision}")
        return value

    return definitions.get(flow_sid, revision, text)


def load_bundle(
    conn: Connection,
    ex: LoadedExecution,
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
    rows = flow_revision_numbers(conn, ex.account_sid, list(wanted))
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
