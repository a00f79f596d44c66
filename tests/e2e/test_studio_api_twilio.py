"""End to end: the official twilio helper library drives all 19 Studio v2 operations
against a real ``callboard serve`` process, on SQLite and on PostgreSQL.

The only change to the client is ``client.studio.base_url``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.e2e.server import Server, database, running_server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

TRIGGER = {
    "name": "Trigger",
    "type": "trigger",
    "transitions": [
        {"event": "incomingMessage"},
        {"event": "incomingCall"},
        {"event": "incomingConversationMessage"},
        {"event": "incomingRequest", "next": "greet"},
        {"event": "incomingParent"},
    ],
    "properties": {"offset": {"x": 0, "y": 0}},
}
GREET = {
    "name": "greet",
    "type": "send-message",
    "transitions": [{"event": "sent"}, {"event": "failed"}],
    "properties": {"body": "Hello {{flow.data.name}}", "offset": {"x": 0, "y": 200}},
}
ASK = {
    "name": "greet",
    "type": "send-and-wait-for-reply",
    "transitions": [
        {"event": "incomingMessage"},
        {"event": "timeout"},
        {"event": "deliveryFailure"},
    ],
    "properties": {"body": "What is your name?", "timeout": "3600"},
}


def flow_definition(second: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": "e2e",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [copy.deepcopy(TRIGGER), copy.deepcopy(second)],
    }


SENDS = flow_definition(GREET)  # runs to the end at once
WAITS = flow_definition(ASK)  # stays active, waiting for a reply
INVALID = {**flow_definition(GREET), "initial_state": "Nowhere"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp(f"e2e-{request.param}")
    with database(request.param, tmp) as url, running_server(url, tmp) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server: Server) -> Client:
    c = Client(server.account_sid, server.auth_token)
    c.studio.base_url = server.url
    return c


def rest_error(fn: Any) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as info:
        fn()
    return info.value


def test_flows_revisions_validate_and_test_users(client: Client, server: Server) -> None:
    v2 = client.studio.v2
    # CreateFlow ×5 (201)
    created = [
        v2.flows.create(friendly_name=f"e2e {i}", status="published", definition=SENDS)
        for i in range(5)
    ]
    flow = created[0]
    assert flow.sid.startswith("FW") and flow.account_sid == server.account_sid
    assert isinstance(flow.date_created, datetime)
    assert flow.revision == 1 and flow.valid is True and flow.definition == SENDS
    assert flow.webhook_url == f"{server.url}/v1/Accounts/{server.account_sid}/Flows/{flow.sid}"
    assert flow.links["executions"] == f"{server.url}/v2/Flows/{flow.sid}/Executions"

    # ListFlow across pages: list(), stream() and explicit pages all see every flow once.
    want = [f.sid for f in reversed(created)]
    listed = [f.sid for f in v2.flows.list(page_size=2)]
    assert listed[:5] == want
    assert [f.sid for f in v2.flows.stream(page_size=2)][:5] == want
    assert [f.sid for f in v2.flows.list(page_size=2, limit=3)] == want[:3]
    page = v2.flows.page(page_size=2)
    sids = [f.sid for f in page]
    while (page := page.next_page()) is not None:
        sids += [f.sid for f in page]
    assert sids[:5] == want
    assert all(f.definition is None for f in v2.flows.list(page_size=2))

    # FetchFlow, UpdateFlow
    fetched = v2.flows(flow.sid).fetch()
    assert fetched.friendly_name == "e2e 0" and fetched.definition == SENDS
    updated = v2.flows(flow.sid).update(
        status="draft", friendly_name="renamed", definition=WAITS, commit_message="second"
    )
    assert (updated.revision, updated.status, updated.friendly_name) == (2, "draft", "renamed")
    assert updated.commit_message == "second"

    # ListFlowRevision, FetchFlowRevision (number, LatestPublished, LatestRevision)
    assert [r.revision for r in v2.flows(flow.sid).revisions.list(page_size=1)] == [2, 1]
    assert v2.flows(flow.sid).revisions("1").fetch().definition == SENDS
    assert v2.flows(flow.sid).revisions("LatestPublished").fetch().revision == 1
    latest = v2.flows(flow.sid).revisions("LatestRevision").fetch()
    assert (latest.revision, latest.definition) == (2, WAITS)

    # UpdateFlowValidate: valid, then 81022 with details
    ok = v2.flow_validate.update(friendly_name="v", status="draft", definition=SENDS)
    assert ok.valid is True
    err = rest_error(
        lambda: v2.flow_validate.update(friendly_name="v", status="draft", definition=INVALID)
    )
    assert (err.status, err.code) == (400, 81022)
    assert err.details and err.details["errors"][0]["property_path"].startswith("#")
    err = rest_error(
        lambda: v2.flows.create(friendly_name="bad", status="published", definition=INVALID)
    )
    assert (err.status, err.code) == (400, 81022)

    # FetchTestUser, UpdateTestUser
    assert v2.flows(flow.sid).test_users().fetch().test_users == []
    users = v2.flows(flow.sid).test_users().update(test_users=["+15551230000", "client:ann"])
    assert users.test_users == ["+15551230000", "client:ann"]
    assert v2.flows(flow.sid).test_users().fetch().test_users == ["+15551230000", "client:ann"]

    # 404s
    missing = "FW" + "0" * 32
    err = rest_error(lambda: v2.flows(missing).fetch())
    assert (err.status, err.code) == (404, 20404)
    err = rest_error(lambda: v2.flows(flow.sid).revisions("7").fetch())
    assert (err.status, err.code) == (404, 20404)

    # DeleteFlow (204 → True), then it is gone
    for f in created[1:]:
        assert v2.flows(f.sid).delete() is True
    assert rest_error(lambda: v2.flows(created[1].sid).fetch()).status == 404


def test_executions_context_steps(client: Client, server: Server) -> None:
    v2 = client.studio.v2
    sends = v2.flows.create(friendly_name="sends", status="published", definition=SENDS)
    waits = v2.flows.create(friendly_name="waits", status="published", definition=WAITS)
    executions = v2.flows(sends.sid).executions

    # CreateExecution (201) with To, From, Parameters
    ex = executions.create(to="+15551230000", from_="+15550001111", parameters={"name": "Zeke"})
    assert ex.sid.startswith("FN") and ex.flow_sid == sends.sid
    assert ex.contact_channel_address == "+15551230000" and ex.flow_version == 1
    assert ex.status == "ended"
    assert isinstance(ex.date_created, datetime)

    # FetchExecution, FetchExecutionContext
    assert executions(ex.sid).fetch().sid == ex.sid
    ctx = executions(ex.sid).execution_context().fetch()
    assert ctx.execution_sid == ex.sid and ctx.context["flow"]["data"] == {"name": "Zeke"}

    # ListExecutionStep, FetchExecutionStep, FetchExecutionStepContext
    steps = executions(ex.sid).steps.list(page_size=1)
    assert len(steps) >= 2
    assert steps[0].transitioned_from == "Trigger" and steps[0].name == "incomingRequest"
    assert steps[-1].transitioned_to == "Ended"
    step = executions(ex.sid).steps(steps[0].sid).fetch()
    assert step.sid == steps[0].sid and step.type == "trigger"
    sctx = executions(ex.sid).steps(steps[0].sid).step_context().fetch()
    assert sctx.step_sid == steps[0].sid and isinstance(sctx.context, dict)

    # An active execution: 409 on a second create for the same contact
    w = v2.flows(waits.sid).executions
    active = w.create(to="+15557770000", from_="+15550001111")
    assert active.status == "active"
    err = rest_error(lambda: w.create(to="+15557770000", from_="+15550001111"))
    assert (err.status, err.code) == (409, 20409)
    assert err.details == {"conflicting_execution_sid": active.sid}
    others = [w.create(to=f"+1555888000{i}", from_="+15550001111") for i in range(3)]

    # ListExecution: newest first, status and date filters, across pages
    all_sids = [e.sid for e in w.list(page_size=2)]
    assert all_sids == [o.sid for o in reversed(others)] + [active.sid]

    # UpdateExecution Status=ended, then 409 when ending it again
    ended = w(active.sid).update(status="ended")
    assert ended.status == "ended"
    err = rest_error(lambda: w(active.sid).update(status="ended"))
    assert (err.status, err.code) == (409, 20409)

    assert [e.sid for e in w.list(status="ended")] == [active.sid]
    assert [e.sid for e in w.list(status="active", page_size=1)] == [
        o.sid for o in reversed(others)
    ]
    now = datetime.now(UTC)
    assert len(w.list(date_created_from=now - timedelta(hours=1))) == 4
    assert w.list(date_created_from=now + timedelta(hours=1)) == []
    assert w.list(date_created_to=now - timedelta(hours=1)) == []

    # DeleteExecution (204) with its steps
    assert executions(ex.sid).delete() is True
    assert rest_error(lambda: executions(ex.sid).fetch()).status == 404
    assert rest_error(lambda: executions(ex.sid).steps(steps[0].sid).fetch()).status == 404
    missing = "FN" + "0" * 32
    err = rest_error(lambda: executions(missing).execution_context().fetch())
    assert (err.status, err.code) == (404, 20404)


def test_bad_credentials_are_rejected(server: Server) -> None:
    c = Client(server.account_sid, "wrong-token")
    c.studio.base_url = server.url
    err = rest_error(lambda: c.studio.v2.flows("FW" + "0" * 32).fetch())
    assert (err.status, err.code) == (401, 20003)
