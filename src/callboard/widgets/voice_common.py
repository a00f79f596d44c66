"""Helpers shared by the voice widget modules (not a widget).

How a voice widget talks to Twilio (the runtime does the HTTP part):

* ``start`` answers the webhook or call-back being handled with TwiML
  (:class:`~callboard.contract.io.Respond`) and waits: ``Wait(token, (Respond(twiml, token),))``.
* Every call-back URL inside that TwiML is a **relative** URL that Twilio resolves against
  the flow webhook URL (``/v1/Accounts/{AC}/Flows/{FW}``)::

      ?FlowEvent=callback&ExecutionSid=FN...&Token=t7&Callback=gather

  The runtime turns such a request into ``CallEvent(token, name, params)`` where ``name`` is
  the ``Callback`` value and ``params`` Twilio's request parameters. A token names one wait,
  so a stale or repeated call-back (old token) is ignored by the engine.
* A call status call-back saying the caller hung up while a widget waits arrives as
  ``CallEvent(token, "hangup", params)``. Widgets with a ``hangup`` event take it; the
  others return ``None`` and the runtime ends the execution.

A voice widget reached when there is no call (a messaging or REST execution that placed no
call) records warning 81020 and takes its failure event when it has one, else ends the
execution (see :func:`no_call`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard
from urllib.parse import urlencode

from twilio.twiml.voice_response import VoiceResponse  # type: ignore[import-untyped]

from callboard.contract.io import CallEvent, Event, Respond
from callboard.contract.widget import Done, Prop, Run, Wait

__all__ = [
    "INTERNAL_PARAMS",
    "NO_CALL_EVENT",
    "UNSUPPORTED",
    "VOICE_PROPS",
    "add_prompt",
    "bool_text",
    "call_params",
    "call_sid",
    "callback_url",
    "has_call",
    "int_prop",
    "is_hangup",
    "new_response",
    "no_call",
    "respond",
    "text_prop",
]

UNSUPPORTED = 81020
"""Studio's warning code for a widget used where it cannot work."""

NO_CALL_EVENT = "unsupported"
"""The step name recorded when a voice widget without a failure event ends the execution
because there is no call (no transition has this event, so the execution ends)."""

INTERNAL_PARAMS = frozenset({"FlowEvent", "ExecutionSid", "Token", "Callback"})
"""Query parameters of Callboard's call-back URLs; never copied into widget variables."""


def callback_url(run: Run, token: str, name: str) -> str:
    """The relative call-back URL for wait ``token`` and call-back ``name``."""
    flow = run.context.get("flow")
    sid = flow.get("sid", "") if isinstance(flow, Mapping) else ""
    query = {"FlowEvent": "callback", "ExecutionSid": str(sid), "Token": token, "Callback": name}
    return "?" + urlencode(query)


def new_response() -> Any:
    """An empty ``twilio.twiml.voice_response.VoiceResponse``."""
    return VoiceResponse()


def respond(response: Any, token: str, memo: dict[str, Any] | None = None) -> Wait:
    """Answer the current webhook with ``response`` and wait for ``token``."""
    twiml: str = str(response)
    return Wait(token, (Respond(twiml, token),), memo=memo or {})


def call_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Twilio's call-back parameters as widget variables (Callboard's own query removed)."""
    return {str(k): v for k, v in params.items() if k not in INTERNAL_PARAMS}


def is_hangup(event: Event) -> TypeGuard[CallEvent]:
    return isinstance(event, CallEvent) and event.name == "hangup"


def _trigger(run: Run) -> Mapping[str, Any]:
    trigger = run.context.get("trigger")
    return trigger if isinstance(trigger, Mapping) else {}


def call_sid(run: Run) -> str:
    """The SID of the call the execution drives: the incoming call's, else the latest
    call-back's (a Make Outgoing Call answered), else ``""``."""
    call = _trigger(run).get("call")
    if isinstance(call, Mapping) and call.get("CallSid"):
        return str(call["CallSid"])
    widgets = run.context.get("widgets")
    if isinstance(widgets, Mapping):
        for value in reversed(list(widgets.values())):
            if isinstance(value, Mapping) and value.get("CallSid"):
                return str(value["CallSid"])
    return ""


def has_call(run: Run) -> bool:
    """Whether there is a live call for voice widgets to drive.

    True for an incoming-call execution, after a widget recorded a ``CallSid`` (a Make
    Outgoing Call that was answered), and inside a subflow not started from a message (the
    parent's widgets, which may have placed the call, are not visible there).
    """
    trigger = _trigger(run)
    if call_sid(run) or "call" in trigger:
        return True
    if "message" in trigger or "conversation" in trigger:
        return False
    return "parent" in trigger


def no_call(run: Run, what: str, failure_event: str | None = None) -> Done:
    """Warning 81020, then ``failure_event`` (or end the execution when it is None)."""
    run.warn(
        UNSUPPORTED,
        f"{what} needs a live voice call, and this execution has none; "
        + (f"taking {failure_event!r}" if failure_event else "the execution ends"),
    )
    return Done(failure_event or NO_CALL_EVENT, variables={})


def text_prop(run: Run, name: str) -> str | None:
    """A rendered, stripped string property; None when empty."""
    value = run.render(name).strip()
    return value or None


def int_prop(run: Run, name: str, default: int | None = None) -> int | None:
    """An integer property given as a number or (Liquid) text; ``default`` when absent
    or not a whole number (a warning names the bad value)."""
    raw = run.prop(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return default
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    text = run.render(name).strip()
    if text == "":
        return default
    try:
        return int(float(text)) if "." in text else int(text)
    except ValueError:
        run.warn(81027, f"Property {name} must be a whole number, found {text!r}; using default")
        return default


def bool_text(value: Any) -> str:
    """``"true"``/``"false"`` for a boolean-ish property value."""
    if isinstance(value, str):
        return "false" if value.strip().lower() in ("false", "0", "no", "") else "true"
    return "true" if value else "false"


VOICE_PROPS = (
    Prop("voice", label="Voice", help="Text-to-speech voice, e.g. alice, Polly.Joanna."),
    Prop("language", label="Language", help="Text-to-speech language, e.g. en-US."),
    Prop(
        "loop",
        kind="integer",
        default=1,
        label="Loop",
        editor="number",
        minimum=1,
        maximum=99,
    ),
)


def add_prompt(run: Run, parent: Any) -> bool:
    """Add the ``say`` or ``play`` prompt (with voice/language/loop) to ``parent``
    (a VoiceResponse or Gather). Returns whether a prompt was added."""
    loop = int_prop(run, "loop", 1)
    say = text_prop(run, "say")
    if say is not None:
        parent.say(
            say, voice=text_prop(run, "voice"), language=text_prop(run, "language"), loop=loop
        )
        return True
    play = text_prop(run, "play")
    if play is not None:
        parent.play(play, loop=loop)
        return True
    return False
