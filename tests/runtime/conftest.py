"""Fixtures for the service-layer tests: a migrated database (SQLite and PostgreSQL via
``db_url``), the service over it with a fake clock, and an account."""

from __future__ import annotations

import copy
from typing import Any

TRIGGER = {
    "name": "Trigger",
    "type": "trigger",
    "transitions": [
        {"event": "incomingMessage", "next": "first"},
        {"event": "incomingCall"},
        {"event": "incomingConversationMessage"},
        {"event": "incomingRequest", "next": "first"},
        {"event": "incomingParent"},
    ],
    "properties": {"offset": {"x": 0, "y": 0}},
}


def flow_definition(*states: dict[str, Any]) -> dict[str, Any]:
    """A flow whose Trigger (message and REST) goes to the state named ``first``."""
    return {
        "description": "test flow",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [copy.deepcopy(TRIGGER), *copy.deepcopy(list(states))],
    }


def widget(name: str, wtype: str, props: dict[str, Any], **nexts: str | None) -> dict[str, Any]:
    transitions = [{"event": e, **({"next": n} if n else {})} for e, n in nexts.items()]
    return {
        "name": name,
        "type": wtype,
        "transitions": transitions,
        "properties": {**props, "offset": {"x": 0, "y": 0}},
    }


def send_flow(body: str = "Hello {{flow.data.name}}") -> dict[str, Any]:
    """REST → send-message → end."""
    return flow_definition(widget("first", "send-message", {"body": body}, sent=None, failed=None))


def ask_flow(timeout: str = "600") -> dict[str, Any]:
    """REST → send-and-wait-for-reply → send-message (reply or timeout) → end."""
    return flow_definition(
        widget(
            "first",
            "send-and-wait-for-reply",
            {"body": "What is your name?", "timeout": timeout},
            incomingMessage="thanks",
            timeout="bye",
            deliveryFailure=None,
        ),
        widget(
            "thanks",
            "send-message",
            {"body": "Thanks {{widgets.first.inbound.Body}}"},
            sent=None,
            failed=None,
        ),
        widget("bye", "send-message", {"body": "Too slow"}, sent=None, failed=None),
    )


def http_flow(url: str = "https://example.test/api") -> dict[str, Any]:
    """REST → make-http-request → send-message with the status → end."""
    return flow_definition(
        widget(
            "first",
            "make-http-request",
            {"method": "GET", "url": url},
            success="report",
            failed="report",
        ),
        widget(
            "report",
            "send-message",
            {"body": "status {{widgets.first.status_code}}"},
            sent=None,
            failed=None,
        ),
    )
