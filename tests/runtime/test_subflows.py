"""Run Subflow: which subflow revision the runtime loads (flow_revision + test users)."""

from __future__ import annotations

from typing import Any

import pytest

from callboard.runtime.records import Account
from callboard.runtime.service import Callboard
from tests.runtime.conftest import widget

TRIGGER: dict[str, Any] = {
    "name": "Trigger",
    "type": "trigger",
    "transitions": [
        {"event": "incomingMessage"},
        {"event": "incomingCall"},
        {"event": "incomingConversationMessage"},
        {"event": "incomingRequest", "next": "first"},
        {"event": "incomingParent", "next": "first"},
    ],
    "properties": {"offset": {"x": 0, "y": 0}},
}


def _child(value: str) -> dict[str, Any]:
    return {
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            TRIGGER,
            widget(
                "first",
                "set-variables",
                {"variables": [{"key": "answer", "value": value}]},
                next=None,
            ),
        ],
    }


def _parent(child_sid: str, revision: str) -> dict[str, Any]:
    return {
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            TRIGGER,
            widget(
                "first",
                "run-subflow",
                {"flow_sid": child_sid, "flow_revision": revision, "parameters": []},
                completed=None,
                failed=None,
            ),
        ],
    }


@pytest.mark.parametrize(
    ("revision", "live", "tester"),
    [
        ("LatestPublished", "v1", "v1"),
        ("LatestRevision", "v1", "v2"),  # only test users get the subflow's draft
        ("2", "v2", "v2"),  # a pinned revision, draft or not
    ],
)
def test_subflow_revision_choice(
    service: Callboard, account: Account, revision: str, live: str, tester: str
) -> None:
    child = service.create_flow(
        account.sid, friendly_name="child", status="published", definition=_child("v1")
    )
    service.update_flow(account.sid, child.sid, status="draft", definition=_child("v2"))
    parent = service.create_flow(
        account.sid,
        friendly_name="parent",
        status="published",
        definition=_parent(child.sid, revision),
    )
    service.update_test_users(account.sid, parent.sid, ["+tester"])
    got = {}
    for contact in ("+live", "+tester"):
        ex = service.create_execution(account.sid, parent.sid, to=contact, from_="+2")
        assert ex.status == "ended", ex
        got[contact] = ex.context["widgets"]["first"].get("answer")
    assert got == {"+live": live, "+tester": tester}
    steps = service.list_steps(account.sid, parent.sid, ex.sid).items
    assert any(s.subflow_sid == child.sid for s in steps)


def test_subflow_of_another_account_is_not_loaded(
    service: Callboard, account: Account, other: Account
) -> None:
    child = service.create_flow(
        other.sid, friendly_name="theirs", status="published", definition=_child("secret")
    )
    parent = service.create_flow(
        account.sid,
        friendly_name="parent",
        status="published",
        definition=_parent(child.sid, "LatestPublished"),
    )
    ex = service.create_execution(account.sid, parent.sid, to="+1", from_="+2")
    steps = service.list_steps(account.sid, parent.sid, ex.sid).items
    assert steps[-1].name == "failed" and "secret" not in str(ex.context)
