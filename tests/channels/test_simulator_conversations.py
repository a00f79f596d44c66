"""The simulator channel's Conversations and Flex tasks, in process: a conversation
round trip through ``/callboard/v1/Simulator/Conversations/Messages``, Start
Conversation recording its Conversation (then a participant's message resumes that
execution), and Send to Flex recording a task and taking ``callComplete``."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from callboard.runtime.service import Callboard
from callboard.runtime.worker import Worker
from tests.channels.test_simulator_and_call import client, publish
from tests.e2e.test_channels import state

__all__ = ["client"]  # the fixture, used by name

CONVERSATIONS = "/callboard/v1/Simulator/Conversations"


def trigger(event: str, first: str) -> dict[str, Any]:
    names = ("incomingMessage", "incomingCall", "incomingConversationMessage", "incomingRequest")
    transitions = [{"event": e, **({"next": first} if e == event else {})} for e in names]
    return {"name": "Trigger", "type": "trigger", "transitions": transitions, "properties": {}}


FLEX = state(
    "flex",
    "send-to-flex",
    {"workflow": "WW" + "1" * 32, "channel": "chat"},
    callComplete="told",
    failedToEnqueue=None,
    callFailure=None,
)
TOLD = state("told", "send-message", {"body": "Task {{widgets.flex.sid}}"}, sent=None)


def talk(c: TestClient, flow: str, conversation: str) -> list[tuple[str, str, str]]:
    r = c.get("/callboard/v1/Simulator/Messages", params={"FlowSid": flow, "Contact": conversation})
    assert r.status_code == 200, r.text
    return [(m["direction"], m["from"], m["body"]) for m in r.json()["messages"]]


def test_simulated_conversation_round_trip_and_flex_task(
    client: tuple[TestClient, Callboard],
) -> None:
    c, service = client
    definition = {
        "initial_state": "Trigger",
        "states": [
            trigger("incomingConversationMessage", "ask"),
            state(
                "ask",
                "send-and-wait-for-reply",
                {"body": "Hi {{trigger.conversation.Author}}, what do you need?"},
                incomingMessage="flex",
                timeout=None,
                deliveryFailure=None,
            ),
            FLEX,
            TOLD,
        ],
    }
    flow = publish(c, definition, status="draft")
    first = c.post(
        f"{CONVERSATIONS}/Messages", data={"FlowSid": flow, "Author": "ann", "Body": "hi"}
    )
    assert first.status_code == 201, first.text
    ch = first.json()["conversation_sid"]
    assert ch.startswith("CH") and first.json()["execution_sid"].startswith("FN")
    again = c.post(
        f"{CONVERSATIONS}/Messages",
        data={"FlowSid": flow, "ConversationSid": ch, "Author": "ann", "Body": "an agent"},
    )
    assert again.json()["execution_sid"] == first.json()["execution_sid"]
    Worker(service).run_once()  # the worker creates the Flex task
    (task,) = c.get("/callboard/v1/Simulator/FlexTasks", params={"FlowSid": flow}).json()[
        "flex_tasks"
    ]
    assert task["sid"].startswith("KD") and task["conversation_sid"] == ch
    assert task["resource"]["channel"]["properties"] == {"media_channel_sid": ch}
    assert talk(c, flow, ch) == [
        ("inbound", "ann", "hi"),
        ("outbound-api", "system", "Hi ann, what do you need?"),
        ("inbound", "ann", "an agent"),
        ("outbound-api", "system", f"Task {task['sid']}"),
    ]


def test_simulated_start_conversation(client: tuple[TestClient, Callboard]) -> None:
    c, service = client
    definition = {
        "initial_state": "Trigger",
        "states": [
            trigger("incomingRequest", "start"),
            state(
                "start",
                "start-conversation",
                {
                    "conversation_service_sid": "IS" + "5" * 32,
                    "participants": [{"type": "chat", "identity": "{{flow.data.who}}"}],
                },
                created="ask",
                failed=None,
            ),
            state(
                "ask",
                "send-and-wait-for-reply",
                {"body": "Hello {{widgets.start.conversation.participants[0].identity}}"},
                incomingMessage="bye",
                timeout=None,
                deliveryFailure=None,
            ),
            state("bye", "send-message", {"body": "Got {{widgets.ask.inbound.Body}}"}),
        ],
    }
    flow = publish(c, definition)
    r = c.post(
        f"/v2/Flows/{flow}/Executions",
        data={"To": "bob", "From": "+15550100000", "Parameters": '{"who": "bob"}'},
    )
    assert r.status_code == 201, r.text
    Worker(service).run_once()  # the worker starts the conversation
    (conversation,) = c.get(CONVERSATIONS, params={"FlowSid": flow}).json()["conversations"]
    ch = conversation["sid"]
    assert conversation["execution_sid"] == r.json()["sid"]
    assert conversation["resource"]["participants"][0]["identity"] == "bob"
    reply = c.post(
        f"{CONVERSATIONS}/Messages",
        data={"FlowSid": flow, "ConversationSid": ch, "Author": "bob", "Body": "thanks"},
    )
    assert reply.json()["execution_sid"] == r.json()["sid"]
    assert [m[2] for m in talk(c, flow, ch)] == ["Hello bob", "thanks", "Got thanks"]


def test_bad_conversation_sid_is_a_400(client: tuple[TestClient, Callboard]) -> None:
    c, _ = client
    flow = publish(c, {"initial_state": "Trigger", "states": [trigger("incomingRequest", "")]})
    r = c.post(f"{CONVERSATIONS}/Messages", data={"FlowSid": flow, "ConversationSid": "nope"})
    assert r.status_code == 400 and "ConversationSid" in r.text


def test_a_nul_character_is_a_400_not_a_database_error(
    client: tuple[TestClient, Callboard],
) -> None:
    """No column (PostgreSQL's text above all) stores NUL: every form refuses it."""
    c, _ = client
    flow = publish(c, {"initial_state": "Trigger", "states": [trigger("incomingRequest", "")]})
    r = c.post(f"{CONVERSATIONS}/Messages", data={"FlowSid": flow, "Body": "a\x00b"})
    assert r.status_code == 400 and "NUL" in r.json()["message"]
    r = c.post("/callboard/v1/Simulator/Messages", data={"FlowSid": flow, "From": "+1\x00"})
    assert r.status_code == 400 and "'From'" in r.json()["message"]
