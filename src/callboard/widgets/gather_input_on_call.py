"""Gather Input On Call: play a prompt and collect keypresses or speech.

TwiML::

    <Gather action="?FlowEvent=callback&...&Callback=gather" method="POST"
            input="dtmf speech" timeout="5" finishOnKey="#" numDigits="..."
            speechTimeout="auto" speechModel="..." language="<gather_language>"
            hints="..." profanityFilter="true">
      <Say voice language loop>prompt</Say>          (or <Play loop>url</Play>)
    </Gather>
    <Redirect method="POST">?FlowEvent=callback&...&Callback=timeout</Redirect>

Twilio requests the Gather action when the caller entered digits or said something, and
falls through to the ``<Redirect>`` when there was no input.

Events: ``keypress`` (``Digits`` not empty), ``speech`` (``SpeechResult`` not empty),
``timeout`` (the timeout call-back, or an action call-back with neither).

``stop_gather`` (default true) is read as "a keypress interrupts the prompt": the prompt is
nested inside ``<Gather>``. With ``stop_gather`` false the prompt is played in full before
the ``<Gather>`` starts listening (Callboard's reading of the option; Studio's exact TwiML
is not published).

Variables: the call-back's parameters, with ``Digits`` stripped of a trailing finish key
(``123#`` -> ``123``); a lone finish key stays (``#`` -> ``#``, event ``keypress``), since
real flows test ``Digits`` equal to ``#`` for "press pound for an agent". Also
``SpeechResult``, ``Confidence`` and the call parameters
(``CallSid``, ``From``, ``To``, ``CallStatus``...). No call: warning 81020 and ``timeout``.
"""

from __future__ import annotations

from typing import Any

from callboard.contract.io import CallEvent, Event
from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Widget
from callboard.widgets.voice_common import (
    VOICE_PROPS,
    add_prompt,
    bool_text,
    call_params,
    callback_url,
    has_call,
    int_prop,
    new_response,
    no_call,
    respond,
    text_prop,
)

__all__ = ["WIDGET", "GatherInputOnCall"]


class GatherInputOnCall(Widget):
    type = "gather-input-on-call"
    label = "Gather Input On Call"
    group = "Voice"
    description = "Plays a prompt and collects the caller's keypresses or speech."
    channel = "voice"
    events = (
        EventSpec("keypress", "User Pressed Keys"),
        EventSpec("speech", "User Said Something"),
        EventSpec("timeout", "Timeout"),
    )
    props = (
        OFFSET,
        Prop("say", editor="textarea", label="Text to say", help="Liquid and SSML allowed."),
        Prop("play", label="URL of audio file"),
        *VOICE_PROPS,
        Prop(
            "timeout",
            kind="integer",
            default=5,
            label="Stop gathering after (seconds)",
            editor="number",
            minimum=0,
            maximum=30,
        ),
        Prop("finish_on_key", default="#", label="Finish on key"),
        Prop(
            "stop_gather",
            kind="boolean",
            default=True,
            liquid=False,
            label="Stop gather on keypress",
            editor="checkbox",
        ),
        Prop("number_of_digits", kind="integer", label="Number of digits", editor="number"),
        Prop("speech_timeout", default="auto", label="Speech timeout"),
        Prop(
            "speech_model",
            label="Speech recognition model",
            help="default, numbers_and_commands, phone_call, experimental_conversations...",
        ),
        Prop("gather_language", default="en-US", label="Speech recognition language"),
        Prop("hints", label="Speech recognition hints", help="Comma-separated words or phrases."),
        Prop(
            "profanity_filter",
            default="true",
            enum=("true", "false"),
            liquid=False,
            label="Profanity filter",
            editor="select",
        ),
    )
    variables = ("Digits", "SpeechResult", "Confidence", "CallSid", "From", "To", "CallStatus")

    def start(self, run: Run) -> Outcome:
        if not has_call(run):
            return no_call(run, "Gather Input On Call", "timeout")
        token = run.new_token()
        finish = run.render("finish_on_key")
        attrs: dict[str, Any] = {
            "action": callback_url(run, token, "gather"),
            "method": "POST",
            "input": "dtmf speech",
            "timeout": int_prop(run, "timeout", 5),
            "finish_on_key": finish,
            "num_digits": int_prop(run, "number_of_digits"),
            "speech_timeout": text_prop(run, "speech_timeout"),
            "speech_model": text_prop(run, "speech_model"),
            "language": text_prop(run, "gather_language"),
            "hints": text_prop(run, "hints"),
            "profanity_filter": bool_text(run.prop("profanity_filter", "true")),
        }
        response = new_response()
        stop_on_key = run.prop("stop_gather", True) is not False
        if stop_on_key:
            gather = response.gather(**attrs)
            add_prompt(run, gather)
        else:
            add_prompt(run, response)
            response.gather(**attrs)
        response.redirect(callback_url(run, token, "timeout"), method="POST")
        return respond(response, token, memo={"finish_on_key": finish})

    def resume(self, run: Run, event: Event) -> Outcome | None:
        if not isinstance(event, CallEvent) or event.name not in ("gather", "timeout"):
            return None
        variables = call_params(event.params)
        if event.name == "timeout":
            return Done("timeout", variables=variables)
        digits = str(variables.get("Digits") or "")
        finish = str(run.memo.get("finish_on_key") or "")
        if len(digits) > 1 and finish and digits[-1] in finish:
            digits = digits[:-1]
        if "Digits" in variables:
            variables["Digits"] = digits
        if digits:
            return Done("keypress", variables=variables)
        if str(variables.get("SpeechResult") or "").strip():
            return Done("speech", variables=variables)
        return Done("timeout", variables=variables)


WIDGET = GatherInputOnCall()
