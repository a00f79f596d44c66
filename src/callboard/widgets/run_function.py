"""Run Function: call a Twilio Function (or any URL) and branch on the answer.

The request is a ``POST`` of ``parameters`` (``{key, value}``, values rendered with
Liquid) as an ``application/x-www-form-urlencoded`` body to ``url`` (rendered with
Liquid; ``user:pass@`` credentials become a Basic ``Authorization`` header). The
``service_sid``/``environment_sid``/``function_sid`` properties only say which
Function the editor picked; the URL is what is called. 10 s timeout, 64 kB response.

The result: a 2xx or 3xx status → ``success``, anything else → ``fail`` (warning
81010). Variables: ``body``, ``content_type``, ``status_code``, ``headers`` (only
``x-twilio-function-concurrency``, when the answer has it) and ``parsed`` when the
answer is a JSON *object* with a JSON content type. When the same widget runs again,
``body``/``content_type``/``status_code`` are replaced but the new ``parsed`` is
deep-merged into the previous one, and an answer that is not a JSON object leaves the
previous ``parsed`` as it was.

No answer (network error, timeout, body over 64 kB) → ``fail`` with warning 81017 and
``widgets.<name>`` left as it was. An empty or invalid URL → ``fail`` with warning
81010, nothing sent.
"""

from __future__ import annotations

from typing import Any

from callboard.contract.io import EffectResult, Event, HttpRequest
from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Wait, Widget
from callboard.widgets.common import key_values
from callboard.widgets.http_common import (
    HTTP_TIMEOUT,
    MAX_BYTES,
    UrlError,
    deep_merge,
    form_encode,
    prepare_url,
    response_variables,
)

__all__ = ["WIDGET", "RunFunction"]

FUNCTION_ERROR = 81010
RESPONSE_ERROR = 81017
CONCURRENCY_HEADER = "x-twilio-function-concurrency"


class RunFunction(Widget):
    type = "run-function"
    label = "Run Function"
    group = "Tools & Execute Code"
    description = (
        "Runs a Twilio Function (POSTs the parameters to its URL) and branches on the result."
    )
    events = (EventSpec("success", "Success"), EventSpec("fail", "Fail"))
    props = (
        OFFSET,
        Prop("service_sid", liquid=False, label="Service", help="ZS... or 'default'."),
        Prop("environment_sid", liquid=False, label="Environment", help="ZE..."),
        Prop("function_sid", liquid=False, label="Function", help="ZH..."),
        Prop("url", required=True, label="Function URL", help="Liquid allowed."),
        Prop(
            "parameters",
            kind="key_values",
            editor="key_values",
            label="Function parameters",
            help="Sent as form fields; the Function sees them on its event object.",
        ),
    )
    variables = ("body", "content_type", "status_code", "parsed", "headers")

    def start(self, run: Run) -> Outcome:
        try:
            prepared = prepare_url(run.render("url"))
        except UrlError as exc:
            run.warn(FUNCTION_ERROR, f"Function not called: {exc}")
            return Done("fail")
        params = key_values(run, "parameters")
        headers = {**prepared.headers, "Content-Type": "application/x-www-form-urlencoded"}
        token = run.new_token()
        request = HttpRequest(
            token,
            "POST",
            prepared.url,
            headers=headers,
            body=form_encode(params),
            timeout=HTTP_TIMEOUT,
            max_bytes=MAX_BYTES,
            purpose="function",
        )
        return Wait(token, (request,))

    def resume(self, run: Run, event: Event) -> Outcome | None:
        if not isinstance(event, EffectResult):
            return None
        if not event.ok:
            error = event.data.get("error") or "no response"
            run.warn(RESPONSE_ERROR, f"Function did not answer: {error}")
            return Done("fail")
        status, variables = response_variables(dict(event.data))
        headers: Any = event.data.get("headers")
        if isinstance(headers, dict):
            for key, value in headers.items():
                if str(key).lower() == CONCURRENCY_HEADER:
                    variables["headers"] = {CONCURRENCY_HEADER: value}
        previous: Any = run.previous_variables().get("parsed")
        if isinstance(previous, dict):
            new = variables.get("parsed")
            variables["parsed"] = deep_merge(previous, new) if isinstance(new, dict) else previous
        if 200 <= status < 400:
            return Done("success", variables=variables)
        run.warn(FUNCTION_ERROR, f"Function returned status {status}")
        return Done("fail", variables=variables)


WIDGET = RunFunction()
