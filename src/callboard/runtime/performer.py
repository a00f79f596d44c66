"""THE effect performer: the one place that decides how each kind of effect the engine
returns is carried out.

Every effect kind goes to one method of an :class:`EffectPorts`; what that method does
is the only thing that differs between the three places effects are carried out:

* the durable runner (:mod:`callboard.runtime.effects`) — *now or later, in the run's
  transaction*: a message is sent in the transaction or becomes an outbox job, an HTTP
  request or voice work becomes an outbox job, a timer a timer row, ``Respond`` is
  collected for the caller;
* the worker (:mod:`callboard.runtime.outbox`) — *now, outside any transaction*: the
  job's effect is performed with the network provider / HTTP client;
* the in-memory runner (:mod:`callboard.runtime.local`, ``callboard chat``/``call`` and
  the golden transcripts) — *now, in memory*.

A port returns the event that carries the effect's result back to the execution (None:
nothing to feed back now).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol, TypeAlias

from callboard.contract.io import (
    CancelTimer,
    ConversationEffect,
    CreateFlexTask,
    Effect,
    Event,
    HttpRequest,
    OpenConversation,
    PlaceCall,
    Respond,
    SendMessage,
    StartRecording,
    StartTimer,
    StopRecording,
)

__all__ = [
    "ConversationEffect",
    "EffectPorts",
    "VoiceEffect",
    "message_sid_prefix",
    "perform_effect",
    "perform_effects",
]

VoiceEffect: TypeAlias = PlaceCall | StartRecording | StopRecording


class EffectPorts(Protocol):
    """How one runtime carries out each kind of effect."""

    def send_message(self, effect: SendMessage) -> Event | None:
        """Send (or queue) an outbound message."""
        ...

    def http_request(self, effect: HttpRequest) -> Event | None:
        """Perform (or queue) an HTTP request."""
        ...

    def set_timer(self, token: str, due: datetime | None) -> None:
        """Start the timer ``token`` due at ``due``; cancel it when ``due`` is None."""
        ...

    def respond(self, effect: Respond) -> Event | None:
        """Answer the call (TwiML) the execution is handling."""
        ...

    def voice(self, effect: VoiceEffect) -> Event | None:
        """Place a call or start/stop a recording."""
        ...

    def conversation(self, effect: ConversationEffect) -> Event | None:
        """Start / resume a Twilio Conversation, or create a Flex task (Interaction)."""
        ...


def message_sid_prefix(effect: SendMessage) -> str:
    """``IM`` for a message posted to a Conversation, else ``SM``."""
    return "IM" if effect.conversation_sid else "SM"


def perform_effect(effect: Effect, ports: EffectPorts) -> Event | None:
    """Carry out one effect through ``ports``; the event it feeds back, if any."""
    if isinstance(effect, SendMessage):
        return ports.send_message(effect)
    if isinstance(effect, HttpRequest):
        return ports.http_request(effect)
    if isinstance(effect, StartTimer):
        ports.set_timer(effect.token, effect.due)
        return None
    if isinstance(effect, CancelTimer):
        ports.set_timer(effect.token, None)
        return None
    if isinstance(effect, Respond):
        return ports.respond(effect)
    if isinstance(effect, PlaceCall | StartRecording | StopRecording):
        return ports.voice(effect)
    if isinstance(effect, OpenConversation | CreateFlexTask):
        return ports.conversation(effect)
    return None


def perform_effects(effects: Iterable[Effect], ports: EffectPorts) -> list[Event]:
    """Carry out ``effects`` in order; the events to feed back, in order."""
    events: list[Event] = []
    for effect in effects:
        event = perform_effect(effect, ports)
        if event is not None:
            events.append(event)
    return events
