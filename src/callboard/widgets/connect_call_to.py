"""Connect Call To: bridge the caller to a number, several numbers, a client, a SIP
endpoint, a SIM or a conference.

TwiML: ``<Dial action="?...&Callback=dial" method="POST" callerId timeout record timeLimit>``
with one noun per ``noun``:

* ``number``: ``<Number>to</Number>``; ``number-multi``: up to 10 comma-separated numbers,
  one ``<Number>`` each (simultaneous ring, first to answer wins; extra numbers are dropped
  with a warning);
* ``client``: ``<Client>to</Client>``; ``sim``: ``<Sim>to</Sim>``;
  ``conference``: ``<Conference>to</Conference>``;
* ``sip``: ``<Sip username password>sip_endpoint</Sip>`` (``to`` when no endpoint is set).

``record`` true becomes ``record="record-from-answer"``.

Events: ``callCompleted`` ("Connected Call Ended": the Dial action call-back, whatever the
``DialCallStatus``), ``hangup`` (the caller hung up while connected: a hang-up call-back,
or a Dial action whose ``CallStatus`` is ``completed``).
Variables: the Dial action parameters (``DialCallStatus``, ``DialCallSid``,
``DialCallDuration``, ``RecordingUrl``...) and call parameters.
No call: warning 81020 and the execution ends.
"""

from __future__ import annotations

from typing import Any

from callboard.contract.io import CallEvent, Event
from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Widget
from callboard.widgets.voice_common import (
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

__all__ = ["WIDGET", "ConnectCallTo"]

NOUNS = ("number", "number-multi", "client", "sip", "sim", "conference")
MAX_NUMBERS = 10


class ConnectCallTo(Widget):
    type = "connect-call-to"
    label = "Connect Call To"
    group = "Voice"
    description = "Connects the caller to another party and continues when that call ends."
    channel = "voice"
    events = (
        EventSpec("callCompleted", "Connected Call Ended"),
        EventSpec("hangup", "Caller Hung Up"),
    )
    props = (
        OFFSET,
        Prop("noun", required=True, enum=NOUNS, liquid=False, editor="select", label="Connect to"),
        Prop("to", label="Number, client, SIM or conference name"),
        Prop("caller_id", default="{{contact.channel.address}}", label="Caller ID"),
        Prop("record", kind="boolean", default=False, liquid=False, editor="checkbox"),
        Prop("timeout", kind="integer", default=30, editor="number", minimum=1, maximum=600),
        Prop("time_limit", label="Call length limit (seconds)"),
        Prop("sip_endpoint", label="SIP endpoint"),
        Prop("sip_username", label="SIP username"),
        Prop("sip_password", label="SIP password"),
    )
    variables = ("DialCallStatus", "DialCallSid", "DialCallDuration", "RecordingUrl")

    def start(self, run: Run) -> Outcome:
        if not has_call(run):
            return no_call(run, "Connect Call To")
        token = run.new_token()
        record = run.prop("record") is True or str(run.prop("record")).lower() == "true"
        response = new_response()
        dial = response.dial(
            action=callback_url(run, token, "dial"),
            method="POST",
            caller_id=text_prop(run, "caller_id"),
            timeout=int_prop(run, "timeout", 30),
            record="record-from-answer" if record else None,
            time_limit=int_prop(run, "time_limit"),
        )
        _add_nouns(run, dial)
        return respond(response, token)

    def resume(self, run: Run, event: Event) -> Outcome | None:
        if is_hangup(event):
            return Done("hangup", variables=call_params(event.params))
        if isinstance(event, CallEvent) and event.name == "dial":
            variables = call_params(event.params)
            if variables.get("CallStatus") == "completed":
                return Done("hangup", variables=variables)
            return Done("callCompleted", variables=variables)
        return None


def _add_nouns(run: Run, dial: Any) -> None:
    noun = str(run.prop("noun") or "number")
    to = run.render("to").strip()
    if noun == "number-multi":
        numbers = [n.strip() for n in to.split(",") if n.strip()]
        if len(numbers) > MAX_NUMBERS:
            run.warn(
                81020,
                f"Connect Call To rings at most {MAX_NUMBERS} numbers; "
                f"{len(numbers) - MAX_NUMBERS} were dropped",
            )
        for number in numbers[:MAX_NUMBERS]:
            dial.number(number)
    elif noun == "client":
        dial.client(to)
    elif noun == "sip":
        dial.sip(
            text_prop(run, "sip_endpoint") or to,
            username=text_prop(run, "sip_username"),
            password=text_prop(run, "sip_password"),
        )
    elif noun == "sim":
        dial.sim(to)
    elif noun == "conference":
        dial.conference(to)
    else:
        dial.number(to)


WIDGET = ConnectCallTo()
