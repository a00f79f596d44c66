"""TwiML Redirect: hand the call (or message) to TwiML at another URL; it may come back.

Studio does not fetch the URL: it answers the webhook being handled with
``<Redirect method="POST|GET">url</Redirect>`` and waits. To return, the external TwiML
redirects back to the flow webhook URL with ``?FlowEvent=return&k=v...``; the runtime
delivers that as ``CallEvent(token, "return", params)`` and every parameter but Callboard's
own becomes ``widgets.<name>.<k>``.

Events: ``return`` (came back), ``timeout`` (no return within ``timeout`` seconds, a timer;
``"0"`` starts no timer: the widget then waits for a return until the execution ends),
``fail`` (the rendered URL is empty or not an http(s) URL, warning 81014; also
a REST execution that has neither a call nor a message to answer, with warning 81020).
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from callboard.contract.io import CallEvent, Effect, Event, StartTimer, TimerFired
from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Wait, Widget
from callboard.widgets.voice_common import (
    UNSUPPORTED,
    call_params,
    has_call,
    int_prop,
    new_response,
    respond,
    text_prop,
)

__all__ = ["WIDGET", "AddTwimlRedirect"]

DEFAULT_TIMEOUT = 14400


class AddTwimlRedirect(Widget):
    type = "add-twiml-redirect"
    label = "TwiML Redirect"
    group = "Voice"
    description = "Redirects the call to TwiML at a URL and waits for it to come back."
    channel = "any"
    events = (
        EventSpec("return", "Return"),
        EventSpec("timeout", "Timeout"),
        EventSpec("fail", "Fail"),
    )
    props = (
        OFFSET,
        Prop("url", required=True, label="URL"),
        Prop("method", default="POST", enum=("POST", "GET"), liquid=False, editor="select"),
        Prop(
            "timeout",
            default=str(DEFAULT_TIMEOUT),
            label="Timeout (seconds)",
            help='How long to wait for a return, 0-14400; "0" does not wait.',
        ),
    )

    def start(self, run: Run) -> Outcome:
        trigger = run.context.get("trigger")
        messaging = isinstance(trigger, dict) and (
            "message" in trigger or "conversation" in trigger
        )
        if not has_call(run) and not messaging:
            run.warn(UNSUPPORTED, "TwiML Redirect needs a call or a message to answer")
            return Done("fail", variables={})
        url = run.render("url").strip()
        if not _valid_url(url):
            run.warn(81014, f"TwiML Redirect URL {url!r} is not a valid http(s) URL")
            return Done("fail", variables={})
        method = (text_prop(run, "method") or "POST").upper()
        token = run.new_token()
        response = new_response()
        response.redirect(url, method="GET" if method == "GET" else "POST")
        wait = respond(response, token)
        seconds = int_prop(run, "timeout", DEFAULT_TIMEOUT)
        if seconds is None or seconds < 0:
            seconds = DEFAULT_TIMEOUT
        effects: tuple[Effect, ...] = wait.effects
        if seconds > 0:
            effects = (*effects, StartTimer(token, run.now + timedelta(seconds=seconds)))
        return Wait(token, effects)

    def resume(self, run: Run, event: Event) -> Outcome | None:
        if isinstance(event, CallEvent) and event.name == "return":
            return Done("return", variables=call_params(event.params))
        if isinstance(event, TimerFired):
            return Done("timeout", variables={})
        return None


def _valid_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in url


WIDGET = AddTwimlRedirect()
