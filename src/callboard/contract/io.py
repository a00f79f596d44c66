"""What goes into the engine (events) and what comes out of it (effects).

The engine never performs I/O. A widget that needs the outside world returns effects and
waits; the runtime performs them and feeds the result back as an event that carries the
wait's ``token``. A token names one wait of one step, so a late, repeated or superseded
result (a timer that fires after the reply came in, a retried call-back) is ignored.

Every event and effect is a frozen dataclass that converts to and from plain JSON, so
the runtime can store them (durable timers, outbox) and tests can write them as data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar, TypeAlias

__all__ = [
    "CONVERSATION_AUTHOR",
    "CallEvent",
    "CancelTimer",
    "ConversationEffect",
    "CreateFlexTask",
    "Effect",
    "EffectResult",
    "EndExecution",
    "Event",
    "HttpRequest",
    "InboundMessage",
    "MessageStatus",
    "OpenConversation",
    "PlaceCall",
    "Respond",
    "SendMessage",
    "Start",
    "StartRecording",
    "StartTimer",
    "StopRecording",
    "TimerFired",
    "effect_from_json",
    "effect_to_json",
    "event_from_json",
    "event_to_json",
]

CONVERSATION_AUTHOR = "system"
"""The author of the messages a flow posts in a Conversation (as Studio's); the
Conversations channel ignores ``onMessageAdded`` for this author (its own messages)."""

TRIGGER_EVENTS = (
    "incomingMessage",
    "incomingCall",
    "incomingConversationMessage",
    "incomingRequest",
    "incomingParent",
)

# ---------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Start:
    """Start an execution at the Trigger.

    ``trigger`` is one of :data:`TRIGGER_EVENTS`; ``data`` becomes ``trigger.<kind>``
    (``trigger.message`` for incomingMessage, ``trigger.call``, ``trigger.conversation``,
    ``trigger.request``). ``parameters`` are REST ``Parameters`` (``flow.data``).
    """

    kind: ClassVar[str] = "start"
    trigger: str
    execution_sid: str
    flow_sid: str
    contact_address: str
    flow_address: str
    data: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A message from the contact to an active execution (the webhook's parameters)."""

    kind: ClassVar[str] = "inbound_message"
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EffectResult:
    """The outcome of an effect the engine asked for (message sent, HTTP response...).

    ``ok`` is the effect-level success (message accepted, HTTP request completed);
    ``data`` carries the details each effect documents.
    """

    kind: ClassVar[str] = "effect_result"
    token: str
    ok: bool
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MessageStatus:
    """A delivery status call-back for a message a widget sent (``failed``/``undelivered``
    make a waiting Send & Wait For Reply take ``deliveryFailure``)."""

    kind: ClassVar[str] = "message_status"
    token: str
    status: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TimerFired:
    kind: ClassVar[str] = "timer_fired"
    token: str


@dataclass(frozen=True, slots=True)
class CallEvent:
    """A voice call-back (gather/dial/record/enqueue/pay action, redirect return, call
    status). ``name`` says which; ``params`` are Twilio's request parameters."""

    kind: ClassVar[str] = "call_event"
    token: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EndExecution:
    """End the execution from outside (REST ``Status=ended``, retention, hang-up)."""

    kind: ClassVar[str] = "end"
    reason: str = "ended"


Event: TypeAlias = (
    Start | InboundMessage | EffectResult | MessageStatus | TimerFired | CallEvent | EndExecution
)

# --------------------------------------------------------------------------- effects


@dataclass(frozen=True, slots=True)
class SendMessage:
    """Send a message. Result: :class:`EffectResult` with ``ok`` = accepted by the
    provider and ``data`` = the provider's message resource (``Sid``, ``Status``, ``To``,
    ``From``, ``Body``...). Later delivery call-backs come as :class:`MessageStatus`."""

    kind: ClassVar[str] = "send_message"
    token: str
    to: str
    from_: str
    body: str
    media_urls: tuple[str, ...] = ()
    service: str = ""
    channel: str = ""
    attributes: str = ""
    message_type: str = ""
    content_sid: str = ""
    content_variables: dict[str, str] = field(default_factory=dict)
    shorten_urls: bool = False
    # A conversation execution (``flow.channel.ConversationSid``): the message is posted
    # to that Conversation (``POST /v1/Conversations/{CH}/Messages``) as ``author``
    # instead of going through the Messages API; ``to``/``from_`` are then unused.
    conversation_sid: str = ""
    author: str = ""


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """An HTTP request (Make HTTP Request, Run Function). Result: :class:`EffectResult`
    with ``ok`` = a response arrived, and ``data`` = ``{"status_code", "content_type",
    "body", "headers"}``; on network error or timeout ``ok`` is false and ``data`` holds
    ``{"error": "..."}``. Bodies longer than ``max_bytes`` are an error."""

    kind: ClassVar[str] = "http_request"
    token: str
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    timeout: float = 10.0
    max_bytes: int = 65536
    purpose: str = "http"  # "http" (Make HTTP Request) or "function" (Run Function)
    # Make HTTP Request's add_twilio_auth: the runtime adds the account's credentials
    # (HTTP Basic). The engine only sets it for Twilio API URLs.
    twilio_auth: bool = False


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Fire :class:`TimerFired` with ``token`` at ``due`` (UTC)."""

    kind: ClassVar[str] = "start_timer"
    token: str
    due: datetime


@dataclass(frozen=True, slots=True)
class CancelTimer:
    kind: ClassVar[str] = "cancel_timer"
    token: str


@dataclass(frozen=True, slots=True)
class Respond:
    """Answer the voice webhook or call-back currently being handled with TwiML.
    Voice widgets return it with a wait; the TwiML's action URLs carry ``token``."""

    kind: ClassVar[str] = "respond"
    twiml: str
    token: str = ""


@dataclass(frozen=True, slots=True)
class PlaceCall:
    """Start an outbound call (Make Outgoing Call). Result: :class:`CallEvent`s with the
    same token (``answered``/``status``) as the call progresses."""

    kind: ClassVar[str] = "place_call"
    token: str
    to: str
    from_: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StartRecording:
    """Start recording the live call ``call_sid`` (Call Recording widget), as Twilio's
    ``POST /Calls/{CallSid}/Recordings`` does. ``options`` uses that API's parameter names:
    ``RecordingStatusCallback``, ``RecordingStatusCallbackMethod``,
    ``RecordingStatusCallbackEvent`` (list), ``RecordingChannels``, ``Trim``. Result:
    :class:`EffectResult` with ``ok`` = recording started and ``data`` = the Recording
    resource (``Sid``, ``CallSid``, ``Status``...) or ``{"error": "..."}``."""

    kind: ClassVar[str] = "start_recording"
    token: str
    call_sid: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StopRecording:
    """Stop the current recording of call ``call_sid`` (``POST
    /Calls/{CallSid}/Recordings/Twilio.CURRENT`` with ``Status=stopped``). Result as
    :class:`StartRecording`."""

    kind: ClassVar[str] = "stop_recording"
    token: str
    call_sid: str


@dataclass(frozen=True, slots=True)
class OpenConversation:
    """Start Conversation / Resume Conversation: attach the execution to a Twilio
    Conversation. ``action`` ``start`` creates the Conversation (``options``:
    ``ChatServiceSid``, ``FriendlyName``, ``Attributes``, ``MessagingServiceSid``) and its
    one participant (``participant``: ``Identity`` or ``MessagingBinding.Address`` /
    ``MessagingBinding.ProxyAddress``); ``resume`` fetches ``options["ConversationSid"]``.
    Either way a conversation-scoped ``onMessageAdded`` webhook back to the flow (naming
    the execution) is created, so the conversation's messages resume it. Result:
    :class:`EffectResult` with ``data`` = ``{"conversation": {...}, "webhook_sid"}`` or
    ``{"error", "ErrorCode", "ErrorMessage"}``."""

    kind: ClassVar[str] = "open_conversation"
    token: str
    action: str  # "start" | "resume"
    options: dict[str, Any] = field(default_factory=dict)
    participant: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CreateFlexTask:
    """Send to Flex for a message or conversation execution: a Flex Interaction (with its
    TaskRouter task) through Flex's Interactions API. ``channel`` and ``routing`` are the
    Interaction's ``Channel`` and ``Routing`` JSON objects. Result: :class:`EffectResult`
    with ``data`` = the Interaction resource (``Sid``, ``Channel``, ``Routing``, ``Url``)
    or ``{"error", "ErrorCode", "ErrorMessage"}``."""

    kind: ClassVar[str] = "create_flex_task"
    token: str
    channel: dict[str, Any] = field(default_factory=dict)
    routing: dict[str, Any] = field(default_factory=dict)


ConversationEffect: TypeAlias = OpenConversation | CreateFlexTask

Effect: TypeAlias = (
    SendMessage
    | HttpRequest
    | StartTimer
    | CancelTimer
    | Respond
    | PlaceCall
    | StartRecording
    | StopRecording
    | OpenConversation
    | CreateFlexTask
)

_EVENT_TYPES: dict[str, type[Any]] = {
    c.kind: c
    for c in (
        Start,
        InboundMessage,
        EffectResult,
        MessageStatus,
        TimerFired,
        CallEvent,
        EndExecution,
    )
}
_EFFECT_TYPES: dict[str, type[Any]] = {
    c.kind: c
    for c in (
        SendMessage,
        HttpRequest,
        StartTimer,
        CancelTimer,
        Respond,
        PlaceCall,
        StartRecording,
        StopRecording,
        OpenConversation,
        CreateFlexTask,
    )
}


def _to_json(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": obj.kind}
    for k, v in asdict(obj).items():
        if isinstance(v, datetime):
            v = v.isoformat()
        elif isinstance(v, tuple):
            v = list(v)
        out[k] = v
    return out


def _from_json(table: dict[str, type[Any]], data: dict[str, Any]) -> Any:
    cls = table.get(str(data.get("kind")))
    if cls is None:
        raise ValueError(f"unknown kind {data.get('kind')!r}")
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        v = data[f.name]
        if f.name == "due" and isinstance(v, str):
            v = datetime.fromisoformat(v)
        elif f.name == "media_urls" and isinstance(v, list):
            v = tuple(v)
        kwargs[f.name] = v
    return cls(**kwargs)


def event_to_json(event: Event) -> dict[str, Any]:
    return _to_json(event)


def event_from_json(data: dict[str, Any]) -> Event:
    result: Event = _from_json(_EVENT_TYPES, data)
    return result


def effect_to_json(effect: Effect) -> dict[str, Any]:
    return _to_json(effect)


def effect_from_json(data: dict[str, Any]) -> Effect:
    result: Effect = _from_json(_EFFECT_TYPES, data)
    return result
