"""An in-memory runner for the pure engine: the terminal simulator's and the tests' runtime.

:class:`LocalRunner` holds one :class:`~callboard.engine.Bundle` and at most one active
execution (one contact talking to one flow, as ``callboard chat`` does). It feeds events
to :func:`~callboard.engine.advance` and performs the effects that come out, feeding
their results back, until the execution waits for something from outside (a reply from
the contact or a timer) or ends:

* :class:`~callboard.contract.io.SendMessage` — handed to ``on_message`` and answered at
  once with a message resource (``Sid`` ``SM…``, ``Status`` ``sent``...);
* :class:`~callboard.contract.io.HttpRequest` — answered from a :class:`MockTable` when one
  is given, otherwise sent for real with httpx (injectable transport);
* Conversations / Flex effects — answered at once with made-up resources;
* :class:`~callboard.contract.io.StartTimer` / :class:`~callboard.contract.io.CancelTimer` —
  kept in a list of pending timers; :meth:`LocalRunner.fire_timeout` fires the earliest;
* :class:`~callboard.contract.io.Respond` — handed to ``on_respond`` when given (``callboard
  call`` plays the TwiML with :mod:`callboard.channels.call_driver`); otherwise, like
  :class:`~callboard.contract.io.PlaceCall`, voice is not supported: ``on_notice`` says so
  and the execution is ended.

The HTTP side lives in :mod:`callboard.runtime.http_requests`, the message resource in
:mod:`callboard.runtime.message_resource` (both re-exported here).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from callboard.contract.io import (
    CreateFlexTask,
    Effect,
    EffectResult,
    EndExecution,
    Event,
    HttpRequest,
    InboundMessage,
    PlaceCall,
    Respond,
    SendMessage,
    Start,
    TimerFired,
)
from callboard.engine import Advance, Bundle, Env, ExecutionState, StepRecord, StepWarning
from callboard.engine.env import SystemEnv
from callboard.runtime.conversations import (
    conversation_resource,
    flex_interaction,
    participant_resource,
)
from callboard.runtime.http_requests import MockError, MockResponse, MockTable, http_result
from callboard.runtime.loop import run_until_wait
from callboard.runtime.message_resource import message_resource, segments, simulated_send
from callboard.runtime.performer import (
    ConversationEffect,
    VoiceEffect,
    message_sid_prefix,
    perform_effects,
)
from callboard.runtime.routing import REFUSED_CALL_CODE, Refuse, Resume, route_call, route_message
from callboard.runtime.simulated import DEFAULT_CONTACT, DEFAULT_FLOW_ADDRESS

__all__ = [
    "DEFAULT_CONTACT",
    "DEFAULT_FLOW_ADDRESS",
    "LocalRunner",
    "MockError",
    "MockResponse",
    "MockTable",
    "PendingTimer",
    "http_result",
    "message_resource",
    "simulated_send",
]


StepCallback = Callable[[StepRecord], None]
WarningCallback = Callable[[StepWarning], None]
MessageCallback = Callable[[SendMessage], None]
NoticeCallback = Callable[[str], None]


# ----------------------------------------------------------------------------- runner


@dataclass(frozen=True, slots=True)
class PendingTimer:
    token: str
    due: datetime


class LocalRunner:
    """Runs one contact's executions of ``bundle`` in memory.

    ``contact`` is the person (``From`` of their messages), ``flow_address`` the flow's
    number (``To``). Callbacks: ``on_message`` for every outbound message, ``on_step``
    for every step, ``on_warning`` for warnings not attached to a step (ignored
    events...), ``on_notice`` for the runner's own remarks (unsupported voice effects).
    """

    def __init__(
        self,
        bundle: Bundle,
        env: Env | None = None,
        *,
        contact: str = DEFAULT_CONTACT,
        flow_address: str = DEFAULT_FLOW_ADDRESS,
        on_message: MessageCallback | None = None,
        on_step: StepCallback | None = None,
        on_warning: WarningCallback | None = None,
        on_notice: NoticeCallback | None = None,
        mocks: MockTable | None = None,
        transport: httpx.BaseTransport | None = None,
        account_sid: str | None = None,
        on_respond: Callable[[Respond], None] | None = None,
    ) -> None:
        self.bundle = bundle
        self.env: Env = env if env is not None else SystemEnv()
        self.contact = contact
        self.flow_address = flow_address
        self.on_message = on_message
        self.on_step = on_step
        self.on_warning = on_warning
        self.on_notice = on_notice
        self.on_respond = on_respond  # voice (callboard call): gets the TwiML answers
        self.mocks = mocks
        self._transport = transport
        self._client: httpx.Client | None = None
        self.account_sid = account_sid or self.env.sid("AC")
        self.state: ExecutionState | None = None
        self.timers: list[PendingTimer] = []
        self.steps: list[StepRecord] = []  # every step of every execution, in order
        self.warnings: list[StepWarning] = []  # every warning, in order
        self.executions = 0

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> LocalRunner:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def active(self) -> bool:
        return self.state is not None and self.state.status == "active"

    @property
    def waiting_for(self) -> str | None:
        """``"reply"``, ``"timer"`` or ``"nothing"`` (stuck) while active; else None."""
        if not self.active or self.state is None:
            return None
        waiting = self.state.waiting
        if waiting is not None and waiting.accepts_messages:
            return "reply"
        if self.timers:
            return "timer"
        return "nothing"

    # ------------------------------------------------------------------ inputs
    def inbound_params(self, body: str, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Twilio's inbound-message webhook parameters for a message from the contact."""
        sid = self.env.sid("SM")
        params: dict[str, Any] = {
            "ToCountry": "US",
            "ToState": "",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": body,
            "FromCountry": "US",
            "To": self.flow_address,
            "ToZip": "",
            "NumSegments": str(segments(body)),
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": self.contact,
            "ApiVersion": "2010-04-01",
        }
        if extra:
            params.update(extra)
        return params

    def message(self, body: str, extra: Mapping[str, Any] | None = None) -> list[Advance]:
        """The contact sends ``body``: to the active execution, or starting a new one
        (a conversation message when ``contact`` is a Conversation SID)."""
        if self.contact.startswith("CH"):
            return self.conversation_message(body, extra)
        params = self.inbound_params(body, extra)
        if isinstance(route_message(self.state if self.active else None), Resume):
            return self._feed(InboundMessage(params))
        return self._start("incomingMessage", data=params)

    def conversation_message(
        self, body: str, extra: Mapping[str, Any] | None = None
    ) -> list[Advance]:
        """An ``onMessageAdded`` in the Conversation ``contact``: to its active execution,
        else a new one on ``incomingConversationMessage``."""
        params: dict[str, Any] = {
            "EventType": "onMessageAdded",
            "AccountSid": self.account_sid,
            "ConversationSid": self.contact,
            "ChannelSid": self.contact,
            "MessageSid": self.env.sid("IM"),
            "Author": "user",
            "From": "user",
            "Body": body,
            "Source": "SDK",
            "ParticipantSid": "MB" + self.contact[2:],
            "DateCreated": self.env.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        params.update(extra or {})
        if isinstance(route_message(self.state if self.active else None), Resume):
            return self._feed(InboundMessage(params))
        return self._start("incomingConversationMessage", data=params)

    def start_call(self, params: Mapping[str, Any]) -> list[Advance]:
        """An incoming call (``incomingCall``, ``trigger.call`` = ``params``): the TwiML
        answers go to ``on_respond``. The server's rule: while an execution is active
        the call is refused (81002) unless the flow allows concurrent calls; this runner
        holds one execution, so the active one then ends first."""
        route = route_call(
            self.bundle.main.definition.allow_concurrent_calls,
            lambda: self.state if self.active else None,
        )
        if isinstance(route, Refuse):
            warning = StepWarning(REFUSED_CALL_CODE, "Execution already active; call refused")
            self.warnings.append(warning)
            if self.on_warning is not None:
                self.on_warning(warning)
            return []
        if self.active:
            self.end("ended")
        return self._start("incomingCall", data=dict(params))

    def start_request(self, parameters: Mapping[str, Any] | None = None) -> list[Advance]:
        """Start an execution as the REST API does (``incomingRequest``, ``Parameters``)."""
        if self.active:
            self.end("ended")
        return self._start("incomingRequest", data={}, parameters=dict(parameters or {}))

    def fire_timeout(self) -> bool:
        """Fire the earliest pending timer now. False when no timer is pending."""
        if not self.timers:
            return False
        timer = min(self.timers, key=lambda t: t.due)
        self.timers.remove(timer)
        advance_to = getattr(self.env, "advance_to", None)
        if callable(advance_to):
            advance_to(timer.due)
        self._feed(TimerFired(timer.token))
        return True

    def end(self, reason: str = "ended") -> list[Advance]:
        """End the active execution from outside (REST ``Status=ended``)."""
        if not self.active:
            return []
        return self._feed(EndExecution(reason))

    def feed(self, event: Event) -> list[Advance]:
        """Apply any event (tests), then perform effects until the execution waits."""
        return self._feed(event)

    # ------------------------------------------------------------------ engine loop
    def _start(
        self, trigger: str, data: dict[str, Any], parameters: dict[str, Any] | None = None
    ) -> list[Advance]:
        self.timers.clear()
        self.state = None
        self.executions += 1
        event = Start(
            trigger=trigger,
            execution_sid=self.env.sid("FN"),
            flow_sid=self.bundle.main.sid,
            contact_address=self.contact,
            flow_address="" if trigger == "incomingConversationMessage" else self.flow_address,
            data=data,
            parameters=parameters or {},
        )
        return self._feed(event)

    def _feed(self, first: Event) -> list[Advance]:
        def saw(result: Advance, before: int) -> None:
            if result.accepted:
                self.state = result.state
            self._report(result)
            if result.ended:
                self.timers.clear()

        def perform(state: ExecutionState, effects: Sequence[Effect]) -> list[Event]:
            return self._perform(effects)

        def capped(limit: int) -> None:
            self.notice(f"stopped after {limit} events without a wait")

        outcome = run_until_wait(
            self.bundle, self.state, first, self.env, perform, on_advance=saw, on_capped=capped
        )
        self.state = outcome.state
        return outcome.advances

    def _report(self, result: Advance) -> None:
        attached = {id(w) for s in result.steps for w in s.warnings}
        self.steps.extend(result.steps)
        self.warnings.extend(result.warnings)
        for step in result.steps:
            if self.on_step is not None:
                self.on_step(step)
        for warning in result.warnings:
            if id(warning) not in attached and self.on_warning is not None:
                self.on_warning(warning)

    def _perform(self, effects: Iterable[Effect]) -> list[Event]:
        return perform_effects(effects, LocalPorts(self))

    def http_client(self) -> httpx.Client | None:
        if self.mocks is not None:
            return None
        if self._client is None:
            self._client = httpx.Client(transport=self._transport, follow_redirects=True)
        return self._client

    def notice(self, text: str) -> None:
        if self.on_notice is not None:
            self.on_notice(text)


class LocalPorts:
    """The in-memory runner's :class:`~callboard.runtime.performer.EffectPorts`: every
    effect is carried out now, in memory (see the module's description)."""

    def __init__(self, runner: LocalRunner) -> None:
        self.runner = runner

    def send_message(self, effect: SendMessage) -> Event | None:
        runner = self.runner
        if runner.on_message is not None:
            runner.on_message(effect)
        sid = runner.env.sid(message_sid_prefix(effect))
        return simulated_send(effect, sid, runner.account_sid, runner.env.now())

    def http_request(self, effect: HttpRequest) -> Event | None:
        return http_result(effect, mocks=self.runner.mocks, client=self.runner.http_client())

    def set_timer(self, token: str, due: datetime | None) -> None:
        runner = self.runner
        runner.timers = [t for t in runner.timers if t.token != token]
        if due is not None:
            runner.timers.append(PendingTimer(token, due))

    def respond(self, effect: Respond) -> Event | None:
        if self.runner.on_respond is not None:
            self.runner.on_respond(effect)
            return None
        return self.unsupported("answer a call with TwiML")

    def voice(self, effect: VoiceEffect) -> Event | None:
        if isinstance(effect, PlaceCall):
            return self.unsupported("place a call")
        return None  # recordings: nothing to record in memory

    def conversation(self, effect: ConversationEffect) -> Event | None:
        """Conversations and Flex tasks: made at once, in memory (``on_notice`` says so)."""
        env, account = self.runner.env, self.runner.account_sid
        if isinstance(effect, CreateFlexTask):
            data = flex_interaction(effect, env.sid("KD"), env.sid("WT"), env.now())
            self.runner.notice(f"Flex task created: {data['sid']}")
            return EffectResult(effect.token, True, data)
        sid = str(effect.options.get("ConversationSid") or "") or env.sid("CH")
        conversation = conversation_resource(effect, sid, account, env.now())
        if effect.participant:
            made = participant_resource(effect, env.sid("MB"), sid, account, env.now())
            conversation["participants"] = [made]
        done = "started" if effect.action == "start" else "resumed"
        self.runner.notice(f"conversation {sid} {done}")
        data = {"conversation": conversation, "webhook_sid": env.sid("WH")}
        return EffectResult(effect.token, True, data)

    def unsupported(self, what: str) -> Event:
        state = self.runner.state
        widget = state.waiting.widget if state and state.waiting else "?"
        self.runner.notice(
            f"widget {widget!r} needs to {what}: voice is not supported here "
            "(messaging only); the execution ends"
        )
        return EndExecution("failed")
