"""Effect application for the runner (:mod:`callboard.runtime.runner`).

Through :mod:`callboard.runtime.performer` (the one effect performer), the engine's
effects become rows in a :class:`Batch`: simulator messages are stored
(and their results handed back as events), timers become timer rows, HTTP requests
and other network work become outbox rows, ``Respond`` is collected for the caller.
Nothing is written here; :class:`~callboard.runtime.runner.Runner` saves the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from callboard.contract.io import (
    Effect,
    Event,
    HttpRequest,
    Respond,
    SendMessage,
    effect_to_json,
)
from callboard.engine.core import Env
from callboard.engine.state import StepRecord, StepWarning
from callboard.runtime.loaded import LoadedExecution
from callboard.runtime.performer import (
    ConversationEffect,
    VoiceEffect,
    message_sid_prefix,
    perform_effects,
)
from callboard.runtime.providers import MessageProvider, OutboundMessage, message_row
from callboard.runtime.records import Message
from callboard.store.values import dumps, to_db_time

__all__ = ["Batch", "DurablePorts", "apply_effects", "step_row"]


@dataclass(slots=True)
class Batch:
    steps: list[dict[str, Any]] = field(default_factory=list)
    timers: dict[str, datetime | None] = field(default_factory=dict)  # token → due / cancel
    outbox: list[dict[str, Any]] = field(default_factory=list)
    responses: list[Respond] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    message_rows: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[StepWarning] = field(default_factory=list)


def step_row(ex: LoadedExecution, step: StepRecord, seq: int) -> dict[str, Any]:
    return {
        "sid": step.sid,
        "execution_sid": ex.sid,
        "seq": seq,
        "name": step.name,
        "transitioned_from": step.transitioned_from,
        "transitioned_to": step.transitioned_to,
        "type": step.type,
        "subflow_sid": step.flow_sid if step.flow_sid != ex.flow_sid else None,
        "parent_step_sid": step.parent_step_sid,
        "context": step.context,  # an object: store.steps packs it
        "warnings": dumps([w.to_json() for w in step.warnings]) if step.warnings else None,
        "date_created": to_db_time(step.date),
    }


def apply_effects(
    conn: Connection,
    env: Env,
    provider: MessageProvider,
    ex: LoadedExecution,
    effects: Sequence[Effect],
    batch: Batch,
) -> list[Event]:
    """Add ``effects`` to ``batch``; return the events of in-transaction sends."""
    return perform_effects(effects, DurablePorts(conn, env, provider, ex, batch))


class DurablePorts:
    """The durable runner's :class:`~callboard.runtime.performer.EffectPorts`: in the
    run's transaction, effects become rows of ``batch`` (sent now when the provider
    sends in the transaction, else outbox jobs for the worker)."""

    def __init__(
        self,
        conn: Connection,
        env: Env,
        provider: MessageProvider,
        ex: LoadedExecution,
        batch: Batch,
    ) -> None:
        self.conn = conn
        self.env = env
        self.provider = provider
        self.ex = ex
        self.batch = batch
        self.now = env.now()

    def send_message(self, effect: SendMessage) -> Event | None:
        ex, batch = self.ex, self.batch
        message = OutboundMessage(
            ex.account_sid,
            ex.flow_sid,
            ex.sid,
            effect,
            self.env.sid(message_sid_prefix(effect)),
            self.now,
        )
        status = "queued"
        if _inline(self.provider, self.conn, ex.account_sid):
            result = self.provider.send_in_transaction(message)
            status = "sent" if result.ok else "failed"  # e.g. an empty body (21602)
            row = message_row(message, status)
            if not result.ok and result.data.get("ErrorCode"):
                row["error_code"] = str(result.data["ErrorCode"])
            batch.message_rows.append(row)
            batch.messages.append(_message(message, status))
            return result
        batch.outbox.append(_job(ex, effect, self.now, {"sid": message.sid}))
        batch.message_rows.append(message_row(message, status))
        batch.messages.append(_message(message, status))
        return None

    def http_request(self, effect: HttpRequest) -> Event | None:
        self.batch.outbox.append(_job(self.ex, effect, self.now))
        return None

    def set_timer(self, token: str, due: datetime | None) -> None:
        self.batch.timers[token] = due

    def respond(self, effect: Respond) -> Event | None:
        self.batch.responses.append(effect)
        return None

    def voice(self, effect: VoiceEffect) -> Event | None:
        self.batch.outbox.append(_job(self.ex, effect, self.now))
        return None

    def conversation(self, effect: ConversationEffect) -> Event | None:
        self.batch.outbox.append(_job(self.ex, effect, self.now))
        return None


def _inline(provider: MessageProvider, conn: Connection, account_sid: str) -> bool:
    """Whether the account's provider sends inside the transaction (issue 4: a
    provider may decide per account, with ``in_transaction_for(conn, account_sid)``)."""
    decide = getattr(provider, "in_transaction_for", None)
    if callable(decide):
        return bool(decide(conn, account_sid))
    return provider.in_transaction


def _job(
    ex: LoadedExecution, effect: Effect, now: datetime, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    payload = effect_to_json(effect)
    if extra:
        payload["_meta"] = extra
    return {
        "execution_sid": ex.sid,
        "kind": effect.kind,
        "token": getattr(effect, "token", ""),
        "payload": dumps(payload),
        "status": "pending",
        "attempts": 0,
        "available_at": to_db_time(now),
        "date_created": to_db_time(now),
    }


def _message(message: OutboundMessage, status: str = "sent") -> Message:
    effect = message.effect
    return Message(
        sid=message.sid,
        account_sid=message.account_sid,
        execution_sid=message.execution_sid,
        flow_sid=message.flow_sid,
        direction="outbound-api",
        to=effect.conversation_sid or effect.to,
        from_=effect.author if effect.conversation_sid else effect.from_,
        body=effect.body,
        media_urls=list(effect.media_urls),
        status=status,
        date_created=message.now,
    )
