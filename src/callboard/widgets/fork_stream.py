"""Fork Stream: start or stop streaming the call's audio to a WebSocket or SIPREC server.

TwiML (start, websocket): ``<Start><Stream name url track><Parameter name value/>...
</Stream></Start>``; start with ``stream_transport_type`` ``siprec``: ``<Start><Siprec
name connectorName track>...</Siprec></Start>``; stop: ``<Stop><Stream name/></Stop>``
(``<Stop><Siprec name/></Stop>`` for SIPREC). Then ``<Redirect method="POST">`` to the
``complete`` call-back, which takes ``next``: the stream runs beside the call, so the
flow goes on at once.

Events: ``next``. Variables: none. No call: warning 81020 and the execution ends.
"""

from __future__ import annotations

from callboard.contract.io import CallEvent, Event
from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Widget
from callboard.widgets.common import key_values
from callboard.widgets.voice_common import (
    callback_url,
    has_call,
    new_response,
    no_call,
    respond,
    text_prop,
)

__all__ = ["WIDGET", "ForkStream"]


class ForkStream(Widget):
    type = "fork-stream"
    label = "Fork Stream"
    group = "Voice"
    description = "Starts or stops a media stream of the call."
    channel = "voice"
    events = (EventSpec("next", "Next"),)
    props = (
        OFFSET,
        Prop(
            "stream_action",
            required=True,
            enum=("start", "stop"),
            liquid=False,
            editor="select",
            label="Stream action",
        ),
        Prop("stream_name", label="Stream name"),
        Prop(
            "stream_transport_type",
            default="websocket",
            enum=("websocket", "siprec"),
            liquid=False,
            editor="select",
        ),
        Prop("stream_url", label="Stream URL (wss://)"),
        Prop(
            "stream_track",
            default="inbound_track",
            enum=("inbound_track", "outbound_track", "both_tracks"),
            liquid=False,
            editor="select",
        ),
        Prop("stream_connector", label="SIPREC connector"),
        Prop("stream_parameters", kind="key_values", editor="key_values"),
    )

    def start(self, run: Run) -> Outcome:
        if not has_call(run):
            return no_call(run, "Fork Stream")
        token = run.new_token()
        siprec = str(run.prop("stream_transport_type") or "") == "siprec"
        name = text_prop(run, "stream_name")
        response = new_response()
        if str(run.prop("stream_action") or "start") == "stop":
            stop = response.stop()
            if siprec:
                stop.siprec(name=name)
            else:
                stop.stream(name=name)
        else:
            track = text_prop(run, "stream_track")
            if siprec:
                stream = response.start().siprec(
                    name=name, connector_name=text_prop(run, "stream_connector"), track=track
                )
            else:
                stream = response.start().stream(
                    name=name, url=text_prop(run, "stream_url"), track=track
                )
            for key, value in key_values(run, "stream_parameters").items():
                stream.parameter(name=key, value=value)
        response.redirect(callback_url(run, token, "complete"), method="POST")
        return respond(response, token)

    def resume(self, run: Run, event: Event) -> Outcome | None:
        if isinstance(event, CallEvent) and event.name == "complete":
            return Done("next")
        return None


WIDGET = ForkStream()
