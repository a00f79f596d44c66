"""Connect Virtual Agent (v2, Dialogflow CX): hand the caller to a virtual agent.

Voice TwiML: ``<Connect action="?...&Callback=return" method="POST"><VirtualAgent
connectorName statusCallback statusCallbackMethod><Config name value/>...<Parameter
name value/>...</VirtualAgent></Connect>`` (``configurations`` -> ``<Config>``,
``parameters`` -> ``<Parameter>``).

Events, from the action call-back's ``VirtualAgentStatus``: ``completed``,
``live-agent-handoff``, ``paused``, ``failed`` (also for an unknown status or a
``VirtualAgentErrorCode``); ``hangup`` for a hang-up call-back or an action whose
``CallStatus`` is ``completed``. ``timeout`` is a conversations-channel event.
The JSON names of the events and of the session-resume properties are not confirmed by
any export (see the spec, §2.20); Callboard uses the names Twilio's widget catalogue gives.

Variables: the action parameters; ``VirtualAgentProviderData`` is parsed when it is a JSON
object. ``channel`` ``conversations`` is not supported by Callboard: warning 81020 and
``failed``; so is an execution without a call.
"""

from __future__ import annotations

import json
from typing import Any

from callboard.contract.io import CallEvent, Event
from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Widget
from callboard.widgets.common import key_values
from callboard.widgets.voice_common import (
    UNSUPPORTED,
    call_params,
    callback_url,
    has_call,
    is_hangup,
    new_response,
    no_call,
    respond,
    text_prop,
)

__all__ = ["WIDGET", "ConnectVirtualAgentV2"]

STATUSES = ("completed", "live-agent-handoff", "paused", "failed")


class ConnectVirtualAgentV2(Widget):
    type = "connect-virtual-agent-v2"
    label = "Connect Virtual Agent (Dialogflow CX)"
    group = "Connect Other Products"
    description = "Connects the caller to a Dialogflow CX virtual agent."
    channel = "voice"
    events = (
        EventSpec("completed", "Completed"),
        EventSpec("live-agent-handoff", "Live Agent Handoff"),
        EventSpec("hangup", "Hangup"),
        EventSpec("failed", "Failed"),
        EventSpec("paused", "Paused"),
        EventSpec("timeout", "Timeout"),
    )
    props = (
        OFFSET,
        Prop("connector_name", required=True, label="Connector name"),
        Prop(
            "channel",
            default="voice",
            enum=("voice", "conversations"),
            liquid=False,
            editor="select",
        ),
        Prop("status_callback", label="Status callback URL"),
        Prop("status_callback_method", default="POST", enum=("POST", "GET"), editor="select"),
        Prop("parameters", kind="key_values", editor="key_values"),
        Prop("configurations", kind="key_values", editor="key_values"),
        Prop("timeout", also=("integer",), label="Timeout (conversations)"),
    )
    variables = (
        "VirtualAgentProvider",
        "VirtualAgentStatus",
        "VirtualAgentProviderData",
        "VirtualAgentError",
        "VirtualAgentErrorCode",
    )

    def start(self, run: Run) -> Outcome:
        if str(run.prop("channel") or "voice") == "conversations":
            run.warn(
                UNSUPPORTED, "Connect Virtual Agent on the conversations channel is not supported"
            )
            return Done("failed", variables={})
        if not has_call(run):
            return no_call(run, "Connect Virtual Agent", "failed")
        token = run.new_token()
        callback = text_prop(run, "status_callback")
        response = new_response()
        connect = response.connect(action=callback_url(run, token, "return"), method="POST")
        agent = connect.virtual_agent(
            connector_name=text_prop(run, "connector_name"),
            status_callback=callback,
            status_callback_method=text_prop(run, "status_callback_method") if callback else None,
        )
        for name, value in key_values(run, "configurations").items():
            agent.config(name=name, value=value)
        for name, value in key_values(run, "parameters").items():
            agent.parameter(name=name, value=value)
        return respond(response, token)

    def resume(self, run: Run, event: Event) -> Outcome | None:
        if is_hangup(event):
            return Done("hangup", variables=call_params(event.params))
        if not isinstance(event, CallEvent) or event.name != "return":
            return None
        variables: dict[str, Any] = call_params(event.params)
        data = variables.get("VirtualAgentProviderData")
        if isinstance(data, str) and data.strip().startswith("{"):
            try:
                variables["VirtualAgentProviderData"] = json.loads(data)
            except ValueError:
                variables["VirtualAgentProviderData"] = data
        if str(variables.get("CallStatus") or "") == "completed":
            return Done("hangup", variables=variables)
        status = str(variables.get("VirtualAgentStatus") or "")
        if variables.get("VirtualAgentErrorCode") or status not in STATUSES:
            return Done("failed", variables=variables)
        return Done(status, variables=variables)


WIDGET = ConnectVirtualAgentV2()
