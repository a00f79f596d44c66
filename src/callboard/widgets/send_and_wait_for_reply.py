"""Send & Wait For Reply: send a message to the contact and wait for the answer.

How it runs:

1. The message goes to ``contact.channel.address`` (the widget has no ``to``) from
   ``from`` (default ``{{flow.channel.address}}``), with the same options as Send
   Message. The widget already listens for the reply while the send is in flight.
2. The provider refuses the message → ``deliveryFailure`` (warning 81011), with
   ``outbound.*`` = whatever the provider answered.
3. Accepted → a timer of ``timeout`` seconds starts (a string in Studio, ``"3600"`` by
   default; an integer is accepted too, as real exports contain one). A ``timeout`` that
   is not a whole number of seconds >= 0 after Liquid falls back to 3600 with warning
   81027.
4. Then, whichever comes first:

   * the contact's reply → ``incomingMessage`` with ``inbound.*`` = the inbound
     webhook's parameters (``Body``, ``From``, ``To``, ``MessageSid``, ``NumMedia``,
     ``MediaUrl0``...), kept as they arrive (``ChannelAttributes`` stays a string);
   * the timer → ``timeout``;
   * a delivery status call-back ``failed``/``undelivered`` → ``deliveryFailure``
     (warning 81011) with ``outbound.Status`` and ``outbound.ErrorCode`` updated. Other
     statuses (``sent``, ``delivered``, ``read``...) only update ``outbound.Status`` and
     the widget goes on waiting, its timer untouched.

``outbound.*`` (the provider's message resource) is set on all three events.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from callboard.contract.io import (
    EffectResult,
    Event,
    InboundMessage,
    MessageStatus,
    StartTimer,
    TimerFired,
)
from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Wait, Widget
from callboard.widgets.common import message_effect

__all__ = ["WIDGET", "SendAndWaitForReply"]

DEFAULT_TIMEOUT = 3600
SEND_FAILED = 81011
BAD_TIMEOUT = 81027
FAILED_STATUSES = frozenset({"failed", "undelivered"})


class SendAndWaitForReply(Widget):
    type = "send-and-wait-for-reply"
    label = "Send & Wait For Reply"
    group = "Messaging"
    description = "Sends a message to the contact and waits for the reply, up to a timeout."
    channel = "messaging"
    events = (
        EventSpec("incomingMessage", "Incoming Message"),
        EventSpec("timeout", "Timeout"),
        EventSpec("deliveryFailure", "Delivery Failure"),
    )
    props = (
        OFFSET,
        Prop("body", required=True, editor="textarea", label="Message body"),
        Prop("from", default="{{flow.channel.address}}", label="Send message from"),
        Prop(
            "timeout",
            default=str(DEFAULT_TIMEOUT),
            also=("integer",),
            label="Stop gathering after",
            help="Seconds to wait for the reply (Studio recommends at most 4 hours).",
            editor="number",
            minimum=0,
        ),
        Prop("service", default="{{trigger.message.InstanceSid}}", label="Chat service"),
        Prop("channel", default="{{trigger.message.ChannelSid}}", label="Chat channel"),
        Prop("attributes", editor="textarea", label="Message attributes (JSON)"),
        Prop("media_url", label="Media URL"),
        Prop(
            "message_type",
            enum=("custom", "content_template"),
            liquid=False,
            editor="select",
            label="Message type",
        ),
        Prop("content_sid", label="Content template SID"),
        Prop("content_variables", kind="key_values", editor="key_values"),
    )
    variables = (
        "outbound.Sid",
        "outbound.Status",
        "outbound.Body",
        "outbound.To",
        "outbound.From",
        "inbound.Body",
        "inbound.From",
        "inbound.To",
        "inbound.MessageSid",
        "inbound.NumMedia",
        "inbound.MediaUrl0",
    )

    def start(self, run: Run) -> Outcome:
        token = run.new_token()
        seconds = _timeout_seconds(run)
        to = str(run.context.get("contact", {}).get("channel", {}).get("address") or "")
        effect = message_effect(run, token, to=to)
        memo = {"token": token, "timeout": seconds}
        return Wait(token, (effect,), memo=memo, accepts_messages=True)

    def resume(self, run: Run, event: Event) -> Outcome | None:
        memo = run.memo
        outbound: dict[str, Any] = dict(memo.get("outbound") or {})
        token = str(memo.get("token") or getattr(event, "token", ""))
        if isinstance(event, EffectResult):
            if "due" in memo:
                return None  # the send was already answered: a repeated result
            data = dict(event.data)
            if not event.ok:
                run.warn(SEND_FAILED, f"Message could not be sent: {data.get('error', 'failed')}")
                return Done("deliveryFailure", variables={"outbound": data})
            outbound.update(data)  # a status call-back may have come first
            due = run.now + timedelta(seconds=int(memo.get("timeout", DEFAULT_TIMEOUT)))
            memo = {**memo, "outbound": outbound, "due": due.isoformat()}
            return _keep_waiting(token, memo)
        if isinstance(event, InboundMessage):
            return Done(
                "incomingMessage", variables={"outbound": outbound, "inbound": dict(event.params)}
            )
        if isinstance(event, TimerFired):
            return Done("timeout", variables={"outbound": outbound})
        if isinstance(event, MessageStatus):
            status = event.status.strip().lower()
            outbound["Status"] = status
            for key in ("ErrorCode", "ErrorMessage"):
                if event.data.get(key) not in (None, ""):
                    outbound[key] = event.data[key]
            if status in FAILED_STATUSES:
                code = outbound.get("ErrorCode")
                run.warn(
                    SEND_FAILED,
                    f"Message was not delivered (status {status}"
                    + (f", error {code})" if code not in (None, "") else ")"),
                )
                return Done("deliveryFailure", variables={"outbound": outbound})
            return _keep_waiting(token, {**memo, "outbound": outbound})
        return None


def _keep_waiting(token: str, memo: dict[str, Any]) -> Wait:
    """Go on waiting with the same token; the timer (once started) is restarted with the
    same token and due time, so the engine keeps it instead of cancelling it."""
    due = memo.get("due")
    effects = (StartTimer(token, datetime.fromisoformat(due)),) if isinstance(due, str) else ()
    return Wait(token, effects, memo=memo, accepts_messages=True)


def _timeout_seconds(run: Run) -> int:
    raw = run.prop("timeout")
    if isinstance(raw, bool):
        raw = None
    if isinstance(raw, int) and raw >= 0:
        return raw
    text = run.render("timeout").strip()
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if 0 <= value < 10**9 and value == int(value):
        return int(value)
    run.warn(
        BAD_TIMEOUT,
        f"timeout {text!r} is not a number of seconds; waiting {DEFAULT_TIMEOUT} seconds",
    )
    return DEFAULT_TIMEOUT


WIDGET = SendAndWaitForReply()
