"""The Conversations widgets and Send to Flex for messaging, through the real engine:
messages of a conversation execution go to its Conversation; Start / Resume
Conversation make an execution a conversation execution; Run ConversationRelay's TwiML
and its HandoffData; Flex Interactions for message and conversation executions."""

from __future__ import annotations

from typing import Any

import pytest

from callboard.contract.io import (
    CallEvent,
    CreateFlexTask,
    EffectResult,
    InboundMessage,
    OpenConversation,
    SendMessage,
)
from callboard.widgets import registry
from tests.widgets.voice_harness import (
    CALL,
    Session,
    expected_callback,
    query,
    run_flow,
    twiml,
    widget_state,
)

CH = "CH" + "c" * 32
IS = "IS" + "5" * 32
CONVERSATION = {
    "EventType": "onMessageAdded",
    "ConversationSid": CH,
    "ChatServiceSid": IS,
    "MessageSid": "IM" + "1" * 32,
    "Author": "ann",
    "From": "ann",
    "Body": "hello",
    "Source": "WHATSAPP",
}
TRIGGER_DATA: dict[str, dict[str, Any]] = {
    "incomingConversationMessage": CONVERSATION,
    "incomingMessage": {"Body": "hi", "From": "+15550001", "To": "+15559999"},
    "incomingCall": dict(CALL),
    "incomingRequest": {},
}


def flow(trigger: str, *states: dict[str, Any]) -> Session:
    return run_flow(list(states), trigger, data=dict(TRIGGER_DATA[trigger]))


def effect(s: Session, kind: type[Any]) -> Any:
    (found,) = [e for e in s.last.effects if isinstance(e, kind)]
    return found


def codes(s: Session) -> list[int]:
    return [w.code for w in s.last.warnings]


@pytest.mark.parametrize(
    "wtype", ["start-conversation", "resume-conversation", "run-conversation-relay"]
)
def test_the_conversation_widgets_are_runnable(wtype: str) -> None:
    widget = registry.get(wtype)
    assert widget is not None and widget.runnable


# ------------------------------------------------------------------ messages


@pytest.mark.parametrize(
    ("trigger", "conversation", "to"),
    [
        ("incomingConversationMessage", CH, "+15550001"),  # the harness's contact
        ("incomingMessage", "", "+15550001"),
    ],
)
def test_send_message_goes_to_the_conversation_of_a_conversation_execution(
    trigger: str, conversation: str, to: str
) -> None:
    s = flow(
        trigger, widget_state("w", "send-message", {"body": "Hi {{trigger.conversation.Author}}"})
    )
    sent = effect(s, SendMessage)
    assert (sent.conversation_sid, sent.to) == (conversation, to)
    assert sent.author == ("system" if conversation else "")
    if conversation:
        assert s.state.context["flow"]["channel"] == {
            "address": "+15559999",
            "ConversationSid": CH,
            "ChatServiceSid": IS,
        }
        assert s.state.context["trigger"]["conversation"]["Author"] == "ann"
        assert sent.body == "Hi ann"


def test_send_and_wait_takes_a_conversation_reply() -> None:
    s = flow(
        "incomingConversationMessage",
        widget_state("ask", "send-and-wait-for-reply", {"body": "Name?"}),
    )
    sent = effect(s, SendMessage)
    assert sent.conversation_sid == CH
    s.send(EffectResult(sent.token, True, {"Sid": "IM" + "2" * 32, "ConversationSid": CH}))
    reply = {**CONVERSATION, "MessageSid": "IM" + "3" * 32, "Body": "Bob"}
    s.send(InboundMessage(reply))
    assert s.steps[-1] == ("ask", "incomingMessage", "Ended")
    variables = s.variables("ask")
    assert variables["inbound"]["Body"] == "Bob"
    assert variables["inbound"]["ConversationSid"] == CH
    assert variables["outbound"]["Sid"].startswith("IM")


# ------------------------------------------------------- start / resume conversation

START_PROPS = {
    "conversation_service_sid": IS,
    "friendly_name": "Support {{flow.data.name}}",
    "attributes": '{"a": 1}',
    "participants": [
        {
            "type": "sms",
            "messaging_binding_address": "{{contact.channel.address}}",
            "messaging_binding_proxy_address": "{{flow.channel.address}}",
        }
    ],
}
CREATED = {
    "conversation": {"sid": CH, "chat_service_sid": IS, "participants": [{"sid": "MB1"}]},
    "webhook_sid": "WH1",
}


@pytest.mark.parametrize(
    ("wtype", "props", "action", "options", "participant"),
    [
        (
            "start-conversation",
            START_PROPS,
            "start",
            {
                "ChatServiceSid": IS,
                "FriendlyName": "Support",
                "Attributes": '{"a": 1}',
                "MessagingServiceSid": "",
            },
            {"MessagingBinding.Address": "+15550001", "MessagingBinding.ProxyAddress": "+15559999"},
        ),
        (
            "resume-conversation",
            {"conversation_service_sid": IS, "conversation_sid": CH},
            "resume",
            {"ChatServiceSid": IS, "ConversationSid": CH},
            {},
        ),
    ],
)
def test_open_a_conversation_then_messages_go_to_it(
    wtype: str,
    props: dict[str, Any],
    action: str,
    options: dict[str, Any],
    participant: dict[str, Any],
) -> None:
    s = flow(
        "incomingRequest",
        widget_state("open", wtype, props, {"created": "say", "resumed": "say"}),
        widget_state("say", "send-message", {"body": "in {{widgets.open.conversation.sid}}"}),
    )
    opened = effect(s, OpenConversation)
    assert (opened.action, opened.options, opened.participant) == (action, options, participant)
    s.send(EffectResult(opened.token, True, CREATED))
    success = "created" if action == "start" else "resumed"
    assert s.steps[0] == ("open", success, "say")
    sent = effect(s, SendMessage)
    assert (sent.conversation_sid, sent.body) == (CH, f"in {CH}")
    assert s.state.context["flow"]["channel"]["ConversationSid"] == CH
    assert s.variables("open")["webhook_sid"] == "WH1"


@pytest.mark.parametrize(
    ("wtype", "props", "trigger", "result", "code"),
    [
        ("start-conversation", START_PROPS, "incomingRequest", False, 81016),
        ("start-conversation", START_PROPS, "incomingMessage", None, 81020),
        ("start-conversation", START_PROPS, "incomingConversationMessage", None, 81020),
        ("resume-conversation", {"conversation_service_sid": IS}, "incomingRequest", None, 81016),
        (
            "resume-conversation",
            {"conversation_service_sid": IS, "conversation_sid": CH},
            "incomingRequest",
            False,
            81016,
        ),
    ],
)
def test_open_a_conversation_fails(
    wtype: str, props: dict[str, Any], trigger: str, result: bool | None, code: int
) -> None:
    s = flow(trigger, widget_state("open", wtype, props))
    if result is not None:
        opened = effect(s, OpenConversation)
        s.send(
            EffectResult(opened.token, False, {"error": "Twilio answered 404", "ErrorCode": 20404})
        )
    assert s.steps[-1] == ("open", "failed", "Ended")
    assert code in codes(s)
    assert s.variables("open") == {}


# ------------------------------------------------------------- ConversationRelay

RELAY_PROPS = {
    "url": "wss://relay.example/{{flow.flow_sid}}",
    "welcome_greeting": "Hi there",
    "voice": "en-US-Journey-O",
    "language": "en-US",
    "interruptible": "true",
    "dtmf_detection": "false",
    "parameters": [{"key": "customer", "value": "{{trigger.call.From}}"}],
}


def test_run_conversation_relay_twiml() -> None:
    s = flow("incomingCall", widget_state("relay", "run-conversation-relay", RELAY_PROPS))
    root = twiml(s.last)
    (connect,) = list(root)
    assert connect.tag == "Connect"
    assert query(connect.attrib["action"]) == expected_callback(s.token, "relay")
    (relay,) = list(connect)
    assert relay.tag == "ConversationRelay"
    assert relay.attrib == {
        "url": "wss://relay.example/FW0001",
        "welcomeGreeting": "Hi there",
        "voice": "en-US-Journey-O",
        "language": "en-US",
        "interruptible": "true",
        "dtmfDetection": "false",
    }
    assert [p.attrib for p in relay] == [{"name": "customer", "value": "+15550001"}]


@pytest.mark.parametrize(
    ("params", "event", "handoff"),
    [
        (
            {"SessionStatus": "ended", "HandoffData": '{"reason": "agent", "n": 2}'},
            "success",
            {"reason": "agent", "n": 2},
        ),
        ({"SessionStatus": "completed", "HandoffData": "plain text"}, "success", "plain text"),
        ({"SessionStatus": "failed", "ErrorCode": "64101"}, "failed", None),
    ],
)
def test_run_conversation_relay_action_callback(
    params: dict[str, str], event: str, handoff: Any
) -> None:
    s = flow("incomingCall", widget_state("relay", "run-conversation-relay", RELAY_PROPS))
    s.callback("relay", {"SessionId": "VX1", **params})
    assert s.steps[-1] == ("relay", event, "Ended")
    variables = s.variables("relay")
    assert variables.get("HandoffData") == handoff
    assert variables["SessionId"] == "VX1" and "Token" not in variables


def test_run_conversation_relay_without_a_call() -> None:
    s = flow("incomingMessage", widget_state("relay", "run-conversation-relay", RELAY_PROPS))
    assert s.steps[-1] == ("relay", "failed", "Ended")
    assert 81020 in codes(s)


# ------------------------------------------------------------------- Send to Flex

FLEX = {"workflow": "WW1", "channel": "chat", "priority": "5", "timeout": "600"}


@pytest.mark.parametrize(
    ("trigger", "channel"),
    [
        (
            "incomingConversationMessage",
            {
                "type": "whatsapp",
                "initiated_by": "customer",
                "properties": {"media_channel_sid": CH},
            },
        ),
        (
            "incomingMessage",
            {
                "type": "sms",
                "initiated_by": "customer",
                "participants": [{"address": "+15550001", "proxy_address": "+15559999"}],
            },
        ),
    ],
)
def test_send_to_flex_creates_an_interaction(trigger: str, channel: dict[str, Any]) -> None:
    s = flow(trigger, widget_state("flex", "send-to-flex", {**FLEX, "attributes": '{"q": "x"}'}))
    task = effect(s, CreateFlexTask)
    assert task.channel == channel
    assert task.routing == {
        "properties": {
            "workflow_sid": "WW1",
            "task_channel_unique_name": "chat",
            "attributes": {"q": "x"},
            "priority": 5,
            "timeout": 600,
        }
    }
    interaction = {"sid": "KD1", "channel": channel, "routing": task.routing, "url": "u"}
    s.send(EffectResult(task.token, True, interaction))
    assert s.steps[-1] == ("flex", "callComplete", "Ended")
    assert s.variables("flex")["sid"] == "KD1"


def test_send_to_flex_default_attributes_and_task_channel_sid() -> None:
    props = {"workflow": "WW1", "channel": "TC" + "2" * 32}
    s = flow("incomingConversationMessage", widget_state("flex", "send-to-flex", props))
    routing = effect(s, CreateFlexTask).routing["properties"]
    assert routing["task_channel_sid"] == "TC" + "2" * 32
    assert routing["attributes"] == {
        "name": "ann",
        "channelType": "WHATSAPP",
        "conversationSid": CH,
    }
    assert (routing["priority"], routing["timeout"]) == (0, 3600)


@pytest.mark.parametrize(
    ("props", "refused"),
    [({**FLEX, "attributes": "not json"}, False), ({**FLEX, "workflow": ""}, False), (FLEX, True)],
    ids=["bad-attributes", "no-workflow", "api-refuses"],
)
def test_send_to_flex_fails_to_enqueue(props: dict[str, Any], refused: bool) -> None:
    s = flow("incomingConversationMessage", widget_state("flex", "send-to-flex", props))
    if refused:
        task = effect(s, CreateFlexTask)
        error = {"ErrorCode": 20001, "ErrorMessage": "Invalid Workflow SID", "error": "400"}
        s.send(EffectResult(task.token, False, error))
        assert s.variables("flex")["ErrorCode"] == 20001
    assert s.steps[-1] == ("flex", "failedToEnqueue", "Ended")
    assert 81015 in codes(s)


def test_send_to_flex_voice_is_unchanged() -> None:
    s = flow("incomingCall", widget_state("flex", "send-to-flex", FLEX))
    assert not [e for e in s.last.effects if isinstance(e, CreateFlexTask)]
    assert [el.tag for el in twiml(s.last)] == ["Enqueue"]
    s.send(CallEvent(s.token, "enqueue", {**CALL, "QueueResult": "hangup"}))
    assert s.steps[-1][1] == "callComplete"


WHO = "{{trigger.request.parameters.who}}"


@pytest.mark.parametrize(
    ("participants", "expected"),
    [
        ('[{"type": "chat", "identity": "' + WHO + '"}]', {"Identity": "bob"}),
        ({"type": "chat", "identity": WHO}, {"Identity": "bob"}),
        ("not json", {}),
        ([], {}),
    ],
)
def test_start_conversation_participants_as_typed_in_the_editor(
    participants: Any, expected: dict[str, str]
) -> None:
    props = {"conversation_service_sid": IS, "participants": participants}
    s = run_flow(
        [widget_state("open", "start-conversation", props)],
        "incomingRequest",
        data={"parameters": {"who": "bob"}},
    )
    assert effect(s, OpenConversation).participant == expected
