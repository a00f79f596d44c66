"""End to end, with twilio-python against a real ``callboard serve`` (SQLite and
PostgreSQL): the Studio fidelity fixes of issue 13 as a script using Twilio's helper
library sees them."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
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


def test_revisions_rename_and_bad_parameters(client: Client) -> None:
    v2 = client.studio.v2
    f = v2.flows.create(
        friendly_name="before", status="published", definition=flow(), commit_message="one"
    )
    renamed = v2.flows(f.sid).update(status="published", friendly_name="after")
    assert (renamed.revision, renamed.friendly_name) == (2, "after")
    revisions = v2.flows(f.sid).revisions.list()
    assert [(r.revision, r.friendly_name) for r in revisions] == [(2, "after"), (1, "before")]
    assert revisions[-1].commit_message == "one"
    assert all(r.valid is True and r.definition is None for r in revisions)
    # Parameters that are not a JSON object: 84004, Twilio's body
    raw = client.request(
        "POST",
        f"{client.studio.base_url}/v2/Flows/{f.sid}/Executions",
        data={"To": "+15550100001", "From": "+15550100002", "Parameters": "[1, 2]"},
    )
    assert raw.status_code == 400
    body = json.loads(raw.text)
    assert (body["code"], body["status"]) == (84004, 400)
    assert body["message"].startswith("Error while creating execution via REST API")


def test_one_active_execution_per_to_from_combination(client: Client) -> None:
    v2 = client.studio.v2
    f = v2.flows.create(friendly_name="waits", status="published", definition=flow(ASK, rest="ask"))
    ex = v2.flows(f.sid).executions
    a = ex.create(to="+15550110001", from_="+15550119001")
    b = ex.create(to="+15550110001", from_="+15550119002")  # same contact, another number
    assert a.status == b.status == "active" and a.sid != b.sid
    err = rest_error(lambda: ex.create(to="+15550110001", from_="+15550119001"))
    assert (err.status, err.code) == (409, 20409)
    assert err.details == {"conflicting_execution_sid": a.sid}


def set_limit(server: Server, *args: str) -> None:
    command = [sys.executable, "-m", "callboard.cli", "accounts", "set-limit", server.account_sid]
    subprocess.run([*command, *args], env=server.env, check=True, capture_output=True, timeout=120)


def test_rest_rate_limit_answers_429(client: Client, server: Server) -> None:
    set_limit(server, "--per-second", "1")
    try:
        v2 = client.studio.v2
        f = v2.flows.create(friendly_name="limited", status="published", definition=flow())
        ex = v2.flows(f.sid).executions
        error: TwilioRestException | None = None
        # one per second is allowed: of 30 creates in a row, some come within a second of
        # the one before (unless every create took over a second)
        for i in range(30):
            try:
                ex.create(to=f"+155501200{i:02d}", from_="+15550129000")
            except TwilioRestException as exc:
                error = exc
                break
        assert error is not None
        assert (error.status, error.code) == (429, 20429)
        assert "Too Many Requests" in str(error.msg)
    finally:
        set_limit(server, "--off")
