"""Call Recording: start or stop recording the live call.

Unlike the other voice widgets this one answers no webhook: it asks the runtime to call
Twilio's Call Recordings REST API (effect :class:`~callboard.contract.io.StartRecording`
when ``record_call`` is true, :class:`~callboard.contract.io.StopRecording` when false) and
waits for the :class:`~callboard.contract.io.EffectResult`.

Events: ``success`` (the API accepted the request), ``failed`` (it did not).
Variables: the Recording resource (``Sid``, ``CallSid``, ``Status``, ``Channels``...).
No call: warning 81020 and ``failed``.
"""

from __future__ import annotations

from typing import Any

from callboard.contract.io import EffectResult, Event, StartRecording, StopRecording
from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Wait, Widget
from callboard.widgets.voice_common import bool_text, call_sid, has_call, no_call, text_prop

__all__ = ["WIDGET", "RecordCall"]


class RecordCall(Widget):
    type = "record-call"
    label = "Call Recording"
    group = "Voice"
    description = "Starts or stops recording the call."
    channel = "voice"
    events = (EventSpec("success", "Success"), EventSpec("failed", "Failed"))
    props = (
        OFFSET,
        Prop(
            "record_call",
            kind="boolean",
            required=True,
            default=False,
            liquid=False,
            editor="checkbox",
            label="Record call (unchecked: stop recording)",
        ),
        Prop("recording_status_callback", label="Recording status callback URL"),
        Prop(
            "recording_status_callback_method",
            default="POST",
            enum=("POST", "GET"),
            liquid=False,
            editor="select",
        ),
        Prop(
            "recording_status_callback_events",
            default="completed",
            help="Space-separated: in-progress completed absent.",
        ),
        Prop(
            "recording_channels",
            default="dual",
            enum=("dual", "mono"),
            liquid=False,
            editor="select",
        ),
        Prop(
            "trim",
            default="do-not-trim",
            enum=("do-not-trim", "trim-silence"),
            liquid=False,
            editor="select",
        ),
    )
    variables = ("Sid", "CallSid", "Status", "Channels", "Source", "StartTime", "Uri")

    def start(self, run: Run) -> Outcome:
        if not has_call(run):
            return no_call(run, "Call Recording", "failed")
        sid = call_sid(run)
        token = run.new_token()
        if bool_text(run.prop("record_call", False)) != "true":
            return Wait(token, (StopRecording(token, sid),))
        options: dict[str, Any] = {
            "RecordingChannels": text_prop(run, "recording_channels") or "dual",
            "Trim": text_prop(run, "trim") or "do-not-trim",
        }
        callback = text_prop(run, "recording_status_callback")
        if callback:
            options["RecordingStatusCallback"] = callback
            options["RecordingStatusCallbackMethod"] = (
                text_prop(run, "recording_status_callback_method") or "POST"
            )
            events = text_prop(run, "recording_status_callback_events") or "completed"
            options["RecordingStatusCallbackEvent"] = events.replace(",", " ").split()
        return Wait(token, (StartRecording(token, sid, options),))

    def resume(self, run: Run, event: Event) -> Outcome | None:
        if not isinstance(event, EffectResult):
            return None
        data = dict(event.data)
        if not event.ok:
            return Done("failed", variables=data)
        return Done("success", variables=data)


WIDGET = RecordCall()
