"""Say/Play: speak text, play an audio file or send DTMF tones on the live call.

TwiML: ``<Say voice language loop>text</Say>`` (or ``<Play loop>url</Play>``, or
``<Play digits="..."/>``) followed by ``<Redirect method="POST">`` to the ``complete``
call-back; when Twilio follows it the widget takes ``audioComplete``. Exactly one of
``say``/``play``/``digits`` is used, in that order of preference.

Variables: Twilio's parameters from that call-back (``CallSid``, ``CallStatus``...).
No call (messaging/REST execution): warning 81020 and the execution ends (the widget has
no failure event).
"""

from __future__ import annotations

from callboard.contract.io import CallEvent, Event
from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Widget
from callboard.widgets.voice_common import (
    VOICE_PROPS,
    add_prompt,
    call_params,
    callback_url,
    has_call,
    new_response,
    no_call,
    respond,
    text_prop,
)

__all__ = ["WIDGET", "SayPlay"]


class SayPlay(Widget):
    type = "say-play"
    label = "Say/Play"
    group = "Voice"
    description = "Speaks text, plays an audio file or sends digits on the call."
    channel = "voice"
    events = (EventSpec("audioComplete", "Audio Complete"),)
    props = (
        OFFSET,
        Prop("say", editor="textarea", label="Text to say", help="Liquid and SSML allowed."),
        Prop("play", label="URL of audio file"),
        Prop("digits", label="Digits", help="DTMF tones to send: 0-9, A-D, w, W, #, *."),
        *VOICE_PROPS,
    )
    variables = ("CallSid", "CallStatus", "From", "To")

    def start(self, run: Run) -> Outcome:
        if not has_call(run):
            return no_call(run, "Say/Play")
        token = run.new_token()
        response = new_response()
        if not add_prompt(run, response):
            digits = text_prop(run, "digits")
            if digits is not None:
                response.play(digits=digits)
        response.redirect(callback_url(run, token, "complete"), method="POST")
        return respond(response, token)

    def resume(self, run: Run, event: Event) -> Outcome | None:
        if isinstance(event, CallEvent) and event.name == "complete":
            return Done("audioComplete", variables=call_params(event.params))
        return None


WIDGET = SayPlay()
