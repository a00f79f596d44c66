"""End to end: the Conversations channel and Send to Flex for messaging on a real
``callboard serve`` on the twilio channel (SQLite and PostgreSQL), with the Twilio
stand-in for the Conversations and Flex Interactions APIs: a signed ``onMessageAdded``
round trip, Start Conversation's scoped webhook resuming its execution, Flex tasks from
conversation and SMS executions, and the refusals (a bad workflow, an unknown
conversation)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from callboard.channels.call_driver import CallDriver
from callboard.channels.twiml_interpreter import Action, Connect
from tests.e2e.server import Server
from tests.e2e.test_channels import (  # the module's fixtures: a server per database
    TWILIO_SID,
    SignedCall,
    api,
    db_kind,
    executions,
    post_signed,
    publish,
    server,
    sms,
    standin,
    state,
    until,
    webhook,
)
from tests.e2e.twilio_standin import BAD_WORKFLOW, WORKSPACE, StandIn

__all__ = ["api", "db_kind", "server", "standin"]  # fixtures, used by name

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

SERVICE = "IS" + "5" * 32
WORKFLOW = "WW" + "1" * 32
TASK_CHANNEL = "TC" + "2" * 32


def trigger(**nexts: str) -> dict[str, Any]:
    events = ("incomingMessage", "incomingCall", "incomingConversationMessage")
    transitions = [{"event": e, **({"next": nexts[e]} if e in nexts else {})} for e in events]
    transitions += [
        {"event": "incomingRequest", **({"next": nexts["rest"]} if "rest" in nexts else {})},
        {"event": "incomingParent"},
    ]
    return {"name": "Trigger", "type": "trigger", "transitions": transitions, "properties": {}}


def flex(workflow: str = WORKFLOW) -> dict[str, Any]:
    return state(
        "flex",
        "send-to-flex",
        {"workflow": workflow, "channel": TASK_CHANNEL, "attributes": '{"q": "{{flow.sid}}"}'},
        callComplete="told",
        failedToEnqueue="refused",
        callFailure=None,
    )


ENDINGS = [
    state("told", "send-message", {"body": "Task {{widgets.flex.sid}}"}, sent=None),
    state(
        "refused",
        "send-message",
        {"body": "Refused {{widgets.flex.ErrorCode}}", "to": "+15550009999"},
        sent=None,
    ),
]

CONVERSATION_FLOW = {
    "description": "conversation",
    "initial_state": "Trigger",
    "states": [
        trigger(incomingConversationMessage="ask"),
        state(
            "ask",
            "send-and-wait-for-reply",
            {"body": "What is your name, {{trigger.conversation.Author}}?", "timeout": "60"},
            incomingMessage="hi",
            timeout=None,
            deliveryFailure=None,
        ),
        state(
            "hi",
            "send-message",
            {"body": "Hi {{widgets.ask.inbound.Body}} in {{trigger.conversation.ConversationSid}}"},
            sent="flex",
        ),
        flex(),
        *ENDINGS,
    ],
}


def onmessage(conversation: str, n: int, body: str, **extra: str) -> dict[str, str]:
    return {
        "EventType": "onMessageAdded",
        "AccountSid": TWILIO_SID,
        "ChatServiceSid": SERVICE,
        "ConversationSid": conversation,
        "MessageSid": f"IM{n:032x}",
        "MessageIndex": str(n),
        "Author": "+15551110000",
        "ParticipantSid": "MB" + "3" * 32,
        "Body": body,
        "Source": "SMS",
        "Attributes": "{}",
        "DateCreated": "2026-12-03T12:00:00.000Z",
        **extra,
    }


def posted(standin: StandIn, conversation: str) -> list[str]:
    """The bodies of the messages posted to ``conversation``, oldest first."""
    return [
        f.get("Body", "")
        for _, f in standin.created("ConversationMessages")
        if f.get("Conversation") == conversation
    ]


def test_conversation_round_trip(server: Server, api: httpx.Client, standin: StandIn) -> None:
    flow = publish(api, CONVERSATION_FLOW)
    ch = "CH" + "a" * 32
    url = webhook(server, flow)
    # a first message without ChatServiceSid, a reply with it: the slot is the
    # conversation alone
    first = {k: v for k, v in onmessage(ch, 1, "hello").items() if k != "ChatServiceSid"}
    r = post_signed(url, first)
    assert r.status_code == 200, r.text
    until("the question", lambda: posted(standin, ch) == ["What is your name, +15551110000?"])
    sent = next(f for _, f in standin.created("ConversationMessages") if f["Conversation"] == ch)
    assert sent["Author"] == "system"
    assert post_signed(url, first).status_code == 200  # a retry: processed once
    echo = onmessage(ch, 2, "What is your name?", Author="system", Source="API")
    assert post_signed(url, echo).status_code == 200  # the flow's own message: ignored
    other = {**onmessage(ch, 3, ""), "EventType": "onConversationUpdated"}
    assert post_signed(url, other).status_code == 200  # acknowledged, ignored
    assert post_signed(url, onmessage(ch, 4, "hi"), "wrong-token").status_code == 403
    for bad, field in (
        (onmessage("CH" + "x" * 500, 6, "hi"), "ConversationSid"),
        ({k: v for k, v in onmessage(ch, 7, "hi").items() if k != "MessageSid"}, "MessageSid"),
        ({k: v for k, v in onmessage(ch, 8, "hi").items() if k != "ConversationSid"}, "Conv"),
    ):
        r = post_signed(url, bad)
        assert r.status_code == 400 and field in r.json()["message"], r.text
    (ex,) = executions(api, flow)
    assert ex["contact_channel_address"] == ch and ex["status"] == "active"
    assert post_signed(url, onmessage(ch, 5, "Bob")).status_code == 200
    until("the greeting", lambda: f"Hi Bob in {ch}" in posted(standin, ch))
    until("the end", lambda: executions(api, flow)[0]["status"] == "ended")
    assert len(executions(api, flow)) == 1  # the reply resumed the same execution
    ctx = api.get(f"/v2/Flows/{flow}/Executions/{ex['sid']}/Context").json()["context"]
    assert ctx["trigger"]["conversation"]["Author"] == "+15551110000"
    assert ctx["trigger"]["conversation"]["From"] == "+15551110000"
    assert ctx["contact"]["channel"]["address"] == ch
    assert ctx["widgets"]["ask"]["inbound"]["Body"] == "Bob"
    assert ctx["widgets"]["ask"]["outbound"]["Sid"].startswith("IM")
    # Send to Flex: an Interaction on the conversation, then callComplete
    (task,) = [f for _, f in standin.created("Interactions") if ch in f.get("Channel", "")]
    channel, routing = json.loads(task["Channel"]), json.loads(task["Routing"])
    assert channel["properties"]["media_channel_sid"] == ch and channel["type"] == "sms"
    assert routing["properties"]["workflow_sid"] == WORKFLOW
    assert routing["properties"]["workspace_sid"] == WORKSPACE  # found from the workflow
    assert routing["properties"]["task_channel_sid"] == TASK_CHANNEL
    assert routing["properties"]["attributes"] == {"q": ex["sid"]}
    until("the task message", lambda: any(b.startswith("Task KD") for b in posted(standin, ch)))


def test_start_conversation_then_its_webhook_resumes_the_execution(
    server: Server, api: httpx.Client, standin: StandIn
) -> None:
    definition = {
        "description": "start conversation",
        "initial_state": "Trigger",
        "states": [
            trigger(rest="start"),
            state(
                "start",
                "start-conversation",
                {
                    "conversation_service_sid": SERVICE,
                    "friendly_name": "Support {{flow.data.name}}",
                    "participants": [
                        {
                            "type": "sms",
                            "messaging_binding_address": "{{contact.channel.address}}",
                            "messaging_binding_proxy_address": "{{flow.channel.address}}",
                        }
                    ],
                },
                created="ask",
                failed=None,
            ),
            state(
                "ask",
                "send-and-wait-for-reply",
                {"body": "Hello {{flow.data.name}} in {{widgets.start.conversation.sid}}"},
                incomingMessage="bye",
                timeout=None,
                deliveryFailure=None,
            ),
            state("bye", "send-message", {"body": "You said {{widgets.ask.inbound.Body}}"}),
        ],
    }
    flow = publish(api, definition)
    contact = "+15552220001"
    r = api.post(
        f"/v2/Flows/{flow}/Executions",
        data={"To": contact, "From": "+15550001000", "Parameters": json.dumps({"name": "Ann"})},
    )
    assert r.status_code == 201, r.text
    execution_sid = r.json()["sid"]
    (conversation,) = until(
        "the conversation",
        lambda: [
            (sid, form)
            for sid, form in standin.created("Conversations")
            if form.get("FriendlyName") == "Support Ann"
        ],
    )
    ch = conversation[0]
    until("the question", lambda: posted(standin, ch) == [f"Hello Ann in {ch}"])
    (participant,) = [
        f for _, f in standin.created("ConversationParticipants") if f["Conversation"] == ch
    ]
    assert participant["MessagingBinding.Address"] == contact
    assert participant["MessagingBinding.ProxyAddress"] == "+15550001000"
    (hook,) = [f for _, f in standin.created("ConversationWebhooks") if f["Conversation"] == ch]
    assert hook["Configuration.Filters"] == "onMessageAdded"
    scoped = hook["Configuration.Url"]
    assert f"ExecutionSid={execution_sid}" in scoped and scoped.startswith(webhook(server, flow))
    r = post_signed(scoped, onmessage(ch, 10, "thanks", Author=contact))
    assert r.status_code == 200, r.text
    until("the answer", lambda: "You said thanks" in posted(standin, ch))
    assert [e["sid"] for e in executions(api, flow)] == [execution_sid]
    ctx = api.get(f"/v2/Flows/{flow}/Executions/{execution_sid}/Context").json()["context"]
    assert ctx["flow"]["channel"]["ConversationSid"] == ch
    assert ctx["widgets"]["start"]["conversation"]["participants"][0]["messaging_binding"] == {
        "address": contact,
        "proxy_address": "+15550001000",
    }


@pytest.mark.parametrize("known", [True, False], ids=["resumed", "unknown"])
def test_resume_conversation(
    server: Server, api: httpx.Client, standin: StandIn, known: bool
) -> None:
    ch = "CH" + ("8" if known else "9") * 32
    if known:  # a conversation that exists at Twilio
        standin.conversations[ch] = {"sid": ch, "chat_service_sid": SERVICE, "state": "active"}
    definition = {
        "description": "resume",
        "initial_state": "Trigger",
        "states": [
            trigger(rest="resume"),
            state(
                "resume",
                "resume-conversation",
                {"conversation_service_sid": SERVICE, "conversation_sid": "{{flow.data.ch}}"},
                resumed="back",
                failed=None,
            ),
            state("back", "send-message", {"body": "Back in {{flow.channel.ConversationSid}}"}),
        ],
    }
    flow = publish(api, definition)
    r = api.post(
        f"/v2/Flows/{flow}/Executions",
        data={
            "To": f"+1555222000{int(known)}",
            "From": "+1555",
            "Parameters": json.dumps({"ch": ch}),
        },
    )
    assert r.status_code == 201, r.text
    until("the end", lambda: executions(api, flow)[0]["status"] == "ended")
    steps = api.get(f"/v2/Flows/{flow}/Executions/{r.json()['sid']}/Steps").json()["steps"]
    if known:
        assert posted(standin, ch) == [f"Back in {ch}"]
        (hook,) = [f for _, f in standin.created("ConversationWebhooks") if f["Conversation"] == ch]
        assert f"ExecutionSid={r.json()['sid']}" in hook["Configuration.Url"]
        assert [s["name"] for s in steps][:2] == ["incomingRequest", "resumed"]
    else:
        assert posted(standin, ch) == []
        assert [s["name"] for s in steps] == ["incomingRequest", "failed"]


@pytest.mark.parametrize("workflow", [WORKFLOW, BAD_WORKFLOW], ids=["created", "refused"])
def test_flex_task_from_an_sms_execution(
    server: Server, api: httpx.Client, standin: StandIn, workflow: str
) -> None:
    definition = {
        "description": "sms to flex",
        "initial_state": "Trigger",
        "states": [trigger(incomingMessage="flex"), flex(workflow), *ENDINGS],
    }
    flow = publish(api, definition)
    contact = "+15553330001" if workflow == WORKFLOW else "+15553330002"
    n = 700 if workflow == WORKFLOW else 701
    assert sms(server, flow, contact, "agent please", n).status_code == 200
    if workflow == WORKFLOW:
        until(
            "the task message",
            lambda: any(
                f.get("Body", "").startswith("Task KD")
                for f in standin.sent()
                if f.get("To") == contact
            ),
        )
        (task,) = [f for _, f in standin.created("Interactions") if contact in f.get("Channel", "")]
        channel = json.loads(task["Channel"])
        assert channel["type"] == "sms"
        assert channel["participants"] == [{"address": contact, "proxy_address": "+15550001000"}]
    else:
        until(
            "the refusal",
            lambda: any(
                f.get("Body") == "Refused 20001"
                for f in standin.sent()
                if f.get("To") == "+15550009999"
            ),
        )


class RecordingCall(SignedCall):
    """The signed transport, keeping every TwiML answer."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[str] = []

    def __call__(self, url: str, method: str, params: dict[str, str]) -> str:
        text = super().__call__(url, method, params)
        self.answers.append(text)
        return text


def test_conversation_relay_twiml_and_handoff_over_a_call(
    server: Server, api: httpx.Client
) -> None:
    definition = {
        "description": "relay",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            trigger(incomingCall="relay"),
            state(
                "relay",
                "run-conversation-relay",
                {
                    "url": "wss://relay.example/ws",
                    "welcome_greeting": "Hello from the bot",
                    "language": "en-US",
                    "parameters": [{"key": "caller", "value": "{{trigger.call.From}}"}],
                },
                success="agent",
                failed=None,
            ),
            state(
                "agent",
                "say-play",
                {"say": "Handing you to {{widgets.relay.HandoffData.reason}}"},
                audioComplete=None,
            ),
        ],
    }
    flow = publish(api, definition)

    def outcomes(action: Action) -> dict[str, str]:
        assert isinstance(action, Connect) and action.target == "ConversationRelay"
        assert action.target_attrs["url"] == "wss://relay.example/ws"
        assert action.target_attrs["welcomeGreeting"] == "Hello from the bot"
        assert action.parameters == {"caller": "+15554440900"}
        return {"SessionId": "VX1", "SessionStatus": "ended", "HandoffData": '{"reason": "sales"}'}

    transport = RecordingCall()
    d = CallDriver(
        transport,
        call_sid="CA" + "d" * 32,
        account_sid=TWILIO_SID,
        from_="+15554440900",
        to="+15550001000",
        status_url=webhook(server, flow),
        outcomes=outcomes,
    )
    heard = d.answer(webhook(server, flow))
    assert "<ConversationRelay" in transport.answers[0]
    assert [h.text for h in heard if h.kind == "say"] == ["Handing you to sales"]
    assert any("Callback=relay" in u for u in transport.urls)
    (ex,) = executions(api, flow)
    until("the end", lambda: executions(api, flow)[0]["status"] == "ended")
    ctx = api.get(f"/v2/Flows/{flow}/Executions/{ex['sid']}/Context").json()["context"]
    assert ctx["widgets"]["relay"]["HandoffData"] == {"reason": "sales"}
    assert ctx["widgets"]["relay"]["SessionId"] == "VX1"
