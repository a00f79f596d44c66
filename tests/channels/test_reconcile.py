"""An interrupted send is reconciled with the provider before it is sent again
(issue 12): a worker killed between Twilio accepting a message (or a call) and its
commit leaves the job ``running``; whoever takes it over after the lease looks it up
(the Twilio stand-in's Messages / Calls lists) and sends only what never went out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from callboard.channels.config import ChannelConfig
from callboard.commands.compose import build_services
from callboard.runtime.outbox import perform_job
from callboard.runtime.service import Callboard
from callboard.runtime.worker import Worker
from callboard.store import tables as t
from callboard.store.outbox import claim_jobs
from callboard.store.values import to_db_time
from tests.e2e.test_channels_calls import outbound_flow
from tests.e2e.twilio_standin import StandIn, twilio_standin
from tests.runtime.conftest import send_flow


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with twilio_standin() as found:
        yield found


@pytest.fixture
def service(db_url: str, standin: StandIn) -> Iterator[Callboard]:
    config = ChannelConfig("AC" + "5" * 32, "token", standin.url, False, "http://cb.test")
    services = build_services(db_url, channel_config=config)
    yield services.callboard
    services.close()


def _interrupted(service: Callboard, *, sent: bool) -> None:
    """Claim the one pending job as a worker would; with ``sent``, perform it (the
    provider accepts it); then the worker dies: its lease runs out, nothing recorded."""
    now = service.env.now()
    with service.db.write() as conn:
        jobs = claim_jobs(
            conn, to_db_time(now), to_db_time(now + timedelta(seconds=60)), 1, skip_locked=False
        )
    assert len(jobs) == 1
    if sent:
        perform_job(service.outbox, jobs[0], None)
    with service.db.write() as conn:  # the lease ran out
        conn.execute(update(t.outbox).values(available_at=to_db_time(now - timedelta(seconds=1))))


def _status(service: Callboard) -> list[str]:
    with service.db.read() as conn:
        return list(conn.execute(select(t.outbox.c.status)).scalars())


@pytest.mark.parametrize("sent", [True, False])
def test_an_interrupted_message_is_sent_once(
    service: Callboard, standin: StandIn, sent: bool
) -> None:
    account = service.create_account("twilio")
    flow = service.create_flow(
        account.sid, friendly_name="f", status="published", definition=send_flow("Hi")
    )
    execution = service.create_execution(account.sid, flow.sid, to="+15551230001", from_="+1555")
    _interrupted(service, sent=sent)
    assert len(standin.sent()) == int(sent)
    Worker(service).run_once()
    assert len(standin.sent()) == 1  # once, whether or not the crash came after the send
    assert standin.lookups  # the provider was asked first
    assert _status(service) == ["done"]
    ended = service.fetch_execution(account.sid, flow.sid, execution.sid)
    assert ended.status == "ended"
    with service.db.read() as conn:
        sids = list(conn.execute(select(t.messages.c.sid)).scalars())
    assert sids == [standin.created("Messages")[0][0]]  # Twilio's SID recorded


@pytest.mark.parametrize("sent", [True, False])
def test_an_interrupted_call_is_placed_once(
    service: Callboard, standin: StandIn, sent: bool
) -> None:
    account = service.create_account("twilio")
    flow = service.create_flow(
        account.sid, friendly_name="f", status="published", definition=outbound_flow()
    )
    service.create_execution(account.sid, flow.sid, to="+15551230002", from_="+15550009999")
    _interrupted(service, sent=sent)
    if sent:  # the crash came after Twilio accepted the call, before the calls row
        with service.db.write() as conn:
            conn.execute(t.calls.delete())
    Worker(service).run_once()
    assert len(standin.created("Calls")) == 1
    with service.db.read() as conn:
        calls = list(conn.execute(select(t.calls.c.sid)).scalars())
    assert calls == [standin.created("Calls")[0][0]]


def test_a_job_that_was_never_interrupted_is_not_looked_up(
    service: Callboard, standin: StandIn
) -> None:
    account = service.create_account("twilio")
    flow = service.create_flow(
        account.sid, friendly_name="f", status="published", definition=send_flow("Hi")
    )
    service.create_execution(account.sid, flow.sid, to="+15551230003", from_="+1555")
    Worker(service).run_once()
    assert len(standin.sent()) == 1 and standin.lookups == []


def test_a_provider_that_cannot_tell_gets_asked_again_never_a_blind_send(
    service: Callboard, standin: StandIn
) -> None:
    account = service.create_account("twilio")
    flow = service.create_flow(
        account.sid, friendly_name="f", status="published", definition=send_flow("Hi")
    )
    service.create_execution(account.sid, flow.sid, to="+15551230004", from_="+1555")
    _interrupted(service, sent=True)
    standin.fail_lookups = True
    Worker(service).run_once()
    assert len(standin.sent()) == 1 and len(standin.lookups) == 1  # asked, not re-sent
    assert _status(service) == ["running"]  # still unsure
    standin.fail_lookups = False
    with service.db.write() as conn:  # its back-off passed
        conn.execute(update(t.outbox).values(available_at=to_db_time(service.env.now())))
    Worker(service).run_once()
    assert len(standin.sent()) == 1 and len(standin.lookups) == 2  # asked again: found
    assert _status(service) == ["done"]


@pytest.mark.parametrize("sent", [True, False])
def test_an_interrupted_conversation_message_is_posted_once(
    service: Callboard, standin: StandIn, sent: bool
) -> None:
    """The Conversations API has no Messages list by To/From: the Conversation's own
    messages are looked up (author, body, time)."""
    account = service.create_account("twilio")
    definition = send_flow("Hi there")
    for transition in definition["states"][0]["transitions"]:
        if transition["event"] == "incomingConversationMessage":
            transition["next"] = "first"
    flow = service.create_flow(
        account.sid, friendly_name="f", status="published", definition=definition
    )
    conversation = "CH" + "a" * 32
    params = {
        "EventType": "onMessageAdded",
        "ConversationSid": conversation,
        "MessageSid": "IM" + "b" * 32,
        "Author": "ann",
        "Body": "hello",
    }
    result = service.inbound.inbound_conversation(account.sid, flow.sid, params)
    _interrupted(service, sent=sent)
    posted = standin.created("ConversationMessages")
    assert len(posted) == int(sent)
    Worker(service).run_once()
    posted = standin.created("ConversationMessages")
    assert len(posted) == 1  # once, whether or not the crash came after the post
    assert posted[0][1]["Conversation"] == conversation and posted[0][1]["Body"] == "Hi there"
    assert any("/Conversations/" in path for path, _ in standin.lookups)
    assert _status(service) == ["done"]
    assert service.fetch_execution(account.sid, flow.sid, result.execution_sid).status == "ended"
    with service.db.read() as conn:
        sids = list(conn.execute(select(t.messages.c.sid)).scalars())
    assert posted[0][0] in sids  # the Conversation message's SID recorded
