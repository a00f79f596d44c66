"""Read a voice TwiML document as a list of actions, the way Twilio would carry them out.

Pure apart from parsing (no network, no clock): the terminal voice simulator and the
end-to-end tests use it to play the part of Twilio Voice. :func:`parse_twiml` turns the
document into :data:`Action` objects in document order; :func:`resolve_url` resolves a
verb's (possibly relative) URL against the URL the document was fetched from, and
:func:`query_params` reads the parameters of a call-back URL.

Attributes keep their TwiML names in ``attrs`` (``finishOnKey``...); the common ones are
also typed fields, with Twilio's documented defaults where a simulator needs them
(Gather ``timeout`` 5, ``finishOnKey`` ``#``; Dial ``timeout`` 30; methods ``POST``).
Verbs Callboard does not model come back as :class:`Unknown`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import TypeAlias
from urllib.parse import parse_qsl, urljoin, urlsplit

__all__ = [
    "Action",
    "Connect",
    "Dial",
    "DialTarget",
    "Enqueue",
    "Gather",
    "Hangup",
    "Pause",
    "Pay",
    "Play",
    "Record",
    "Redirect",
    "Reject",
    "Say",
    "Stream",
    "TwimlError",
    "Unknown",
    "parse_twiml",
    "query_params",
    "resolve_url",
]

MAX_TWIML_BYTES = 64 * 1024


class TwimlError(ValueError):
    """The document is not TwiML Callboard can read (the message says why and where)."""


@dataclass(frozen=True, slots=True)
class Say:
    text: str
    voice: str = ""
    language: str = ""
    loop: int = 1


@dataclass(frozen=True, slots=True)
class Play:
    url: str = ""
    digits: str = ""
    loop: int = 1


@dataclass(frozen=True, slots=True)
class Pause:
    length: int = 1


Prompt: TypeAlias = Say | Play | Pause


@dataclass(frozen=True, slots=True)
class Gather:
    action: str = ""
    method: str = "POST"
    input: tuple[str, ...] = ("dtmf",)
    timeout: int = 5
    finish_on_key: str = "#"
    num_digits: int | None = None
    speech_timeout: str = ""
    language: str = ""
    hints: str = ""
    prompts: tuple[Prompt, ...] = ()
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DialTarget:
    """One noun of a ``<Dial>``: ``number``, ``client``, ``sip``, ``sim``, ``conference``,
    ``queue`` (or the bare text of ``<Dial>+1555</Dial>``, kind ``number``)."""

    kind: str
    value: str
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Dial:
    action: str = ""
    method: str = "POST"
    caller_id: str = ""
    timeout: int = 30
    record: str = ""
    time_limit: int | None = None
    targets: tuple[DialTarget, ...] = ()
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Record:
    action: str = ""
    method: str = "POST"
    timeout: int = 5
    max_length: int = 3600
    finish_on_key: str = "1234567890*#"
    play_beep: bool = True
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Enqueue:
    name: str = ""
    action: str = ""
    method: str = "POST"
    workflow_sid: str = ""
    wait_url: str = ""
    task_attributes: str = ""
    task_attrs: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Redirect:
    url: str
    method: str = "POST"


@dataclass(frozen=True, slots=True)
class Hangup:
    pass


@dataclass(frozen=True, slots=True)
class Reject:
    reason: str = "rejected"


@dataclass(frozen=True, slots=True)
class Pay:
    action: str = ""
    method: str = "POST"
    parameters: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Stream:
    """``<Start>``/``<Stop>`` with a ``<Stream>`` or ``<Siprec>`` (``op`` start|stop)."""

    op: str
    kind: str  # "stream" or "siprec"
    name: str = ""
    url: str = ""
    parameters: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Connect:
    """``<Connect>`` with its first child (``VirtualAgent``, ``Stream``,
    ``ConversationRelay``...) as ``target``; ``config``/``parameters`` from its children."""

    target: str
    action: str = ""
    method: str = "POST"
    config: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, str] = field(default_factory=dict)
    target_attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Unknown:
    verb: str
    text: str = ""
    attrs: dict[str, str] = field(default_factory=dict)


Action: TypeAlias = (
    Say
    | Play
    | Pause
    | Gather
    | Dial
    | Record
    | Enqueue
    | Redirect
    | Hangup
    | Reject
    | Pay
    | Stream
    | Connect
    | Unknown
)


def parse_twiml(text: str | bytes) -> list[Action]:
    """The actions of a ``<Response>`` document, in order (raises :class:`TwimlError`)."""
    if len(text) > MAX_TWIML_BYTES:
        raise TwimlError(f"TwiML document is {len(text)} bytes; the limit is {MAX_TWIML_BYTES}")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise TwimlError(f"TwiML is not well-formed XML: {exc}") from None
    if root.tag != "Response":
        raise TwimlError(f"TwiML must have <Response> as its root element, found <{root.tag}>")
    return [_action(el, i) for i, el in enumerate(root)]


def resolve_url(url: str, base: str) -> str:
    """``url`` resolved against the URL of the document it came from (``?a=1`` keeps
    ``base``'s path and replaces its query, as Twilio does)."""
    return urljoin(base, url)


def query_params(url: str) -> dict[str, str]:
    """The query parameters of ``url`` (last value wins)."""
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


# ------------------------------------------------------------------------------ verbs


def _action(el: ET.Element, index: int) -> Action:
    where = f"<{el.tag}> (verb {index + 1})"
    a = dict(el.attrib)
    text = (el.text or "").strip()
    if el.tag == "Say":
        return Say(
            _say_text(el), a.get("voice", ""), a.get("language", ""), _int(a, "loop", 1, where)
        )
    if el.tag == "Play":
        return Play(text, a.get("digits", ""), _int(a, "loop", 1, where))
    if el.tag == "Pause":
        return Pause(_int(a, "length", 1, where))
    if el.tag == "Gather":
        return _gather(el, a, where)
    if el.tag == "Dial":
        return _dial(el, a, text, where)
    if el.tag == "Record":
        return Record(
            action=a.get("action", ""),
            method=_method(a),
            timeout=_int(a, "timeout", 5, where),
            max_length=_int(a, "maxLength", 3600, where),
            finish_on_key=a.get("finishOnKey", "1234567890*#"),
            play_beep=a.get("playBeep", "true").lower() != "false",
            attrs=a,
        )
    if el.tag == "Enqueue":
        task = el.find("Task")
        return Enqueue(
            name=text,
            action=a.get("action", ""),
            method=_method(a),
            workflow_sid=a.get("workflowSid", ""),
            wait_url=a.get("waitUrl", ""),
            task_attributes=(task.text or "").strip() if task is not None else "",
            task_attrs=dict(task.attrib) if task is not None else {},
            attrs=a,
        )
    if el.tag == "Redirect":
        if not text:
            raise TwimlError(f"{where} has no URL")
        return Redirect(text, _method(a))
    if el.tag == "Hangup":
        return Hangup()
    if el.tag == "Reject":
        return Reject(a.get("reason", "rejected"))
    if el.tag == "Pay":
        return Pay(a.get("action", ""), _method(a), _parameters(el), a)
    if el.tag in ("Start", "Stop"):
        child = next(iter(el), None)
        if child is None or child.tag not in ("Stream", "Siprec"):
            raise TwimlError(f"{where} must contain <Stream> or <Siprec>")
        c = dict(child.attrib)
        return Stream(
            op=el.tag.lower(),
            kind=child.tag.lower(),
            name=c.get("name", ""),
            url=c.get("url", ""),
            parameters=_parameters(child),
            attrs=c,
        )
    if el.tag == "Connect":
        child = next(iter(el), None)
        if child is None:
            raise TwimlError(f"{where} is empty")
        config = {
            p.get("name", ""): p.get("value", "") for p in child.findall("Config") if p.get("name")
        }
        return Connect(
            target=child.tag,
            action=a.get("action", ""),
            method=_method(a),
            config=config,
            parameters=_parameters(child),
            attrs=a,
            target_attrs=dict(child.attrib),
        )
    return Unknown(el.tag, text, a)


def _gather(el: ET.Element, a: dict[str, str], where: str) -> Gather:
    prompts: list[Prompt] = []
    for i, child in enumerate(el):
        nested = _action(child, i)
        if not isinstance(nested, Say | Play | Pause):
            raise TwimlError(
                f"{where} may only contain <Say>, <Play> and <Pause>, found <{child.tag}>"
            )
        prompts.append(nested)
    num = a.get("numDigits")
    return Gather(
        action=a.get("action", ""),
        method=_method(a),
        input=tuple(a.get("input", "dtmf").split()),
        timeout=_int(a, "timeout", 5, where),
        finish_on_key=a.get("finishOnKey", "#"),
        num_digits=_int(a, "numDigits", 0, where) if num is not None else None,
        speech_timeout=a.get("speechTimeout", ""),
        language=a.get("language", ""),
        hints=a.get("hints", ""),
        prompts=tuple(prompts),
        attrs=a,
    )


_NOUNS = {"Number", "Client", "Sip", "Sim", "Conference", "Queue"}


def _dial(el: ET.Element, a: dict[str, str], text: str, where: str) -> Dial:
    targets = [
        DialTarget(child.tag.lower(), (child.text or "").strip(), dict(child.attrib))
        for child in el
        if child.tag in _NOUNS
    ]
    if text and not targets:
        targets = [DialTarget("number", text)]
    if not targets:
        raise TwimlError(f"{where} has nothing to dial")
    limit = a.get("timeLimit")
    return Dial(
        action=a.get("action", ""),
        method=_method(a),
        caller_id=a.get("callerId", ""),
        timeout=_int(a, "timeout", 30, where),
        record=a.get("record", ""),
        time_limit=_int(a, "timeLimit", 0, where) if limit is not None else None,
        targets=tuple(targets),
        attrs=a,
    )


def _say_text(el: ET.Element) -> str:
    """The spoken text of a ``<Say>``, SSML tags dropped."""
    return " ".join("".join(el.itertext()).split())


def _parameters(el: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in el.findall("Parameter") if p.get("name")}


def _method(a: dict[str, str]) -> str:
    return "GET" if a.get("method", "POST").upper() == "GET" else "POST"


def _int(a: dict[str, str], name: str, default: int, where: str) -> int:
    raw = a.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise TwimlError(f"{where}: attribute {name}={raw!r} is not a whole number") from None
