"""Record Voicemail: record the caller until silence, the finish key or the time limit.

TwiML: ``<Record action="?...&Callback=record" method="POST" timeout maxLength
finishOnKey playBeep trim transcribe transcribeCallback recordingStatusCallback/>``.

Events: ``recordingComplete`` (the Record action call-back with a recording),
``noAudio`` (an action call-back without ``RecordingUrl`` — Twilio only sends those on
legacy accounts), ``hangup`` (the caller hung up: a hang-up call-back, or an action whose
``Digits`` is ``hangup`` and that carries no recording). A caller who leaves a message and
then hangs up (the usual case: ``Digits=hangup`` with a ``RecordingUrl``) takes
``recordingComplete``, so the message is not lost.

Variables: the Record action parameters (``RecordingUrl``, ``RecordingSid``,
``RecordingDuration``, ``Digits`` = the finish key or ``hangup``) and call parameters.
Studio does not process transcriptions itself; ``transcription_callback_url`` receives them.
No call: warning 81020 and the execution ends.
"""

from __future__ import annotations

from callboard.contract.io import CallEvent, Event
from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Widget
from callboard.widgets.voice_common import (
    bool_text,
    call_params,
    callback_url,
    has_call,
    int_prop,
    is_hangup,
    new_response,
    no_call,
    respond,
    text_prop,
)

__all__ = ["WIDGET", "RecordVoicemail"]


class RecordVoicemail(Widget):
    type = "record-voicemail"
    label = "Record Voicemail"
    group = "Voice"
    description = "Records a message from the caller."
    channel = "voice"
    events = (
        EventSpec("recordingComplete", "Recording Complete"),
        EventSpec("noAudio", "No Audio"),
        EventSpec("hangup", "User Hung Up"),
    )
    props = (
        OFFSET,
        Prop("timeout", kind="integer", default=5, editor="number", label="Stop after silence"),
        Prop("finish_on_key", default="#", label="Stop recording on keypress"),
        Prop(
            "max_length",
            kind="integer",
            default=3600,
            editor="number",
            minimum=1,
            maximum=14400,
            label="Max recording length (seconds)",
        ),
        Prop("transcribe", kind="boolean", default=False, liquid=False, editor="checkbox"),
        Prop("transcription_callback_url", label="Transcription callback URL"),
        Prop(
            "trim",
            default="trim-silence",
            enum=("trim-silence", "do-not-trim"),
            liquid=False,
            editor="select",
        ),
        Prop(
            "play_beep",
            default="true",
            enum=("true", "false"),
            liquid=False,
            editor="select",
            label="Play beep",
        ),
        Prop("recording_status_callback_url", label="Recording status callback URL"),
    )
    variables = ("RecordingUrl", "RecordingSid", "RecordingDuration", "Digits", "CallSid")

    def start(self, run: Run) -> Outcome:
        if not has_call(run):
            return no_call(run, "Record Voicemail")
        token = run.new_token()
        transcribe = run.prop("transcribe")
        response = new_response()
        response.record(
            action=callback_url(run, token, "record"),
            method="POST",
            timeout=int_prop(run, "timeout", 5),
            max_length=int_prop(run, "max_length", 3600),
            finish_on_key=run.render("finish_on_key"),
            play_beep=bool_text(run.prop("play_beep", "true")),
            trim=text_prop(run, "trim"),
            transcribe=bool_text(transcribe) if transcribe is not None else None,
            transcribe_callback=text_prop(run, "transcription_callback_url"),
            recording_status_callback=text_prop(run, "recording_status_callback_url"),
        )
        return respond(response, token)

    def resume(self, run: Run, event: Event) -> Outcome | None:
        if is_hangup(event):
            return Done("hangup", variables=call_params(event.params))
        if not isinstance(event, CallEvent) or event.name != "record":
            return None
        variables = call_params(event.params)
        if not variables.get("RecordingUrl"):
            hung_up = str(variables.get("Digits") or "") == "hangup"
            return Done("hangup" if hung_up else "noAudio", variables=variables)
        return Done("recordingComplete", variables=variables)


WIDGET = RecordVoicemail()
