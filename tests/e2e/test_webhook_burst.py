"""A burst over HTTP: 50 signed Flow-webhook messages from one new contact at once (and
Twilio's retries of some of them) against a real server start exactly one execution,
and each message is consumed exactly once — SMS, and Twilio Conversations'
``onMessageAdded`` in one new conversation."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from callboard.api.signatures import SIGNATURE_HEADER, sign
from callboard.channels.config import ChannelConfig
from callboard.commands.compose import build_services
from callboard.store import tables as t
from tests.e2e.durability import Process, create_account, create_flow, server_env
from tests.e2e.server import database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

N = 50


def ping_pong(start: str = "incomingMessage") -> dict[str, Any]:
    """Message → ask A → (reply) ask B → (reply) ask A...: every message is awaited."""

    def ask(name: str, other: str) -> dict[str, Any]:
        return {
            "name": name,
            "type": "send-and-wait-for-reply",
            "transitions": [
                {"event": "incomingMessage", "next": other},
                {"event": "timeout"},
                {"event": "deliveryFailure"},
            ],
            "properties": {"body": name, "timeout": "3600", "offset": {"x": 0, "y": 0}},
        }

    trigger = {
        "name": "Trigger",
        "type": "trigger",
        "transitions": [
            {"event": e, **({"next": "a"} if e == start else {})}
            for e in (
                "incomingMessage",
                "incomingCall",
                "incomingConversationMessage",
                "incomingRequest",
                "incomingParent",
            )
        ],
        "properties": {"offset": {"x": 0, "y": 0}},
    }
    return {
        "description": "ping pong",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [trigger, ask("a", "b"), ask("b", "a")],
    }


def message(i: int, account_sid: str, channel: str) -> dict[str, str]:
    if channel == "conversation":
        return {
            "EventType": "onMessageAdded",
            "MessageSid": f"IM{i:032x}",
            "AccountSid": account_sid,
            "ConversationSid": "CH" + "1" * 32,
            "ChatServiceSid": "IS" + "2" * 32,
            "Author": "ann",
            "Body": f"m{i}",
            "Source": "SDK",
        }
    return {
        "MessageSid": f"SM{i:032x}",
        "AccountSid": account_sid,
        "From": "+15550001111",
        "To": "+15559990000",
        "Body": f"m{i}",
        "NumMedia": "0",
    }


@pytest.mark.parametrize("channel", ["sms", "conversation"])
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_fifty_simultaneous_webhooks_from_a_new_contact(
    kind: str, channel: str, tmp_path: Path
) -> None:
    with database(kind, tmp_path) as url:
        env = server_env(url, tmp_path)
        account_sid, token = create_account(env)
        server = Process(env, tmp_path)
        server.start()
        try:
            with httpx.Client(base_url=server.url, auth=(account_sid, token), timeout=60) as c:
                start = "incomingConversationMessage" if channel == "conversation" else ""
                flow = create_flow(c, ping_pong(start or "incomingMessage"))
            hook = f"{server.url}/v1/Accounts/{account_sid}/Flows/{flow}"

            def post(i: int) -> httpx.Response:
                params = message(i, account_sid, channel)
                headers = {SIGNATURE_HEADER: sign(hook, params, token)}
                with httpx.Client(timeout=60) as client:
                    return client.post(hook, data=params, headers=headers)

            with ThreadPoolExecutor(N) as pool:
                answers = list(pool.map(post, [*range(N), *range(10)]))  # 10 retried
            assert [r.status_code for r in answers] == [200] * (N + 10), answers[0].text
            assert all("<Response" in r.text for r in answers)
        finally:
            server.stop()
        service = build_services(url, migrate=False, channel_config=ChannelConfig()).callboard
        try:
            with service.db.read() as conn:
                executions = conn.execute(select(t.executions)).all()
                steps = conn.execute(
                    select(t.steps.c.seq, t.steps.c.name).order_by(t.steps.c.seq)
                ).all()
                processed = conn.execute(
                    select(func.count()).select_from(t.processed_requests)
                ).scalar_one()
                notes = conn.execute(select(func.count()).select_from(t.notifications)).scalar_one()
        finally:
            service.close()
    assert len(executions) == 1 and executions[0].status == "active"
    # one Trigger step, then each of the other 49 messages consumed once, in turn
    assert [s.seq for s in steps] == list(range(1, N + 1))
    first = "incomingConversationMessage" if channel == "conversation" else "incomingMessage"
    assert [s.name for s in steps] == [first] + ["incomingMessage"] * (N - 1)
    assert processed == N and notes == 0
