"""A voice call against an in-memory :class:`~callboard.runtime.local.LocalRunner`: the
transport :class:`~callboard.channels.call_driver.CallDriver` uses in ``callboard call``
(and in tests that need no server).

URLs on the flow's own webhook (``LOCAL_BASE/v1/Accounts/AC/Flows/FW``) become engine
events: the first request starts the execution on ``incomingCall``; ``FlowEvent=callback``
becomes ``CallEvent(Token, Callback, params)``; ``FlowEvent=return`` a ``return`` to the
waiting widget; a status call-back with a final ``CallStatus`` a ``hangup`` (or the end of
the execution). Other URLs (a TwiML Redirect elsewhere) are fetched from ``mocks`` when
given, else over the network.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from callboard.contract.io import CallEvent, HttpRequest, Respond
from callboard.runtime.http_requests import http_result
from callboard.runtime.local import LocalRunner

__all__ = ["LOCAL_BASE", "TERMINAL", "LocalCall"]

LOCAL_BASE = "http://callboard.local"
TERMINAL = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
HANGUP = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>'
EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'


class LocalCall:
    """``fetch`` for the driver, over ``runner`` (built with ``on_respond=self.respond``)."""

    def __init__(self, runner: LocalRunner) -> None:
        self.runner = runner
        self.answers: list[str] = []
        self.started = False
        self.url = f"{LOCAL_BASE}/v1/Accounts/{runner.account_sid}/Flows/{runner.bundle.main.sid}"

    def respond(self, effect: Respond) -> None:
        self.answers.append(effect.twiml)

    def fetch(self, url: str, method: str, params: dict[str, str]) -> str:
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}{parts.path}" != self.url:
            return self._external(url, method, params)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        merged: dict[str, Any] = {**query, **params}
        self.answers = []
        event = query.get("FlowEvent", "")
        r = self.runner
        status = str(merged.get("CallStatus") or "")
        if event == "callback" and query.get("Callback") not in ("status",):
            r.feed(CallEvent(query.get("Token", ""), query.get("Callback", ""), merged))
        elif event == "return":
            waiting = r.state.waiting if r.state is not None else None
            r.feed(CallEvent(waiting.token if waiting else "", "return", merged))
        elif status in TERMINAL or merged.get("CallbackSource") == "call-progress-events":
            self._hangup(merged)
            return EMPTY
        elif not self.started:
            self.started = True
            r.start_call(merged)
        if self.answers:
            return self.answers[-1]
        return HANGUP if not r.active else EMPTY

    def _hangup(self, params: dict[str, Any]) -> None:
        r = self.runner
        if not r.active or r.state is None:
            return
        waiting = r.state.waiting
        if waiting is not None:
            results = r.feed(CallEvent(waiting.token, "hangup", params))
            if results and results[0].accepted:
                return
        if r.active:
            r.end("hangup")

    def _external(self, url: str, method: str, params: dict[str, str]) -> str:
        request = HttpRequest(
            "external",
            method,
            url,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=None if method == "GET" else httpx.QueryParams(params).__str__(),
        )
        client = None if self.runner.mocks is not None else self.runner.http_client()
        result = http_result(request, mocks=self.runner.mocks, client=client)
        data = result.data
        if not result.ok or int(data.get("status_code") or 500) >= 400:
            raise ValueError(
                f"{method} {url} failed: {data.get('error') or data.get('status_code')}"
            )
        return str(data.get("body") or "")
