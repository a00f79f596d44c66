"""Run Subflow: run another flow inline, then come back.

``flow_sid`` (a literal ``FW...`` SID, no Liquid) names the subflow and
``flow_revision`` which revision the runtime loads (``LatestPublished``,
``LatestRevision`` for the latest draft, or a revision number as a string); all Run
Subflow widgets of a flow that name the same subflow should ask for the same revision.
``parameters`` (``{key, value}``, values rendered with Liquid, passed as strings) become
``trigger.parent.parameters.<key>`` in the subflow.

The engine runs the subflow in the same execution, from its Trigger's ``incomingParent``
transition, sharing the 1,000-step budget. When the subflow ends (a transition without
``next``) the widget takes ``completed`` and ``widgets.<name>.<key>`` holds every
variable the subflow set with Set Variables (its ``flow.variables``). It takes
``failed`` (warning 81024) when the subflow cannot run: not available, or called from
inside another subflow (nesting depth is 1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from callboard.contract.widget import OFFSET, EnterSubflow, EventSpec, Outcome, Prop, Run, Widget
from callboard.widgets.common import key_values

__all__ = ["WIDGET", "RunSubflow", "revision_selector"]

FLOW_SID = re.compile(r"FW[0-9a-fA-F]{32}")
REVISION_SELECTORS = ("LatestPublished", "LatestRevision")


class RunSubflow(Widget):
    type = "run-subflow"
    label = "Run Subflow"
    group = "Tools & Execute Code"
    description = "Runs another flow as a subflow and continues when it ends."
    events = (EventSpec("completed", "Completed"), EventSpec("failed", "Failed"))
    props = (
        OFFSET,
        Prop("flow_sid", required=True, liquid=False, label="Subflow", help="FW... (no Liquid)."),
        Prop(
            "flow_revision",
            default="LatestPublished",
            also=("integer",),
            liquid=False,
            label="Subflow revision",
            help="LatestPublished, LatestRevision (the latest draft) or a revision number.",
        ),
        Prop(
            "parameters",
            kind="key_values",
            editor="key_values",
            label="Subflow parameters",
            help="Available in the subflow as {{trigger.parent.parameters.<key>}}.",
        ),
    )

    def start(self, run: Run) -> Outcome:
        flow_sid = str(run.prop("flow_sid") or "").strip()
        return EnterSubflow(flow_sid, dict(key_values(run, "parameters")))

    def extra_checks(self, properties: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        sid = properties.get("flow_sid")
        if isinstance(sid, str) and not FLOW_SID.fullmatch(sid.strip()):
            problems.append(("properties/flow_sid", "must be a valid, non-liquid flow sid"))
        revision = properties.get("flow_revision")
        if isinstance(revision, bool):
            return problems
        if isinstance(revision, int):
            ok = revision >= 1
        elif isinstance(revision, str):
            ok = revision in REVISION_SELECTORS or (revision.isdigit() and int(revision) >= 1)
        else:
            return problems
        if not ok:
            problems.append(
                (
                    "properties/flow_revision",
                    "must be LatestPublished, LatestRevision or a revision number",
                )
            )
        return problems


def revision_selector(value: Any) -> str | int:
    """``flow_revision`` as the runtime uses it: ``"LatestPublished"`` (also for a
    missing or unreadable value), ``"LatestRevision"``, or a revision number."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit() and int(text) >= 1:
            return int(text)
        if text == "LatestRevision":
            return text
    return "LatestPublished"


WIDGET = RunSubflow()
