"""End to end, with twilio-python against a real ``callboard serve`` (SQLite and
PostgreSQL): the Studio fidelity fixes of issue 13 as a script using Twilio's helper
library sees them."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.e2e.server import Server, database, running_server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

OFFSET = {"offset": {"x": 0, "y": 0}}


def trigger(rest: str | None = None, parent: str | None = None) -> dict[str, Any]:
    nexts = {"incomingRequest": rest, "incomingParent": parent}
    transitions = [
        {"event": e, **({"next": nexts[e]} if nexts.get(e) else {})}
        for e in (
            "incomingMessage",
            "incomingCall",
            "incomingConversationMessage",
            "incomingRequest",
            "incomingParent",
        )
    ]
    return {"name": "Trigger", "type": "trigger", "transitions": transitions, "properties": OFFSET}


def flow(
    *states: dict[str, Any], rest: str | None = None, parent: str | None = None
) -> dict[str, Any]:
    return {
        "description": "e2e",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [trigger(rest, parent), *copy.deepcopy(list(states))],
    }


def set_vars(name: str, nxt: str | None = None, **values: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": "set-variables",
        "transitions": [{"event": "next", **({"next": nxt} if nxt else {})}],
        "properties": {"variables": [{"key": k, "value": v} for k, v in values.items()], **OFFSET},
    }


ASK = {
    "name": "ask",
    "type": "send-and-wait-for-reply",
    "transitions": [
        {"event": "incomingMessage"},
        {"event": "timeout"},
        {"event": "deliveryFailure"},
    ],
    "properties": {"body": "Hi?", "timeout": "3600", **OFFSET},
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp(f"fidelity-{request.param}")
    with database(request.param, tmp) as url, running_server(url, tmp) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server: Server) -> Client:
    c = Client(server.account_sid, server.auth_token)
    c.studio.base_url = server.url
    return c


def rest_error(fn: Callable[[], Any]) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as info:
        fn()
    return info.value


def test_subflow_steps_carry_the_run_subflow_step_sid(client: Client) -> None:
    v2 = client.studio.v2
    child = v2.flows.create(
        friendly_name="child",
        status="published",
        definition=flow(
            set_vars("inside", "second", a="1"), set_vars("second", b="2"), parent="inside"
        ),
    )
    run = {
        "name": "run",
        "type": "run-subflow",
        "transitions": [{"event": "completed", "next": "after"}, {"event": "failed"}],
        "properties": {
            "flow_sid": child.sid,
            "flow_revision": "LatestPublished",
            "parameters": [],
            **OFFSET,
        },
    }
    parent = v2.flows.create(
        friendly_name="parent",
        status="published",
        definition=flow(run, set_vars("after", c="3"), rest="run"),
    )
    ex = v2.flows(parent.sid).executions.create(to="+15550100001", from_="+15550100002")
    steps = v2.flows(parent.sid).executions(ex.sid).steps.list()
    by_from = {(s.transitioned_from, s.parent_step_sid is None): s for s in steps}
    run_step = by_from[("run", True)]
    assert run_step.type == "run-subflow" and run_step.name == "completed"
    inside = [s for s in steps if s.parent_step_sid is not None]
    assert sorted(s.transitioned_from for s in inside) == ["Trigger", "inside", "second"]
    assert {s.parent_step_sid for s in inside} == {run_step.sid}
    assert by_from[("after", True)].parent_step_sid is None
    # the fetch says the same
    one = v2.flows(parent.sid).executions(ex.sid).steps(inside[0].sid).fetch()
    assert one.parent_step_sid == run_step.sid
