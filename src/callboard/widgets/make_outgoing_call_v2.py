"""Make Outgoing Call: place a call to the contact; later voice widgets drive it.

The widget emits :class:`~callboard.contract.io.PlaceCall` (``options`` use the Twilio Calls
API parameter names: ``Timeout``, ``Record``, ``RecordingChannels``,
``RecordingStatusCallback``, ``Trim``, ``MachineDetection``, ``MachineDetectionTimeout``,
``MachineDetectionSpeechThreshold``, ``MachineDetectionSpeechEndThreshold``,
``MachineDetectionSilenceTimeout``, ``SendDigits``, ``SipAuthUsername``,
``SipAuthPassword``, ``StatusCallbackEvent``) and waits for call events with its token:

* ``CallEvent("answered", params)`` (Twilio requested the call's TwiML; ``AnsweredBy`` set
  when answering-machine detection is on) -> ``answered``. The runtime answers that
  request with the TwiML of the next voice widget;
* ``CallEvent("status", params)`` with ``CallStatus`` ``busy`` -> ``busy``, ``no-answer``
  -> ``noAnswer``, ``failed``/``canceled``/``completed`` -> ``failed``; other statuses
  (``queued``, ``initiated``, ``ringing``, ``in-progress``) keep the widget waiting;
* ``EffectResult`` with ``ok`` false (the call could not be created) -> ``failed``.

Variables: the event's parameters (``CallSid``, ``CallStatus``, ``AnsweredBy``, ``From``,
``To``, ``MachineDetectionDuration``...).
"""

from __future__ import annotations

from typing import Any

from callboard.contract.io import CallEvent, EffectResult, Event, PlaceCall
from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Wait, Widget
from callboard.widgets.voice_common import bool_text, call_params, int_prop, text_prop

__all__ = ["WIDGET", "MakeOutgoingCall"]

STATUS_EVENTS = {
    "busy": "busy",
    "no-answer": "noAnswer",
    "failed": "failed",
    "canceled": "failed",
    "completed": "failed",
}
STATUS_CALLBACK_EVENTS = ["initiated", "ringing", "answered", "completed"]

PROPS = (
    OFFSET,
    Prop("to", default="{{contact.channel.address}}", required=True, label="Call to"),
    Prop("from", default="{{flow.channel.address}}", required=True, label="Call from"),
    Prop("record", kind="boolean", default=False, liquid=False, editor="checkbox"),
    Prop(
        "recording_channels", default="mono", enum=("mono", "dual"), liquid=False, editor="select"
    ),
    Prop("recording_status_callback", label="Recording status callback URL"),
    Prop("trim", enum=("trim-silence", "do-not-trim"), editor="select"),
    Prop(
        "detect_answering_machine",
        kind="boolean",
        default=False,
        liquid=False,
        editor="checkbox",
    ),
    Prop(
        "machine_detection",
        default="Enable",
        enum=("Enable", "DetectMessageEnd"),
        liquid=False,
        editor="select",
    ),
    Prop("machine_detection_timeout", default="30"),
    Prop("machine_detection_speech_threshold", default="2400"),
    Prop("machine_detection_speech_end_threshold", default="1200"),
    Prop("machine_detection_silence_timeout", default="5000"),
    Prop("send_digits", label="Send digits"),
    Prop("timeout", kind="integer", default=60, editor="number", minimum=0, maximum=600),
    Prop("sip_auth_username", label="SIP username"),
    Prop("sip_auth_password", label="SIP password"),
)

EVENTS = (
    EventSpec("answered", "Answered"),
    EventSpec("busy", "Busy"),
    EventSpec("noAnswer", "No Answer"),
    EventSpec("failed", "Failed"),
)


class MakeOutgoingCall(Widget):
    type = "make-outgoing-call-v2"
    label = "Make Outgoing Call"
    group = "Voice"
    description = "Places a call to the contact; the widgets after Answered drive that call."
    channel = "any"
    events = EVENTS
    props = PROPS
    variables = ("CallSid", "CallStatus", "AnsweredBy", "From", "To", "MachineDetectionDuration")

    def start(self, run: Run) -> Outcome:
        token = run.new_token()
        effect = PlaceCall(
            token, run.render("to").strip(), run.render("from").strip(), _options(run)
        )
        return Wait(token, (effect,), memo={"token": token})

    def resume(self, run: Run, event: Event) -> Outcome | None:
        if isinstance(event, EffectResult):
            if event.ok:
                return Wait(str(run.memo.get("token")), memo=run.memo)
            return Done("failed", variables=dict(event.data))
        if not isinstance(event, CallEvent):
            return None
        variables = call_params(event.params)
        if event.name == "answered":
            return Done("answered", variables=variables)
        if event.name == "status":
            outcome = STATUS_EVENTS.get(str(variables.get("CallStatus") or ""))
            if outcome is None:
                return Wait(str(run.memo.get("token")), memo=run.memo)
            return Done(outcome, variables=variables)
        return None


def _options(run: Run) -> dict[str, Any]:
    options: dict[str, Any] = {
        "Timeout": int_prop(run, "timeout", 60),
        "StatusCallbackEvent": list(STATUS_CALLBACK_EVENTS),
    }
    if bool_text(run.prop("record", False)) == "true":
        options["Record"] = True
        options["RecordingChannels"] = text_prop(run, "recording_channels") or "mono"
        callback = text_prop(run, "recording_status_callback")
        if callback:
            options["RecordingStatusCallback"] = callback
        trim = text_prop(run, "trim")
        if trim in ("trim-silence", "do-not-trim"):
            options["Trim"] = trim
    if bool_text(run.prop("detect_answering_machine", False)) == "true":
        options["MachineDetection"] = text_prop(run, "machine_detection") or "Enable"
        for prop, key, default in (
            ("machine_detection_timeout", "MachineDetectionTimeout", 30),
            ("machine_detection_speech_threshold", "MachineDetectionSpeechThreshold", 2400),
            ("machine_detection_speech_end_threshold", "MachineDetectionSpeechEndThreshold", 1200),
            ("machine_detection_silence_timeout", "MachineDetectionSilenceTimeout", 5000),
        ):
            options[key] = int_prop(run, prop, default)
    for prop, key in (
        ("send_digits", "SendDigits"),
        ("sip_auth_username", "SipAuthUsername"),
        ("sip_auth_password", "SipAuthPassword"),
    ):
        value = text_prop(run, prop)
        if value:
            options[key] = value
    return options


WIDGET = MakeOutgoingCall()
