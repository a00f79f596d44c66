"""Play the part of Twilio Voice for one call: fetch TwiML, carry out its verbs, follow
redirects and call-backs, ask for the caller's input at ``<Gather>``/``<Record>``.

:class:`CallDriver` is transport-agnostic: ``fetch(url, method, params) -> TwiML text``
does the request (a signed HTTP request in the end-to-end tests, a direct call into the
service in the simulator API, the in-memory runner in ``callboard call``). What the caller
experiences is reported as :class:`Heard` items. The driver's state is plain JSON
(:meth:`CallDriver.to_json`), so the simulator API can keep a call between requests.

Twilio behaviour modelled: a ``<Gather>``/``<Record>`` without ``action`` posts to the
document's own URL; a ``<Gather>`` that gets no input goes on with the next verb (or
calls its action with empty ``Digits`` when ``actionOnEmptyResult`` is true); a document
that runs out of verbs ends the call; a ``<Redirect>`` fetches the next document. Dial,
Enqueue, Pay and Connect do not involve the caller here: their outcome comes from
``outcomes`` (default: the dialled party answered and hung up; the queue bridged the
caller; the payment succeeded; the virtual agent completed). When the call ends, a
status call-back (``CallStatus=completed``) goes to ``status_url`` when one is set.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from callboard.channels.twiml_interpreter import (
    Action,
    Connect,
    Dial,
    Enqueue,
    Gather,
    Hangup,
    Pause,
    Pay,
    Play,
    Record,
    Redirect,
    Reject,
    Say,
    Stream,
    TwimlError,
    Unknown,
    parse_twiml,
    resolve_url,
)

__all__ = ["CallDriver", "Fetch", "Heard", "default_outcome"]

Fetch = Callable[[str, str, dict[str, str]], str]
MAX_FETCHES_WITHOUT_INPUT = 100


@dataclass(frozen=True, slots=True)
class Heard:
    """One thing that happened on the call: ``kind`` is say, play, pause, gather, record,
    dial, enqueue, pay, connect, stream, hangup, reject, note."""

    kind: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, **({"data": self.data} if self.data else {})}


def default_outcome(action: Action) -> dict[str, str]:
    """The call-back parameters of a verb the caller takes no part in."""
    if isinstance(action, Dial):
        return {
            "DialCallStatus": "completed",
            "DialCallSid": "CA" + uuid.uuid4().hex,  # the dialled leg, as Twilio sends it
            "DialCallDuration": "5",
            "DialBridged": "true",
        }
    if isinstance(action, Enqueue):
        return {"QueueResult": "bridged", "QueueTime": "5"}
    if isinstance(action, Pay):
        return {"Result": "success", "PaymentConfirmationCode": "simulated"}
    if isinstance(action, Connect) and action.target == "ConversationRelay":
        return {
            "SessionId": "VX" + uuid.uuid4().hex,
            "SessionStatus": "ended",
            "SessionDuration": "5",
            "HandoffData": '{"reason": "simulated"}',
        }
    if isinstance(action, Connect):
        return {"VirtualAgentStatus": "completed"}
    return {}


class CallError(Exception):
    """The call cannot go on (bad TwiML, a fetch failed)."""


class CallDriver:
    def __init__(
        self,
        fetch: Fetch,
        *,
        call_sid: str,
        account_sid: str,
        from_: str,
        to: str,
        direction: str = "inbound",
        status_url: str | None = None,
        outcomes: Callable[[Action], dict[str, str]] = default_outcome,
        on_heard: Callable[[Heard], None] | None = None,
    ) -> None:
        self.fetch_fn = fetch
        self.base = {
            "CallSid": call_sid,
            "AccountSid": account_sid,
            "From": from_,
            "To": to,
            "Caller": from_,
            "Called": to,
            "Direction": direction,
            "ApiVersion": "2010-04-01",
        }
        self.status_url = status_url
        self.outcomes = outcomes
        self.on_heard = on_heard
        self.status = "ringing"
        self.doc = ""  # the document being carried out
        self.url = ""  # where it came from
        self.index = -1  # the verb waiting for input (Gather/Record), -1: none
        self.heard: list[Heard] = []  # since the last input
        self.fetches = 0

    # ------------------------------------------------------------------ state
    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "status_url": self.status_url,
            "status": self.status,
            "doc": self.doc,
            "url": self.url,
            "index": self.index,
        }

    def load(self, data: dict[str, Any]) -> CallDriver:
        self.base = dict(data.get("base") or self.base)
        self.status_url = data.get("status_url")
        self.status = str(data.get("status") or "ringing")
        self.doc = str(data.get("doc") or "")
        self.url = str(data.get("url") or "")
        self.index = int(data.get("index", -1))
        return self

    @property
    def ended(self) -> bool:
        return self.status == "completed" or self.status in ("busy", "failed", "no-answer")

    @property
    def waiting(self) -> Action | None:
        """The ``Gather``/``Record`` waiting for the caller (None when not waiting)."""
        if self.ended or self.index < 0 or not self.doc:
            return None
        return parse_twiml(self.doc)[self.index]

    # ------------------------------------------------------------------ inputs
    def answer(
        self, url: str, method: str = "POST", extra: dict[str, str] | None = None
    ) -> list[Heard]:
        """The call connects: fetch the first document from ``url``."""
        self.heard = []
        self.fetches = 0
        params = {"CallStatus": "ringing" if self.base["Direction"] == "inbound" else "in-progress"}
        self.status = "in-progress"
        self._go(url, method, {**params, **(extra or {})})
        return self.heard

    def play(self, text: str, url: str) -> list[Heard]:
        """Carry out ``text``, the first document (already fetched from ``url``)."""
        self.heard = []
        self.fetches = 0
        self.status = "in-progress"
        try:
            parse_twiml(text)
        except TwimlError as exc:
            self._end("completed", f"the call ends: {exc}")
            return self.heard
        self.doc, self.url, self.index = text, url, -1
        self._run(0)
        return self.heard

    def gather(self, digits: str | None = None, speech: str | None = None) -> list[Heard]:
        """Input for the waiting ``<Gather>`` (both None: the caller stays silent)."""
        action = self._take(Gather)
        assert isinstance(action, Gather)
        params: dict[str, str] = {}
        if digits:
            params["Digits"] = digits
        if speech:
            params["SpeechResult"] = speech
            params["Confidence"] = "0.9"
        if not params and action.attrs.get("actionOnEmptyResult", "false").lower() != "true":
            self._carry_on()
            return self.heard
        if not params:  # actionOnEmptyResult: the action hears about the silence
            params["Digits"] = ""
        self._go(resolve_url(action.action or self.url, self.url), action.method, params)
        return self.heard

    def record(self, text: str | None) -> list[Heard]:
        """Input for the waiting ``<Record>``: ``text`` stands for the audio (None: silence)."""
        action = self._take(Record)
        assert isinstance(action, Record)
        params: dict[str, str] = {"Digits": "#"}
        if text:
            sid = "RE" + format(abs(hash((self.base["CallSid"], text))), "032x")[:32]
            params.update(
                RecordingUrl=f"https://api.twilio.com/2010-04-01/Accounts/"
                f"{self.base['AccountSid']}/Recordings/{sid}",
                RecordingSid=sid,
                RecordingDuration=str(max(1, len(text.split()))),
            )
            if action.attrs.get("transcribe", "").lower() == "true":
                params["TranscriptionText"] = text
        self._go(resolve_url(action.action or self.url, self.url), action.method, params)
        return self.heard

    def hangup(self) -> list[Heard]:
        """The caller hangs up."""
        self.heard = []
        if not self.ended:
            self._end("completed", "You hung up")
        return self.heard

    # ------------------------------------------------------------------ running
    def _take(self, kind: type) -> Action:
        action = self.waiting
        if action is None or not isinstance(action, kind):
            raise CallError(f"the call is not waiting for {kind.__name__.lower()} input")
        self.heard = []
        self.fetches = 0
        return action

    def _carry_on(self) -> None:
        start = self.index + 1
        self.index = -1
        self._run(start)

    def _hear(self, kind: str, text: str, **data: Any) -> None:
        item = Heard(kind, text, data)
        self.heard.append(item)
        if self.on_heard is not None:
            self.on_heard(item)

    def _go(self, url: str, method: str, params: dict[str, str]) -> None:
        self.fetches += 1
        if self.fetches > MAX_FETCHES_WITHOUT_INPUT:
            self._end("completed", f"more than {MAX_FETCHES_WITHOUT_INPUT} redirects in a row")
            return
        request = {**self.base, "CallStatus": "in-progress", **params}
        try:
            text = self.fetch_fn(url, method, request)
            parse_twiml(text)
        except (TwimlError, CallError) as exc:
            self._end("completed", f"the call ends: {exc}")
            return
        self.doc, self.url, self.index = text, url, -1
        self._run(0)

    def _run(self, start: int) -> None:
        actions = parse_twiml(self.doc)
        for i in range(start, len(actions)):
            a = actions[i]
            if isinstance(a, Say):
                self._hear("say", a.text, voice=a.voice, language=a.language)
            elif isinstance(a, Play):
                self._hear("play", a.url or f"digits {a.digits}")
            elif isinstance(a, Pause):
                self._hear("pause", f"{a.length} s")
            elif isinstance(a, Gather):
                for p in a.prompts:
                    if isinstance(p, Say):
                        self._hear("say", p.text, voice=p.voice, language=p.language)
                    elif isinstance(p, Play):
                        self._hear("play", p.url or f"digits {p.digits}")
                self._hear("gather", " ".join(a.input), input=list(a.input))
                self.index = i
                return
            elif isinstance(a, Record):
                self._hear("record", f"max {a.max_length} s")
                self.index = i
                return
            elif isinstance(a, Redirect):
                self._go(resolve_url(a.url, self.url), a.method, {})
                return
            elif isinstance(a, Hangup):
                self._end("completed", "The flow hung up")
                return
            elif isinstance(a, Reject):
                self._end("busy" if a.reason == "busy" else "failed", f"rejected ({a.reason})")
                return
            elif isinstance(a, Dial | Enqueue | Pay | Connect):
                outcome = self.outcomes(a)
                self._hear(_kind(a), _describe(a), outcome=outcome)
                action = a.action
                if action:
                    self._go(resolve_url(action, self.url), a.method, outcome)
                    return
            elif isinstance(a, Stream):
                self._hear("stream", f"{a.op} {a.kind} {a.name or a.url}".strip())
            elif isinstance(a, Unknown):
                self._hear("note", f"<{a.verb}> {a.text}".strip())
        self._end("completed", "The call ended (no more TwiML)")

    def _end(self, status: str, text: str) -> None:
        self.status = status
        self.index = -1
        self._hear("hangup", text)
        if self.status_url:
            params = {
                **self.base,
                "CallStatus": status,
                "CallbackSource": "call-progress-events",
                "CallDuration": "10",
            }
            try:
                self.fetch_fn(self.status_url, "POST", params)
            except Exception as exc:  # the status call-back's answer does not matter
                self._hear("note", f"status call-back failed: {exc}")


def _kind(a: Action) -> str:
    return type(a).__name__.lower()


def _describe(a: Action) -> str:
    if isinstance(a, Dial):
        return ", ".join(f"{t.kind} {t.value}".strip() for t in a.targets)
    if isinstance(a, Enqueue):
        return a.name or a.workflow_sid
    if isinstance(a, Pay):
        return a.attrs.get("chargeAmount", "") or "tokenize"
    if isinstance(a, Connect):
        return a.target
    return ""
