"""Run ConversationRelay: hand the live call to a ConversationRelay session (real-time AI
voice over a WebSocket) and go on when it ends.

TwiML: ``<Connect action="?…&Callback=relay"><ConversationRelay url welcomeGreeting
ttsProvider voice language transcriptionProvider speechModel dtmfDetection
interruptible …><Parameter name value/>…</ConversationRelay></Connect>``, the attributes
from the widget's properties (only those set), ``parameters`` as ``<Parameter>``s.

When the session ends Twilio requests the ``<Connect>`` action: its parameters
(``SessionId``, ``SessionStatus``, ``SessionDuration``, ``HandoffData``…) become the
widget's variables — ``HandoffData`` parsed when it is a JSON object — and the widget
takes ``success``; ``failed`` when the session failed (``SessionStatus`` ``failed`` or an
``ErrorCode``). Without a live call: warning 81020 and ``failed``.
"""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any

from callboard.contract.io import CallEvent, Event
from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Widget
from callboard.widgets.common import key_values
from callboard.widgets.voice_common import (
    call_params,
    callback_url,
    has_call,
    new_response,
    no_call,
    respond,
    text_prop,
)

__all__ = ["WIDGET", "RunConversationRelay"]

ATTRIBUTES = {
    "url": "url",
    "welcome_greeting": "welcome_greeting",
    "tts_provider": "tts_provider",
    "voice": "voice",
    "language": "language",
    "transcription_provider": "transcription_provider",
    "speech_model": "speech_model",
    "dtmf_detection": "dtmf_detection",
    "interruptible": "interruptible",
}


class RunConversationRelay(Widget):
    type = "run-conversation-relay"
    label = "Run ConversationRelay"
    group = "Voice"
    description = "Connects the call to a ConversationRelay (AI voice) session."
    channel = "voice"
    events = (
        EventSpec("success", "Success"),
        EventSpec("failed", "Failed"),
    )
    props = (
        OFFSET,
        Prop("url", required=True, label="WebSocket URL (wss://)"),
        Prop("welcome_greeting", label="Welcome greeting"),
        Prop("tts_provider", label="Text-to-speech provider"),
        Prop("voice", label="Voice"),
        Prop("language", label="Language"),
        Prop("transcription_provider", label="Speech-to-text provider"),
        Prop("speech_model", label="Speech model"),
        Prop("dtmf_detection", label="DTMF detection", help='"true" or "false"'),
        Prop("interruptible", label="Interruptible", help='"true" or "false"'),
        Prop("parameters", kind="key_values", editor="key_values"),
    )
    variables = ("HandoffData", "SessionId", "SessionStatus", "SessionDuration")

    def start(self, run: Run) -> Outcome:
        if not has_call(run):
            return no_call(run, "Run ConversationRelay", "failed")
        url = text_prop(run, "url")
        if not url:
            run.warn(81020, "Run ConversationRelay needs a WebSocket url")
            return Done("failed", variables={})
        token = run.new_token()
        attributes: dict[str, Any] = {}
        for prop, name in ATTRIBUTES.items():
            value = text_prop(run, prop)
            if value is not None:
                attributes[name] = value
        response = new_response()
        connect = response.connect(action=callback_url(run, token, "relay"), method="POST")
        relay = connect.conversation_relay(**attributes)
        for key, value in key_values(run, "parameters").items():
            relay.parameter(name=key, value=value)
        return respond(response, token)

    def resume(self, run: Run, event: Event) -> Outcome | None:
        if not isinstance(event, CallEvent) or event.name != "relay":
            return None
        variables = call_params(event.params)
        handoff = variables.get("HandoffData")
        if isinstance(handoff, str) and handoff.strip().startswith("{"):
            with suppress(ValueError):  # else kept as the string Twilio sent
                variables["HandoffData"] = json.loads(handoff)
        status = str(variables.get("SessionStatus") or "").lower()
        failed = status == "failed" or variables.get("ErrorCode") not in (None, "")
        return Done("failed" if failed else "success", variables=variables)


WIDGET = RunConversationRelay()
