"""An in-memory runner for the pure engine: the terminal simulator's and the tests' runtime.

:class:`LocalRunner` holds one :class:`~callboard.engine.Bundle` and at most one active
execution (one contact talking to one flow, as ``callboard chat`` does). It feeds events
to :func:`~callboard.engine.advance` and performs the effects that come out, feeding
their results back, until the execution waits for something from outside (a reply from
the contact or a timer) or ends:

* :class:`~callboard.engine.io.SendMessage` — handed to ``on_message`` and answered at
  once with a message resource (``Sid`` ``SM…``, ``Status`` ``sent``...);
* :class:`~callboard.engine.io.HttpRequest` — answered from a :class:`MockTable` when one
  is given, otherwise sent for real with httpx (timeout, redirects followed, the body
  size cap enforced while streaming). The transport is injectable;
* :class:`~callboard.engine.io.StartTimer` / :class:`~callboard.engine.io.CancelTimer` —
  kept in a list of pending timers; :meth:`LocalRunner.fire_timeout` fires the earliest;
* :class:`~callboard.engine.io.Respond` — handed to ``on_respond`` when given (``callboard
  call`` plays the TwiML with :mod:`callboard.channels.call_driver`); otherwise, like
  :class:`~callboard.engine.io.PlaceCall`, voice is not supported: ``on_notice`` says so
  and the execution is ended.
"""

from __future__ import annotations

import codecs
import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from callboard.engine import Advance, Bundle, Env, ExecutionState, StepRecord, Warning, advance
from callboard.engine.env import SystemEnv
from callboard.engine.io import (
    CancelTimer,
    Effect,
    EffectResult,
    EndExecution,
    Event,
    HttpRequest,
    InboundMessage,
    PlaceCall,
    Respond,
    SendMessage,
    Start,
    StartTimer,
    TimerFired,
)

__all__ = [
    "DEFAULT_CONTACT",
    "DEFAULT_FLOW_ADDRESS",
    "LocalRunner",
    "MockError",
    "MockResponse",
    "MockTable",
    "PendingTimer",
    "http_result",
    "message_resource",
]

DEFAULT_CONTACT = "+15550001111"
DEFAULT_FLOW_ADDRESS = "+15550002222"
MAX_EVENTS_PER_INPUT = 10_000  # guard against a widget that never stops asking

StepCallback = Callable[[StepRecord], None]
WarningCallback = Callable[[Warning], None]
MessageCallback = Callable[[SendMessage], None]
NoticeCallback = Callable[[str], None]


# ------------------------------------------------------------------------------ mocks


class MockError(ValueError):
    """A mock table that cannot be used (the message names the entry)."""


@dataclass(frozen=True, slots=True)
class MockResponse:
    status: int = 200
    content_type: str = "application/json"
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


class MockTable:
    """Canned HTTP responses, keyed by ``"URL"`` or ``"METHOD URL"``.

    Lookup order for a request: ``METHOD URL``, ``URL``, then the same two without the
    query string, then keys ending in ``*`` as prefixes (longest first). A request
    nothing matches fails like a network error (``no mock for ...``): with a mock table
    the runner never goes to the network.
    """

    def __init__(self, entries: Mapping[str, MockResponse] | None = None) -> None:
        self.exact: dict[str, MockResponse] = {}
        self.prefixes: list[tuple[str, MockResponse]] = []
        for key, value in (entries or {}).items():
            self.add(key, value)

    def add(self, key: str, response: MockResponse) -> None:
        method, url = _split_key(key)
        norm = f"{method} {url}" if method else url
        if norm.endswith("*"):
            self.prefixes.append((norm[:-1], response))
            self.prefixes.sort(key=lambda p: len(p[0]), reverse=True)
        else:
            self.exact[norm] = response

    def lookup(self, method: str, url: str) -> MockResponse | None:
        method = method.upper()
        parts = urlsplit(url)
        bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        for candidate in (f"{method} {url}", url, f"{method} {bare}", bare):
            if candidate in self.exact:
                return self.exact[candidate]
        for prefix, response in self.prefixes:
            if f"{method} {url}".startswith(prefix) or url.startswith(prefix):
                return response
        return None

    @classmethod
    def from_json(cls, data: Any, source: str = "mock file") -> MockTable:
        """Build from ``{"[METHOD ]URL": {"status", "content_type", "body", "headers"}}``.

        ``body`` may be a string (sent as it is) or any JSON value (serialised; the
        content type then defaults to ``application/json``).
        """
        if not isinstance(data, dict):
            raise MockError(f"{source}: expected a JSON object mapping URLs to responses")
        table = cls()
        for key, spec in data.items():
            where = f"{source}: entry {key!r}"
            if not isinstance(spec, dict):
                raise MockError(f"{where}: expected an object with status/content_type/body")
            unknown = set(spec) - {"status", "content_type", "body", "headers"}
            if unknown:
                raise MockError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
            status = spec.get("status", 200)
            if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
                raise MockError(f"{where}: status must be an integer from 100 to 599")
            raw_body = spec.get("body", "")
            body = raw_body if isinstance(raw_body, str) else json.dumps(raw_body)
            default_type = "text/plain" if isinstance(raw_body, str) else "application/json"
            content_type = spec.get("content_type", default_type)
            if not isinstance(content_type, str):
                raise MockError(f"{where}: content_type must be a string")
            headers = spec.get("headers", {})
            if not isinstance(headers, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
            ):
                raise MockError(f"{where}: headers must be an object of strings")
            if not _split_key(str(key))[1]:
                raise MockError(f"{where}: the key must be a URL or 'METHOD URL'")
            table.add(str(key), MockResponse(status, content_type, body, dict(headers)))
        return table


def _split_key(key: str) -> tuple[str, str]:
    key = key.strip()
    head, _, rest = key.partition(" ")
    if rest and head.isalpha() and head.upper() == head:
        return head, rest.strip()
    return "", key


# ------------------------------------------------------------------------------- HTTP


def http_result(
    request: HttpRequest,
    *,
    mocks: MockTable | None = None,
    client: httpx.Client | None = None,
) -> EffectResult:
    """Perform one :class:`HttpRequest` (from ``mocks`` if given, else with ``client``)."""
    if mocks is not None:
        mock = mocks.lookup(request.method, request.url)
        if mock is None:
            return _http_error(request, f"no mock for {request.method.upper()} {request.url}")
        body = mock.body.encode()
        if len(body) > request.max_bytes:
            return _http_error(request, _too_big(request))
        headers = {k.lower(): v for k, v in mock.headers.items()}
        headers.setdefault("content-type", mock.content_type)
        return EffectResult(
            request.token,
            True,
            {
                "status_code": mock.status,
                "content_type": mock.content_type,
                "body": mock.body,
                "headers": headers,
            },
        )
    if client is None:
        return _http_error(request, "no HTTP client")
    scheme = urlsplit(request.url).scheme.lower()
    if scheme not in ("http", "https"):
        return _http_error(request, f"not an http(s) URL: {request.url!r}")
    deadline = time.monotonic() + request.timeout
    try:
        with client.stream(
            request.method.upper(),
            request.url,
            headers=request.headers,
            content=request.body.encode() if request.body is not None else None,
            timeout=request.timeout,
        ) as response:
            chunks: list[bytes] = []
            total = 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > request.max_bytes:
                    return _http_error(request, _too_big(request))
                if time.monotonic() > deadline:
                    return _http_error(request, f"timed out after {request.timeout:g} s")
                chunks.append(chunk)
            charset = response.charset_encoding or "utf-8"
            try:
                decoder = codecs.getincrementaldecoder(charset)(errors="replace")
            except LookupError:
                decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            text = decoder.decode(b"".join(chunks), final=True)
            return EffectResult(
                request.token,
                True,
                {
                    "status_code": response.status_code,
                    "content_type": response.headers.get("content-type", ""),
                    "body": text,
                    "headers": {k.lower(): v for k, v in response.headers.items()},
                },
            )
    except httpx.TimeoutException:
        return _http_error(request, f"timed out after {request.timeout:g} s")
    except httpx.TooManyRedirects:
        return _http_error(request, "too many redirects")
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, ValueError) as exc:
        return _http_error(request, f"{type(exc).__name__}: {exc}" if str(exc) else repr(exc))


def _too_big(request: HttpRequest) -> str:
    return f"response body is larger than {request.max_bytes} bytes"


def _http_error(request: HttpRequest, message: str) -> EffectResult:
    return EffectResult(request.token, False, {"error": message})


# --------------------------------------------------------------------------- messages


def _segments(body: str) -> int:
    gsm = all(ord(c) < 128 for c in body)
    single, multi = (160, 153) if gsm else (70, 67)
    if len(body) <= single:
        return 1
    return -(-len(body) // multi)


def message_resource(
    effect: SendMessage, sid: str, account_sid: str, now: datetime
) -> dict[str, Any]:
    """The message resource a provider would answer for ``effect`` (status ``sent``)."""
    stamp = format_datetime(now, usegmt=True) if now.tzinfo else now.isoformat()
    return {
        "Sid": sid,
        "AccountSid": account_sid,
        "MessagingServiceSid": effect.from_ if effect.from_.startswith("MG") else None,
        "Status": "sent",
        "Direction": "outbound-api",
        "To": effect.to,
        "From": effect.from_,
        "Body": effect.body,
        "NumMedia": str(len(effect.media_urls)),
        "NumSegments": str(_segments(effect.body)),
        "ApiVersion": "2010-04-01",
        "DateCreated": stamp,
        "DateUpdated": stamp,
        "DateSent": stamp,
        "ErrorCode": None,
        "ErrorMessage": None,
        "Price": None,
        "PriceUnit": "USD",
        "Uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
    }


# ----------------------------------------------------------------------------- runner


@dataclass(frozen=True, slots=True)
class PendingTimer:
    token: str
    due: datetime


class LocalRunner:
    """Runs one contact's executions of ``bundle`` in memory.

    ``contact`` is the person (``From`` of their messages), ``flow_address`` the flow's
    number (``To``). Callbacks: ``on_message`` for every outbound message, ``on_step``
    for every step, ``on_warning`` for warnings not attached to a step (ignored
    events...), ``on_notice`` for the runner's own remarks (unsupported voice effects).
    """

    def __init__(
        self,
        bundle: Bundle,
        env: Env | None = None,
        *,
        contact: str = DEFAULT_CONTACT,
        flow_address: str = DEFAULT_FLOW_ADDRESS,
        on_message: MessageCallback | None = None,
        on_step: StepCallback | None = None,
        on_warning: WarningCallback | None = None,
        on_notice: NoticeCallback | None = None,
        mocks: MockTable | None = None,
        transport: httpx.BaseTransport | None = None,
        account_sid: str | None = None,
        on_respond: Callable[[Respond], None] | None = None,
    ) -> None:
        self.bundle = bundle
        self.env: Env = env if env is not None else SystemEnv()
        self.contact = contact
        self.flow_address = flow_address
        self.on_message = on_message
        self.on_step = on_step
        self.on_warning = on_warning
        self.on_notice = on_notice
        self.on_respond = on_respond  # voice (callboard call): gets the TwiML answers
        self.mocks = mocks
        self._transport = transport
        self._client: httpx.Client | None = None
        self.account_sid = account_sid or self.env.sid("AC")
        self.state: ExecutionState | None = None
        self.timers: list[PendingTimer] = []
        self.steps: list[StepRecord] = []  # every step of every execution, in order
        self.warnings: list[Warning] = []  # every warning, in order
        self.executions = 0

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> LocalRunner:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def active(self) -> bool:
        return self.state is not None and self.state.status == "active"

    @property
    def waiting_for(self) -> str | None:
        """``"reply"``, ``"timer"`` or ``"nothing"`` (stuck) while active; else None."""
        if not self.active or self.state is None:
            return None
        waiting = self.state.waiting
        if waiting is not None and waiting.accepts_messages:
            return "reply"
        if self.timers:
            return "timer"
        return "nothing"

    # ------------------------------------------------------------------ inputs
    def inbound_params(self, body: str, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Twilio's inbound-message webhook parameters for a message from the contact."""
        sid = self.env.sid("SM")
        params: dict[str, Any] = {
            "ToCountry": "US",
            "ToState": "",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": body,
            "FromCountry": "US",
            "To": self.flow_address,
            "ToZip": "",
            "NumSegments": str(_segments(body)),
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": self.contact,
            "ApiVersion": "2010-04-01",
        }
        if extra:
            params.update(extra)
        return params

    def message(self, body: str, extra: Mapping[str, Any] | None = None) -> list[Advance]:
        """The contact sends ``body``: to the active execution, or starting a new one."""
        params = self.inbound_params(body, extra)
        if self.active:
            return self._feed(InboundMessage(params))
        return self._start("incomingMessage", data=params)

    def start_call(self, params: Mapping[str, Any]) -> list[Advance]:
        """An incoming call (``incomingCall``, ``trigger.call`` = ``params``): the TwiML
        answers go to ``on_respond``."""
        if self.active:
            self.end("ended")
        return self._start("incomingCall", data=dict(params))

    def start_request(self, parameters: Mapping[str, Any] | None = None) -> list[Advance]:
        """Start an execution as the REST API does (``incomingRequest``, ``Parameters``)."""
        if self.active:
            self.end("ended")
        return self._start("incomingRequest", data={}, parameters=dict(parameters or {}))

    def fire_timeout(self) -> bool:
        """Fire the earliest pending timer now. False when no timer is pending."""
        if not self.timers:
            return False
        timer = min(self.timers, key=lambda t: t.due)
        self.timers.remove(timer)
        advance_to = getattr(self.env, "advance_to", None)
        if callable(advance_to):
            advance_to(timer.due)
        self._feed(TimerFired(timer.token))
        return True

    def end(self, reason: str = "ended") -> list[Advance]:
        """End the active execution from outside (REST ``Status=ended``)."""
        if not self.active:
            return []
        return self._feed(EndExecution(reason))

    def feed(self, event: Event) -> list[Advance]:
        """Apply any event (tests), then perform effects until the execution waits."""
        return self._feed(event)

    # ------------------------------------------------------------------ engine loop
    def _start(
        self, trigger: str, data: dict[str, Any], parameters: dict[str, Any] | None = None
    ) -> list[Advance]:
        self.timers.clear()
        self.state = None
        self.executions += 1
        event = Start(
            trigger=trigger,
            execution_sid=self.env.sid("FN"),
            flow_sid=self.bundle.main.sid,
            contact_address=self.contact,
            flow_address=self.flow_address,
            data=data,
            parameters=parameters or {},
        )
        return self._feed(event)

    def _feed(self, first: Event) -> list[Advance]:
        queue: deque[Event] = deque([first])
        out: list[Advance] = []
        count = 0
        while queue:
            count += 1
            event = queue.popleft()
            if count > MAX_EVENTS_PER_INPUT:
                self._notice(f"stopped after {MAX_EVENTS_PER_INPUT} events without a wait")
                queue.clear()
                if not self.active:
                    break
                event = EndExecution("failed")
            result = advance(self.bundle, self.state, event, self.env)
            out.append(result)
            self.state = result.state
            self._report(result)
            queue.extend(self._perform(result.effects))
            if result.ended:
                self.timers.clear()
        return out

    def _report(self, result: Advance) -> None:
        attached = {id(w) for s in result.steps for w in s.warnings}
        self.steps.extend(result.steps)
        self.warnings.extend(result.warnings)
        for step in result.steps:
            if self.on_step is not None:
                self.on_step(step)
        for warning in result.warnings:
            if id(warning) not in attached and self.on_warning is not None:
                self.on_warning(warning)

    def _perform(self, effects: Iterable[Effect]) -> list[Event]:
        events: list[Event] = []
        for effect in effects:
            if isinstance(effect, SendMessage):
                if self.on_message is not None:
                    self.on_message(effect)
                data = message_resource(
                    effect, self.env.sid("SM"), self.account_sid, self.env.now()
                )
                events.append(EffectResult(effect.token, True, data))
            elif isinstance(effect, HttpRequest):
                events.append(http_result(effect, mocks=self.mocks, client=self._http()))
            elif isinstance(effect, StartTimer):
                self.timers = [t for t in self.timers if t.token != effect.token]
                self.timers.append(PendingTimer(effect.token, effect.due))
            elif isinstance(effect, CancelTimer):
                self.timers = [t for t in self.timers if t.token != effect.token]
            elif isinstance(effect, Respond) and self.on_respond is not None:
                self.on_respond(effect)
            elif isinstance(effect, Respond | PlaceCall):
                widget = self.state.waiting.widget if self.state and self.state.waiting else "?"
                what = "answer a call with TwiML" if isinstance(effect, Respond) else "place a call"
                self._notice(
                    f"widget {widget!r} needs to {what}: voice is not supported here "
                    "(messaging only); the execution ends"
                )
                events.append(EndExecution("failed"))
        return events

    def _http(self) -> httpx.Client | None:
        if self.mocks is not None:
            return None
        if self._client is None:
            self._client = httpx.Client(transport=self._transport, follow_redirects=True)
        return self._client

    def _notice(self, text: str) -> None:
        if self.on_notice is not None:
            self.on_notice(text)
