"""Make HTTP Request: call a URL and branch on the answer.

The request:

* ``method`` ``GET`` (default) or ``POST``; ``url`` rendered with Liquid. Credentials
  in the URL (``https://user:pass@host/...``) become an ``Authorization: Basic`` header
  and are removed from the URL.
* ``parameters`` (``{key, value}``, values rendered): for ``GET`` they are appended to
  the query string; for a form ``POST`` they are the form body (when there are none,
  the rendered ``body`` is sent instead); for a JSON ``POST`` the rendered ``body`` is
  the request body and parameters, if any, go to the query string.
* ``content_type`` (``application/x-www-form-urlencoded`` by default, or
  ``application/json``; exports append ``;charset=utf-8``) is sent as the
  ``Content-Type`` of a ``POST``, exactly as written.
* ``add_twilio_auth``: the runtime signs the request with the account's credentials;
  only for Twilio API URLs (``*.twilio.com``) -- any other URL fails without sending.
* 10 s timeout, 64 kB response body, redirects followed (by the runtime).

The result: a 2xx response → ``success``, any other status → ``failed`` (warning 81016);
both set ``body``, ``content_type``, ``status_code`` and, when the answer is a JSON
*object* with a JSON content type, ``parsed``. A network error, a timeout or a body over
64 kB → ``failed`` with warning 81016 and ``widgets.<name>`` left as it was. A URL that
is not a valid http(s) URL after Liquid, or a reserved parameter name (``method``), →
``failed`` with warning 81014 without sending.
"""

from __future__ import annotations

from callboard.contract.io import EffectResult, Event, HttpRequest
from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Wait, Widget
from callboard.widgets.common import key_values
from callboard.widgets.http_common import (
    HTTP_TIMEOUT,
    MAX_BYTES,
    UrlError,
    add_query,
    form_encode,
    prepare_url,
    response_variables,
)

__all__ = ["WIDGET", "MakeHttpRequest"]

INTERNAL_ERROR = 81014
REQUEST_FAILED = 81016
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
RESERVED_PARAMETERS = frozenset({"method"})


class MakeHttpRequest(Widget):
    type = "make-http-request"
    label = "Make HTTP Request"
    group = "Tools & Execute Code"
    description = "Sends a GET or POST request to a URL and branches on the response status."
    events = (EventSpec("success", "Success"), EventSpec("failed", "Fail"))
    props = (
        OFFSET,
        Prop(
            "method",
            default="GET",
            enum=("GET", "POST"),
            liquid=False,
            editor="select",
            label="Request method",
        ),
        Prop(
            "url",
            required=True,
            label="Request URL",
            help="Liquid allowed. Basic authentication as https://user:password@host/...",
        ),
        Prop(
            "content_type",
            default=FORM,
            enum=(FORM, f"{FORM};charset=utf-8", JSON, f"{JSON};charset=utf-8"),
            liquid=False,
            editor="select",
            label="Content type",
        ),
        Prop("body", editor="textarea", label="Request body"),
        Prop(
            "parameters",
            kind="key_values",
            editor="key_values",
            label="HTTP parameters",
            help="Query string parameters for GET, form fields for a form POST.",
        ),
        Prop(
            "add_twilio_auth",
            kind="boolean",
            default=False,
            liquid=False,
            editor="checkbox",
            label="Add Twilio authentication",
            help="Sign the request with the account's credentials (Twilio API URLs only).",
        ),
    )
    variables = ("body", "content_type", "status_code", "parsed")

    def start(self, run: Run) -> Outcome:
        method = str(run.prop("method") or "GET").strip().upper()
        if method not in ("GET", "POST"):
            return _internal_error(run, f"unsupported request method {method!r}")
        params = key_values(run, "parameters")
        reserved = sorted(k for k in params if k.lower() in RESERVED_PARAMETERS)
        if reserved:
            return _internal_error(run, f"parameter name {reserved[0]!r} is reserved")
        try:
            prepared = prepare_url(run.render("url"))
        except UrlError as exc:
            return _internal_error(run, str(exc))
        twilio_auth = run.prop("add_twilio_auth") in (True, "true", "True")
        headers = dict(prepared.headers)
        if twilio_auth:
            if not (prepared.host == "twilio.com" or prepared.host.endswith(".twilio.com")):
                return _internal_error(
                    run, f"add_twilio_auth is only allowed for Twilio API URLs, not {prepared.host}"
                )
            headers.pop("Authorization", None)
        url = prepared.url
        body: str | None = None
        content_type = str(run.prop("content_type") or FORM).strip()
        if method == "GET":
            url = add_query(url, params)
        else:
            is_form = content_type.split(";", 1)[0].strip().lower() == FORM
            if is_form and params:
                body = form_encode(params)
            else:
                url = add_query(url, params)
                body = run.render("body")
            headers["Content-Type"] = content_type
        token = run.new_token()
        request = HttpRequest(
            token,
            method,
            url,
            headers=headers,
            body=body,
            timeout=HTTP_TIMEOUT,
            max_bytes=MAX_BYTES,
            purpose="http",
            twilio_auth=twilio_auth,
        )
        return Wait(token, (request,))

    def resume(self, run: Run, event: Event) -> Outcome | None:
        if not isinstance(event, EffectResult):
            return None
        if not event.ok:
            error = event.data.get("error") or "no response"
            run.warn(REQUEST_FAILED, f"HTTP request failed: {error}")
            return Done("failed")
        status, variables = response_variables(dict(event.data))
        if 200 <= status < 300:
            return Done("success", variables=variables)
        run.warn(REQUEST_FAILED, f"HTTP request returned status {status}")
        return Done("failed", variables=variables)


def _internal_error(run: Run, message: str) -> Done:
    run.warn(INTERNAL_ERROR, f"HTTP request not sent: {message}")
    return Done("failed")


WIDGET = MakeHttpRequest()
