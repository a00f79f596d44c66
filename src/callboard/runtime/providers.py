"""Message providers: who delivers the messages flows send.

A provider either works *inside* the delivery transaction (no network: the simulator
channel stores the message and answers at once, so the widget goes on in the same
transaction) or *outside* it (a network provider such as Twilio, issue 4): the
:class:`~callboard.contract.io.SendMessage` effect then becomes an outbox job, the worker
calls :meth:`MessageProvider.send` after the commit and feeds the result back as an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from callboard.contract.io import EffectResult, SendMessage
from callboard.runtime.message_resource import simulated_send
from callboard.store.values import dumps, to_db_time

__all__ = ["MessageProvider", "OutboundMessage", "SimulatorProvider", "message_row"]


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message to send, with where it comes from."""

    account_sid: str
    flow_sid: str
    execution_sid: str
    effect: SendMessage
    sid: str  # SM… chosen by the runtime
    now: datetime


@runtime_checkable
class MessageProvider(Protocol):
    """Sends the messages flows send. The runtime records every message in the
    ``messages`` table itself (status ``sent`` for in-transaction providers, ``queued``
    when the send goes through the outbox)."""

    name: str
    in_transaction: bool  # True: send_in_transaction (no I/O); False: send (worker)

    def send_in_transaction(self, message: OutboundMessage) -> EffectResult:
        """The result of the send, decided without any I/O (inside the transaction)."""
        ...

    def send(self, message: OutboundMessage) -> EffectResult:
        """Perform the send after the commit (network); called by the worker."""
        ...


def message_row(message: OutboundMessage, status: str) -> dict[str, Any]:
    """The ``messages`` row for an outbound message."""
    effect = message.effect
    return {
        "sid": message.sid,
        "account_sid": message.account_sid,
        "execution_sid": message.execution_sid,
        "flow_sid": message.flow_sid,
        "direction": "outbound-api",
        "to_address": effect.conversation_sid or effect.to,
        "from_address": effect.author if effect.conversation_sid else effect.from_,
        "body": effect.body,
        "media_urls": dumps(list(effect.media_urls)),
        "status": status,
        "date_created": to_db_time(message.now),
        "token": effect.token,
        "error_code": None,
    }


class SimulatorProvider:
    """The simulator channel: the message is accepted at once (status ``sent``); its row
    in ``messages`` is what the simulator shows. The flow gets a Twilio-like message
    resource back in the same transaction -- or Twilio's refusal (21602) for a message
    with nothing to send."""

    name = "simulator"
    in_transaction = True

    def send_in_transaction(self, message: OutboundMessage) -> EffectResult:
        return simulated_send(message.effect, message.sid, message.account_sid, message.now)

    def send(self, message: OutboundMessage) -> EffectResult:
        raise NotImplementedError("the simulator sends inside the run's transaction")
