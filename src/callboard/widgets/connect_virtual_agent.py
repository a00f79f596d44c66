"""Connect Virtual Agent (v1, Dialogflow ES): hand the caller to a virtual agent.

TwiML: ``<Connect action="?...&Callback=return" method="POST"><VirtualAgent
connectorName language sentimentAnalysis statusCallback/></Connect>``. Twilio requests
the ``<Connect>`` action when the agent session ends.

Events: ``return`` (the action call-back while the call is still up), ``hangup`` (a
hang-up call-back, or an action call-back whose ``CallStatus`` is ``completed``).
Variables: the action parameters (``VirtualAgentStatus``, ``VirtualAgentProvider``...)
and call parameters. No call: warning 81020 and the execution ends.
"""

from __future__ import annotations

from callboard.contract.io import CallEvent, Event
from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Widget
from callboard.widgets.voice_common import (
    call_params,
    callback_url,
    has_call,
    is_hangup,
    new_response,
    no_call,
    respond,
    text_prop,
)

__all__ = ["WIDGET", "ConnectVirtualAgent"]


class ConnectVirtualAgent(Widget):
    type = "connect-virtual-agent"
    label = "Connect Virtual Agent"
    group = "Connect Other Products"
    description = "Connects the caller to a Dialogflow ES virtual agent (legacy)."
    channel = "voice"
    events = (EventSpec("return", "Return"), EventSpec("hangup", "Hang Up"))
    props = (
        OFFSET,
        Prop("connector", required=True, label="Connector name"),
        Prop("language", label="Language"),
        Prop(
            "sentiment_analysis",
            enum=("true", "false"),
            liquid=False,
            editor="select",
            label="Sentiment analysis",
        ),
        Prop("status_callback", label="Status callback URL"),
    )
    variables = ("VirtualAgentStatus", "VirtualAgentProvider", "CallSid", "CallStatus")

    def start(self, run: Run) -> Outcome:
        if not has_call(run):
            return no_call(run, "Connect Virtual Agent")
        token = run.new_token()
        response = new_response()
        connect = response.connect(action=callback_url(run, token, "return"), method="POST")
        connect.virtual_agent(
            connector_name=text_prop(run, "connector"),
            language=text_prop(run, "language"),
            sentiment_analysis=text_prop(run, "sentiment_analysis"),
            status_callback=text_prop(run, "status_callback"),
        )
        return respond(response, token)

    def resume(self, run: Run, event: Event) -> Outcome | None:
        if is_hangup(event):
            return Done("hangup", variables=call_params(event.params))
        if isinstance(event, CallEvent) and event.name == "return":
            variables = call_params(event.params)
            ended = str(variables.get("CallStatus") or "") == "completed"
            return Done("hangup" if ended else "return", variables=variables)
        return None


WIDGET = ConnectVirtualAgent()
