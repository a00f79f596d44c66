"""End to end: a real ``callboard serve`` process, local webhook receivers, Redis, and
twilio-python driving the Events API (``client.events.base_url``) and Studio v2.

On SQLite and on PostgreSQL (skipped when PostgreSQL is unreachable, failing under
``CI=true``)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from callboard.events.envelope import EXECUTION_ENDED, EXECUTION_STARTED, STEP_ENDED
from tests.e2e.server import Server, database, running_server
from tests.events.conftest import REDIS_URL, Receiver, redis_or_skip, two_step_flow
from tests.runtime.conftest import ask_flow

pytestmark = pytest.mark.slow

ALL_TYPES = [
    {"type": t, "schema_version": 2} for t in (EXECUTION_STARTED, STEP_ENDED, EXECUTION_ENDED)
]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp(f"events-{request.param}")
    with database(request.param, tmp) as url, running_server(url, tmp) as srv:
        yield srv


def client_for(server: Server, sid: str, token: str) -> Client:
    client = Client(sid, token)
    client.events.base_url = server.url
    client.studio.base_url = server.url
    return client


@pytest.fixture(scope="module")
def twilio(server: Server) -> Client:
    return client_for(server, server.account_sid, server.auth_token)


def new_account(server: Server) -> tuple[str, str]:
    out = subprocess.run(
        [sys.executable, "-m", "callboard.cli", "accounts", "create", "--json"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data = json.loads(out.stdout)
    return data["account_sid"], data["auth_token"]


def wait_for(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the events")
        time.sleep(0.1)


def webhook_sink(
    client: Client, receiver: Receiver, types: list[dict[str, Any]], batch: bool = True
) -> str:
    sink = client.events.v1.sinks.create(
        description="receiver",
        sink_configuration={
            "destination": receiver.url + "/events",
            "method": "POST",
            "batch_events": batch,
        },
        sink_type="webhook",
    )
    client.events.v1.subscriptions.create(description="all", sink_sid=sink.sid, types=types)
    return str(sink.sid)


def expected_events(
    client: Client, flow_sid: str, execution_sids: list[str]
) -> set[tuple[str, str]]:
    """What must arrive: (type, execution or step SID) for every change the server made."""
    out: set[tuple[str, str]] = set()
    for ex_sid in execution_sids:
        ex = client.studio.v2.flows(flow_sid).executions(ex_sid).fetch()
        out.add((EXECUTION_STARTED, ex_sid))
        if ex.status == "ended":
            out.add((EXECUTION_ENDED, ex_sid))
        for step in client.studio.v2.flows(flow_sid).executions(ex_sid).steps.list():
            out.add((STEP_ENDED, step.sid))
    return out


def keys(events: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {
        (e["type"], e["data"].get("step_sid") or e["data"]["execution_sid"])
        for e in events
        if e["type"].startswith("com.twilio.studio.")
    }


def test_every_event_of_a_conversation_arrives_signed(twilio: Client, server: Server) -> None:
    receiver = Receiver()
    try:
        webhook_sink(twilio, receiver, ALL_TYPES)
        flow = twilio.studio.v2.flows.create(
            friendly_name="Ask", status="published", definition=ask_flow()
        )
        quick = twilio.studio.v2.flows.create(
            friendly_name="Quick", status="published", definition=two_step_flow()
        )
        waiting = twilio.studio.v2.flows(flow.sid).executions.create(
            to="+15550101", from_="+15550100"
        )
        twilio.studio.v2.flows(flow.sid).executions(waiting.sid).update(status="ended")
        done = [
            twilio.studio.v2.flows(quick.sid)
            .executions.create(to=f"+1555020{i}", from_="+15550100")
            .sid
            for i in range(3)
        ]
        want = expected_events(twilio, flow.sid, [waiting.sid]) | expected_events(
            twilio, quick.sid, done
        )
        wait_for(lambda: want <= keys(receiver.events()))
        validator = RequestValidator(server.auth_token)
        for req in receiver.requests:
            assert validator.validate(
                receiver.url + req.path, req.body.decode(), req.headers["X-Twilio-Signature"]
            )
        ended = [
            e
            for e in receiver.events()
            if e["type"] == EXECUTION_ENDED and e["data"]["execution_sid"] == waiting.sid
        ]
        assert ended[0]["data"]["ended_reason"] == "ENDED_BY_API"
        assert ended[0]["data"]["contact_channel_address"] == "+15550101"
    finally:
        receiver.close()


def test_a_receiver_that_fails_for_a_while_loses_nothing(twilio: Client) -> None:
    receiver = Receiver()
    receiver.fail_next = 4
    try:
        sink_sid = webhook_sink(twilio, receiver, ALL_TYPES, batch=False)
        quick = twilio.studio.v2.flows.create(
            friendly_name="Quick", status="published", definition=two_step_flow()
        )
        done = [
            twilio.studio.v2.flows(quick.sid)
            .executions.create(to=f"+1555030{i}", from_="+15550100")
            .sid
            for i in range(3)
        ]
        want = expected_events(twilio, quick.sid, done)
        wait_for(lambda: want <= keys(receiver.events()))
        assert receiver.fail_next == 0  # it did fail first
        assert twilio.events.v1.sinks(sink_sid).fetch().status == "active"
    finally:
        receiver.close()


def test_subscriptions_filter_by_type_and_accounts_are_isolated(
    twilio: Client, server: Server
) -> None:
    mine, theirs = Receiver(), Receiver()
    try:
        webhook_sink(twilio, mine, [{"type": EXECUTION_ENDED, "schema_version": 2}])
        other_sid, other_token = new_account(server)
        other = client_for(server, other_sid, other_token)
        webhook_sink(other, theirs, ALL_TYPES)
        quick = twilio.studio.v2.flows.create(
            friendly_name="Quick", status="published", definition=two_step_flow()
        )
        ex = twilio.studio.v2.flows(quick.sid).executions.create(to="+15550401", from_="+15550100")
        their_flow = other.studio.v2.flows.create(
            friendly_name="Theirs", status="published", definition=two_step_flow()
        )
        their_ex = other.studio.v2.flows(their_flow.sid).executions.create(
            to="+15550402", from_="+15550100"
        )
        wait_for(lambda: (EXECUTION_ENDED, ex.sid) in keys(mine.events()))
        wait_for(lambda: (EXECUTION_ENDED, their_ex.sid) in keys(theirs.events()))
        time.sleep(1.0)  # give stray deliveries a chance to show up
        assert {e["type"] for e in mine.events()} == {EXECUTION_ENDED}
        assert {e["data"]["account_sid"] for e in mine.events()} == {server.account_sid}
        assert {e["data"]["account_sid"] for e in theirs.events()} == {other_sid}
        assert ex.sid not in {e["data"]["execution_sid"] for e in theirs.events()}
        # And the API itself: the other account cannot see this account's sinks.
        assert {s.sid for s in other.events.v1.sinks.list()}.isdisjoint(
            {s.sid for s in twilio.events.v1.sinks.list()}
        )
    finally:
        mine.close()
        theirs.close()


def test_sink_test_event_and_validate_through_twilio_python(twilio: Client) -> None:
    receiver = Receiver()
    try:
        sink = twilio.events.v1.sinks.create(
            description="to validate",
            sink_type="webhook",
            sink_configuration={
                "destination": receiver.url + "/",
                "method": "POST",
                "batch_events": False,
            },
        )
        assert sink.status == "initialized"
        assert twilio.events.v1.sinks(sink.sid).sink_test.create().result == "submitted"
        wait_for(lambda: bool(receiver.events()))
        [test] = receiver.events()
        assert test["type"] == "com.twilio.eventstreams.test-event"
        result = twilio.events.v1.sinks(sink.sid).sink_validate.create(
            test_id=test["data"]["test_id"]
        )
        assert result.result == "valid"
        assert twilio.events.v1.sinks(sink.sid).fetch().status == "active"
        types = {t.type for t in twilio.events.v1.event_types.list()}
        assert types == {EXECUTION_STARTED, STEP_ENDED, EXECUTION_ENDED}
        sub = twilio.events.v1.subscriptions.create(
            description="d", sink_sid=sink.sid, types=[{"type": STEP_ENDED}]
        )
        listed = twilio.events.v1.subscriptions.list(sink_sid=sink.sid)
        assert [s.sid for s in listed] == [sub.sid]
        assert [
            t.type for t in twilio.events.v1.subscriptions(sub.sid).subscribed_events.list()
        ] == [STEP_ENDED]
        assert twilio.events.v1.subscriptions(sub.sid).delete() is True
        assert twilio.events.v1.sinks(sink.sid).delete() is True
    finally:
        receiver.close()


def test_redis_stream_sink_gets_the_events(twilio: Client, tmp_path: Path) -> None:
    redis = redis_or_skip()
    stream = f"callboard-e2e-{time.time_ns()}"
    try:
        sink = twilio.events.v1.sinks.create(
            description="redis",
            sink_type="redis-stream",
            sink_configuration={"url": REDIS_URL, "stream": stream, "maxlen": 10000},
        )
        twilio.events.v1.subscriptions.create(description="all", sink_sid=sink.sid, types=ALL_TYPES)
        quick = twilio.studio.v2.flows.create(
            friendly_name="Quick", status="published", definition=two_step_flow()
        )
        ex = twilio.studio.v2.flows(quick.sid).executions.create(to="+15550501", from_="+15550100")
        want = expected_events(twilio, quick.sid, [ex.sid])

        def got() -> set[tuple[str, str]]:
            return keys([json.loads(f[b"event"]) for _, f in redis.xrange(stream)])

        wait_for(lambda: want <= got())
    finally:
        redis.delete(stream)
        redis.close()
