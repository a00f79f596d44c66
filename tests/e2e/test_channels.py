"""End to end: a real ``callboard serve`` on the twilio channel, a local stand-in for
Twilio's REST API, and signed webhooks — SMS conversations (replies, a timeout, a delivery
failure), an IVR call through the voice widgets, the corpus voice flows, and forged
signatures refused with nothing recorded."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from callboard.api.signatures import sign
from callboard.channels.call_driver import CallDriver
from tests.e2e.server import Server, database, running_server
from tests.e2e.twilio_standin import BAD_NUMBER, StandIn, twilio_standin

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

TWILIO_SID = "AC" + "7" * 32
TWILIO_TOKEN = "twilio-auth-token-for-tests"
_CALLS = itertools.count(1000)
CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "studio-flows"


def trigger(message: str | None = None, call: str | None = None) -> dict[str, Any]:
    transitions: list[dict[str, Any]] = [
        {"event": "incomingMessage", **({"next": message} if message else {})},
        {"event": "incomingCall", **({"next": call} if call else {})},
        {"event": "incomingConversationMessage"},
        {"event": "incomingRequest"},
        {"event": "incomingParent"},
    ]
    return {"name": "Trigger", "type": "trigger", "transitions": transitions, "properties": {}}


def state(name: str, type_: str, props: dict[str, Any], **events: str | None) -> dict[str, Any]:
    transitions = [{"event": e, **({"next": n} if n else {})} for e, n in events.items()]
    return {"name": name, "type": type_, "transitions": transitions, "properties": props}


def say(name: str, text: str, then: str | None = None) -> dict[str, Any]:
    return state(name, "say-play", {"say": text}, audioComplete=then)


SMS_FLOW = {
    "description": "sms",
    "initial_state": "Trigger",
    "flags": {"allow_concurrent_calls": True},
    "states": [
        trigger(message="ask"),
        state(
            "ask",
            "send-and-wait-for-reply",
            {"body": "What is your name?", "timeout": "2"},
            incomingMessage="hi",
            timeout="slow",
            deliveryFailure="failed",
        ),
        state("hi", "send-message", {"body": "Hi {{widgets.ask.inbound.Body}}"}, sent=None),
        state("slow", "send-message", {"body": "Too slow"}, sent=None),
        state(
            "failed",
            "send-message",
            {"body": "Failed {{widgets.ask.outbound.ErrorCode}}", "to": "+15550009999"},
            sent=None,
        ),
    ],
}


def ivr_flow(redirect_url: str) -> dict[str, Any]:
    return {
        "description": "ivr",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            trigger(call="welcome"),
            say("welcome", "Welcome to Callboard", "menu"),
            state(
                "menu",
                "gather-input-on-call",
                {"say": "Press 1 for sales, 2 for voicemail, 3 to wait, 4 to leave"},
                keypress="route",
                speech="route",
                timeout="bye",
            ),
            {
                "name": "route",
                "type": "split-based-on",
                "properties": {"input": "{{widgets.menu.Digits}}"},
                "transitions": [
                    {"event": "noMatch", "next": "bye"},
                    *[
                        {
                            "event": "match",
                            "next": target,
                            "conditions": [
                                {
                                    "friendly_name": digit,
                                    "arguments": ["{{widgets.menu.Digits}}"],
                                    "type": "equal_to",
                                    "value": digit,
                                }
                            ],
                        }
                        for digit, target in (
                            ("1", "sales"),
                            ("2", "vm"),
                            ("3", "queue"),
                            ("4", "away"),
                        )
                    ],
                ],
            },
            state(
                "sales",
                "connect-call-to",
                {"noun": "number", "to": "+15557770000"},
                callCompleted="bye",
                hangup=None,
            ),
            state(
                "vm",
                "record-voicemail",
                {"timeout": 5, "finish_on_key": "#"},
                recordingComplete="bye",
                noAudio="bye",
                hangup=None,
            ),
            state(
                "queue",
                "enqueue-call",
                {"queue_name": "support"},
                callComplete="bye",
                failedToEnqueue="bye",
                callFailure="bye",
            ),
            state(
                "away",
                "add-twiml-redirect",
                {"url": redirect_url, "timeout": "60"},
                **{"return": "back", "timeout": None, "fail": None},
            ),
            say("back", "Back from {{widgets.away.Place}}", "bye"),
            say("bye", "Goodbye"),
        ],
    }


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def db_kind(request: pytest.FixtureRequest) -> str:
    """Every test here runs against a server on SQLite, then on a fresh PostgreSQL
    database (skipped when 127.0.0.1:5432 is unreachable; a failure under CI=true)."""
    return str(request.param)


@pytest.fixture(scope="module")
def standin(db_kind: str) -> Iterator[StandIn]:
    with twilio_standin() as s:  # one per database: what it recorded is that server's
        yield s


@pytest.fixture(scope="module")
def server(
    db_kind: str, standin: StandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp(f"channels-{db_kind}")
    with (
        database(db_kind, tmp) as url,
        running_server(
            url,
            tmp,
            public_url=True,
            CALLBOARD_TWILIO_ACCOUNT_SID=TWILIO_SID,
            CALLBOARD_TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
            CALLBOARD_TWILIO_API_URL=standin.url,
        ) as s,
    ):
        yield s


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.url, auth=(server.account_sid, server.auth_token), timeout=30
    ) as c:
        yield c


def publish(api: httpx.Client, definition: dict[str, Any]) -> str:
    r = api.post(
        "/v2/Flows",
        data={"FriendlyName": "e2e", "Status": "published", "Definition": json.dumps(definition)},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["sid"])


def webhook(server: Server, flow_sid: str) -> str:
    return f"{server.url}/v1/Accounts/{server.account_sid}/Flows/{flow_sid}"


def post_signed(url: str, params: dict[str, str], token: str = TWILIO_TOKEN) -> httpx.Response:
    headers = {"X-Twilio-Signature": sign(url, params, token)}
    return httpx.post(url, data=params, headers=headers, timeout=30)


def sms(server: Server, flow_sid: str, contact: str, body: str, n: int) -> httpx.Response:
    sid = f"SM{n:032x}"
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": TWILIO_SID,
        "From": contact,
        "To": "+15550001000",
        "Body": body,
        "NumMedia": "0",
    }
    return post_signed(webhook(server, flow_sid), params)


def until(what: str, check: Callable[[], Any], seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def sent_to(standin: StandIn, contact: str) -> list[str]:
    return [f.get("Body", "") for f in standin.sent() if f.get("To") == contact]


def executions(api: httpx.Client, flow_sid: str) -> list[dict[str, Any]]:
    r = api.get(f"/v2/Flows/{flow_sid}/Executions")
    assert r.status_code == 200, r.text
    return list(r.json()["executions"])


# ------------------------------------------------------------------------------- SMS


def test_sms_conversation_with_a_reply(server: Server, api: httpx.Client, standin: StandIn) -> None:
    flow = publish(api, SMS_FLOW)
    contact = "+15551230001"
    r = sms(server, flow, contact, "hello", 1)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml")
    until("the question", lambda: "What is your name?" in sent_to(standin, contact))
    sent = next(f for f in standin.sent() if f.get("To") == contact)
    assert sent["From"] == "+15550001000"
    assert "FlowEvent=callback" in sent["StatusCallback"]
    assert sms(server, flow, contact, "hello", 1).status_code == 200  # a retry: ignored
    assert sms(server, flow, contact, "Bob", 2).status_code == 200
    until("the greeting", lambda: "Hi Bob" in sent_to(standin, contact))
    (ex,) = executions(api, flow)
    until("the end", lambda: executions(api, flow)[0]["status"] == "ended")
    assert ex["contact_channel_address"] == contact
    assert sent_to(standin, contact) == ["What is your name?", "Hi Bob"]


def test_sms_timeout(server: Server, api: httpx.Client, standin: StandIn) -> None:
    flow = publish(api, SMS_FLOW)
    contact = "+15551230002"
    sms(server, flow, contact, "hello", 3)
    until("the timeout message", lambda: "Too slow" in sent_to(standin, contact))


def test_sms_delivery_failure_from_a_status_callback(
    server: Server, api: httpx.Client, standin: StandIn
) -> None:
    flow = publish(api, SMS_FLOW)
    contact = "+15551230003"
    sms(server, flow, contact, "hello", 4)
    until("the question", lambda: sent_to(standin, contact))
    sent = next(f for f in standin.sent() if f.get("To") == contact)
    callback = sent["StatusCallback"]
    status = {"MessageSid": "SM" + "e" * 32, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert post_signed(callback, status, "wrong-token").status_code == 403
    assert post_signed(callback, status).status_code == 200
    until("the failure message", lambda: "Failed 30003" in sent_to(standin, "+15550009999"))


def test_refused_send_takes_delivery_failure(
    server: Server, api: httpx.Client, standin: StandIn
) -> None:
    flow = publish(api, SMS_FLOW)
    sms(server, flow, BAD_NUMBER, "hello", 5)
    until("the failure message", lambda: "Failed 21211" in sent_to(standin, "+15550009999"))


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}],
    ids=["missing", "forged"],
)
def test_bad_signatures_are_refused_and_change_nothing(
    server: Server, api: httpx.Client, standin: StandIn, headers: dict[str, str]
) -> None:
    flow = publish(api, SMS_FLOW)
    before = len(standin.sent())
    params = {"MessageSid": "SM" + "f" * 32, "From": "+15551230009", "To": "+1555", "Body": "x"}
    r = httpx.post(webhook(server, flow), data=params, headers=headers, timeout=30)
    assert r.status_code == 403
    signed_by_callboard = sign(webhook(server, flow), params, server.auth_token)
    r = httpx.post(
        webhook(server, flow), data=params, headers={"X-Twilio-Signature": signed_by_callboard}
    )
    assert r.status_code == 403  # the account is on Twilio: its Twilio token signs
    call = {"CallSid": "CA" + "f" * 32, "From": "+15551230009", "To": "+1555"}
    r = httpx.post(webhook(server, flow), data=call, headers=headers, timeout=30)
    assert r.status_code == 403
    time.sleep(0.3)
    assert executions(api, flow) == []
    assert len(standin.sent()) == before


# ------------------------------------------------------------------------------ voice


class SignedCall:
    """The driver's transport: every request signed like Twilio signs it."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, url: str, method: str, params: dict[str, str]) -> str:
        self.urls.append(url)
        if method == "GET":
            full = url + ("&" if "?" in url else "?") + urlencode(params)
            headers = {"X-Twilio-Signature": sign(full, {}, TWILIO_TOKEN)}
            r = httpx.get(full, headers=headers, timeout=30)
        else:
            r = post_signed(url, params)
        assert r.status_code == 200, (url, r.status_code, r.text)
        return r.text


def driver(server: Server, flow: str, n: int) -> tuple[CallDriver, SignedCall]:
    transport = SignedCall()
    d = CallDriver(
        transport,
        call_sid=f"CA{n:032x}",
        account_sid=TWILIO_SID,
        from_=f"+1555444{n:04d}",
        to="+15550001000",
        status_url=webhook(server, flow),
    )
    return d, transport


def said(heard: list[Any]) -> list[str]:
    return [h.text for h in heard if h.kind == "say"]


@pytest.fixture(scope="module")
def ivr(server: Server, api: httpx.Client, standin: StandIn) -> str:
    flow_holder: dict[str, str] = {}

    def outside(form: dict[str, str]) -> str:
        back = webhook(server, flow_holder["sid"]) + "?FlowEvent=return&Place=outside"
        return (
            "<Response><Say>You are outside</Say>"
            f"<Redirect>{back.replace('&', '&amp;')}</Redirect></Response>"
        )

    standin.twiml["/twiml/outside"] = outside
    flow_holder["sid"] = publish(api, ivr_flow(f"{standin.url}/twiml/outside"))
    return flow_holder["sid"]


@pytest.mark.parametrize(
    ("digits", "expected", "via"),
    [
        ("1", ["Goodbye"], "dial"),
        ("2", ["Goodbye"], "record"),
        ("3", ["Goodbye"], "enqueue"),
        ("4", ["You are outside", "Back from outside", "Goodbye"], "return"),
        ("9", ["Goodbye"], None),
    ],
)
def test_ivr_call_through_the_voice_widgets(
    server: Server, api: httpx.Client, ivr: str, digits: str, expected: list[str], via: str | None
) -> None:
    d, transport = driver(server, ivr, int(digits) + 10)
    heard = d.answer(webhook(server, ivr))
    assert said(heard)[:2] == [
        "Welcome to Callboard",
        "Press 1 for sales, 2 for voicemail, 3 to wait, 4 to leave",
    ]
    assert d.waiting is not None
    heard = d.gather(digits=digits)
    if via == "record":
        assert d.waiting is not None
        heard = d.record("please call me back")
    assert said(heard) == expected
    assert d.ended
    if via:
        assert any(f"Callback={via}" in u or f"FlowEvent={via}" in u for u in transport.urls)
    ex = [e for e in executions(api, ivr) if e["contact_channel_address"] == d.base["From"]]
    assert ex and ex[0]["status"] == "ended"


def test_caller_hangs_up_mid_menu_ends_the_execution(
    server: Server, api: httpx.Client, ivr: str
) -> None:
    d, _ = driver(server, ivr, 30)
    d.answer(webhook(server, ivr))
    d.hangup()  # Twilio's status call-back: CallStatus=completed
    ex = [e for e in executions(api, ivr) if e["contact_channel_address"] == d.base["From"]]
    assert ex[0]["status"] == "ended"
    ctx = api.get(f"/v2/Flows/{ivr}/Executions/{ex[0]['sid']}").json()
    assert ctx["status"] == "ended"


def test_stale_callback_changes_nothing(server: Server, api: httpx.Client, ivr: str) -> None:
    d, transport = driver(server, ivr, 31)
    d.answer(webhook(server, ivr))
    gather_url = next(u for u in transport.urls if "Callback=complete" in u)
    again = transport(gather_url, "POST", dict(d.base))  # the say-play call-back, repeated
    assert "<Gather" in again  # the same answer as the first time
    heard = d.gather(digits="9")
    assert said(heard) == ["Goodbye"]


# ----------------------------------------------------------------------------- corpus


def _voice_corpus() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    found = []
    for path in sorted(CORPUS.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        trig = next((s for s in data.get("states", []) if s.get("type") == "trigger"), None)
        if trig and any(
            t.get("event") == "incomingCall" and t.get("next") for t in trig.get("transitions", [])
        ):
            found.append(path)
    return found


@pytest.mark.parametrize("path", _voice_corpus() or [None], ids=lambda p: p.stem if p else "none")
def test_corpus_voice_flows_answer_a_call(
    server: Server, api: httpx.Client, path: Path | None
) -> None:
    if path is None:
        pytest.skip("../shared/studio-flows is absent or has no voice flows")
    r = api.post(
        "/v2/Flows",
        data={"FriendlyName": path.stem, "Status": "published", "Definition": path.read_text()},
    )
    if r.status_code != 201:
        pytest.skip(f"{path.name} is not accepted as a published flow: {r.json().get('message')}")
    flow = str(r.json()["sid"])
    d, _ = driver(server, flow, next(_CALLS))
    heard = d.answer(webhook(server, flow))
    for _ in range(6):  # press 1 at each menu, a few times
        if d.ended or d.waiting is None:
            break
        heard = d.gather(digits="1") if type(d.waiting).__name__ == "Gather" else d.record("hi")
    if not d.ended:
        d.hangup()
    assert heard is not None
    ex = executions(api, flow)
    assert ex, "the call started no execution"
    until("the execution to end", lambda: executions(api, flow)[0]["status"] == "ended", 20)
