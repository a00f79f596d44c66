"""Replaying a golden transcript through the durable path: the services built by the
composition root on a real SQLite database, the contact's messages going through the
inbound routing rule, HTTP requests through the outbox (answered from the mock table),
timers through the timer table — the same engine loop as the in-memory runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from callboard.channels.config import ChannelConfig
from callboard.commands.compose import build_services
from callboard.contract.io import Event, HttpRequest, SendMessage, effect_from_json
from callboard.engine.env import FakeEnv
from callboard.runtime.http_requests import MockTable, http_result
from callboard.runtime.simulated import DEFAULT_CONTACT, DEFAULT_FLOW_ADDRESS
from callboard.store.values import loads

__all__ = ["replay_durable"]


def replay_durable(
    flows: Path,
    flow: str,
    subflows: dict[str, str],
    params: dict[str, str],
    lines: list[str],
    mocks: MockTable,
    database: Path,
    format_message: Any,
) -> list[str]:
    """Run the transcript's inputs against a fresh database at ``database``; return the
    conversation that happened (``< `` lines formatted by ``format_message``)."""
    env = FakeEnv()
    services = build_services(f"sqlite:///{database}", env=env, channel_config=ChannelConfig())
    service = services.callboard

    def answer_http(job: dict[str, Any]) -> Event | None:
        payload = loads(job["payload"]) or {}
        payload.pop("_meta", None)
        effect = effect_from_json(payload)
        assert isinstance(effect, HttpRequest)
        return http_result(effect, mocks=mocks)  # never the network in tests

    service.outbox_handlers[HttpRequest.kind] = answer_http
    out: list[str] = []
    try:
        account = service.create_account("golden")
        text = (flows / flow).read_text(encoding="utf-8")
        for sid, file in subflows.items():  # created first: the main flow names them
            made = service.create_flow(
                account.sid,
                friendly_name=file,
                status="published",
                definition=json.loads((flows / file).read_text(encoding="utf-8")),
            )
            text = text.replace(sid, made.sid)
        main = service.create_flow(
            account.sid, friendly_name=flow, status="published", definition=json.loads(text)
        )
        seen: set[str] = set()

        def settle() -> None:
            while service.run_outbox():
                pass
            for message in service.list_messages(account.sid, limit=1000):
                if message.direction == "outbound-api" and message.sid not in seen:
                    seen.add(message.sid)
                    effect = SendMessage(
                        token="",
                        to="",
                        from_="",
                        body=message.body,
                        media_urls=tuple(message.media_urls),
                    )
                    out.append("< " + format_message(effect))

        if params:
            service.create_execution(
                account.sid,
                main.sid,
                to=DEFAULT_CONTACT,
                from_=DEFAULT_FLOW_ADDRESS,
                parameters=dict(params),
            )
            settle()
        for n, line in enumerate(lines):
            if line.startswith("< "):
                continue
            out.append(line)
            if line.startswith("> "):
                sid = f"SM{n:032x}"
                service.inbound_message(
                    account.sid,
                    main.sid,
                    {
                        "MessageSid": sid,
                        "SmsSid": sid,
                        "AccountSid": account.sid,
                        "From": DEFAULT_CONTACT,
                        "To": DEFAULT_FLOW_ADDRESS,
                        "Body": line[2:],
                        "NumMedia": "0",
                    },
                )
            else:
                due = service.next_timer_due()
                if due is None:
                    out.append("! (no timer was pending)")
                else:
                    env.advance_to(due)
                    service.fire_due_timers()
            settle()
    finally:
        services.close()
    return out
