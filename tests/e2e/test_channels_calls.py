"""End to end, on the twilio channel (a real ``callboard serve``, the Twilio stand-in,
signed webhooks), on SQLite and on PostgreSQL:

* an execution that ends outside its call's webhooks (REST ``Status=ended``, a TwiML
  Redirect's timeout) hangs the call up through the Calls API (``Status=completed``);
  one that ends while answering the call's webhook does not (its answer hangs up);
* Make Outgoing Call: Twilio's status call-backs for the call Callboard placed —
  ``busy``/``no-answer``/``failed`` before an answer take the widget's events,
  ``completed`` after the flow moved on ends the execution;
* a burst of signed SMS webhooks from one new contact while the worker sends through
  the Messages API (the simulator-channel burst is ``test_webhook_burst.py``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from callboard.channels.call_driver import CallDriver
from callboard.channels.config import ChannelConfig
from callboard.commands.compose import build_services
from callboard.store import tables as t
from tests.e2e.server import Server
from tests.e2e.test_channels import (  # the module's fixtures: a server per database
    TWILIO_SID,
    SignedCall,
    api,
    db_kind,
    driver,
    executions,
    ivr,
    post_signed,
    publish,
    said,
    say,
    sent_to,
    server,
    standin,
    state,
    trigger,
    until,
    webhook,
)
from tests.e2e.twilio_standin import StandIn

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
__all__ = ["api", "db_kind", "ivr", "server", "standin"]  # fixtures, used by name

NUMBER = "+15550001000"
USER_URL = "https://user.example.test/recordings"  # the flow author's own endpoint


def updates_of(standin: StandIn, call_sid: str) -> list[dict[str, str]]:
    return [form for sid, form in standin.call_updates() if sid == call_sid]


def end_by_rest(api: httpx.Client, flow: str, execution_sid: str) -> None:
    r = api.post(f"/v2/Flows/{flow}/Executions/{execution_sid}", data={"Status": "ended"})
    assert r.status_code == 200 and r.json()["status"] == "ended", r.text


def execution_of(api: httpx.Client, flow: str, contact: str) -> dict[str, Any]:
    found = [e for e in executions(api, flow) if e["contact_channel_address"] == contact]
    assert len(found) == 1, found
    return found[0]


# ------------------------------------------------------------- hanging up live calls


def test_rest_end_hangs_up_the_call_and_an_in_band_end_does_not(
    server: Server, api: httpx.Client, standin: StandIn, ivr: str
) -> None:
    finished, _ = driver(server, ivr, 40)  # ends inside a webhook: <Hangup/> is enough
    finished.answer(webhook(server, ivr))
    assert said(finished.gather(digits="9")) == ["Goodbye"] and finished.ended

    d, _ = driver(server, ivr, 41)
    d.answer(webhook(server, ivr))
    assert d.waiting is not None  # at the menu
    ex = execution_of(api, ivr, d.base["From"])
    end_by_rest(api, ivr, ex["sid"])
    (form,) = until("the Calls API update", lambda: updates_of(standin, d.base["CallSid"]))
    assert form["Status"] == "completed"
    heard = d.gather(digits="1")  # Twilio's late Gather action gets <Hangup/>
    assert d.ended and [h.kind for h in heard] == ["hangup"]
    assert updates_of(standin, finished.base["CallSid"]) == []  # its job would be older


def redirect_flow(hold_url: str) -> dict[str, Any]:
    return {
        "description": "redirect with a timeout",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            trigger(call="away"),
            state(
                "away",
                "add-twiml-redirect",
                {"url": hold_url, "timeout": "1"},
                **{"return": None, "timeout": None, "fail": None},
            ),
        ],
    }


def test_twiml_redirect_timeout_hangs_up_the_call(
    server: Server, api: httpx.Client, standin: StandIn
) -> None:
    standin.twiml["/twiml/hold"] = lambda form: (
        '<Response><Gather input="dtmf" timeout="60"><Say>Please hold</Say></Gather></Response>'
    )
    flow = publish(api, redirect_flow(f"{standin.url}/twiml/hold"))
    d, _ = driver(server, flow, 42)
    assert said(d.answer(webhook(server, flow))) == ["Please hold"]
    assert d.waiting is not None  # the caller is at the outside TwiML
    (form,) = until("the Calls API update", lambda: updates_of(standin, d.base["CallSid"]))
    assert form["Status"] == "completed"
    ex = execution_of(api, flow, d.base["From"])
    assert ex["status"] == "ended"
    steps = api.get(f"/v2/Flows/{flow}/Executions/{ex['sid']}/Steps").json()["steps"]
    assert [s["transitioned_from"] for s in steps][-1] == "away"  # left on its timeout


# ------------------------------------------------------- recording status call-backs


def recording_flow() -> dict[str, Any]:
    return {
        "description": "recordings",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            trigger(call="rec"),
            state(
                "rec",
                "record-call",
                {"record_call": True, "recording_status_callback": USER_URL + "/call"},
                success="vm",
                failed=None,
            ),
            state(
                "vm",
                "record-voicemail",
                {"recording_status_callback_url": USER_URL + "/voicemail"},
                recordingComplete=None,
                noAudio=None,
                hangup=None,
            ),
        ],
    }


def test_recording_status_callbacks_are_the_flow_authors_urls(
    server: Server, api: httpx.Client, standin: StandIn
) -> None:
    """Twilio posts recording status call-backs straight to the URLs the widgets name:
    Call Recording passes its URL to the Recordings API, Record Voicemail puts its URL
    in ``<Record recordingStatusCallback>``; Callboard is not in the way."""
    flow = publish(api, recording_flow())
    d, _ = driver(server, flow, 43)
    heard = d.answer(webhook(server, flow))  # the recording starts in the worker first
    assert [h.kind for h in heard] == ["record"]
    assert f'recordingStatusCallback="{USER_URL}/voicemail"' in d.doc
    ((_, form),) = standin.created("Recordings")
    assert form["RecordingStatusCallback"] == USER_URL + "/call"
    assert form["RecordingStatusCallbackEvent"] == "completed"
    heard = d.record("hello")
    assert d.ended
    until("the end", lambda: execution_of(api, flow, d.base["From"])["status"] == "ended")


# ------------------------------------------------------------ Make Outgoing Call


def outbound_flow() -> dict[str, Any]:
    request = trigger()
    request["transitions"] = [
        {"event": "incomingRequest", "next": "dial"} if t["event"] == "incomingRequest" else t
        for t in request["transitions"]
    ]
    return {
        "description": "outbound",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            request,
            state(
                "dial",
                "make-outgoing-call-v2",
                {
                    "to": "{{contact.channel.address}}",
                    "from": "{{flow.channel.address}}",
                    "record": True,
                    "recording_status_callback": USER_URL + "/outbound",
                },
                answered="hello",
                busy="busy",
                noAnswer="nobody",
                failed="broken",
            ),
            say("hello", "This is Callboard calling", "menu"),
            state(
                "menu",
                "gather-input-on-call",
                {"say": "Press 1"},
                keypress="bye",
                speech="bye",
                timeout="bye",
            ),
            say("bye", "Goodbye"),
            state("busy", "send-message", {"body": "Line busy"}, sent=None),
            state("nobody", "send-message", {"body": "No answer"}, sent=None),
            state("broken", "send-message", {"body": "Call failed"}, sent=None),
        ],
    }


@pytest.fixture(scope="module")
def outbound(api: httpx.Client) -> str:
    return publish(api, outbound_flow())


def place(api: httpx.Client, standin: StandIn, flow: str, contact: str) -> tuple[str, str, dict]:
    """Start an execution that calls ``contact``: (execution, call sid, Calls API form)."""
    r = api.post(f"/v2/Flows/{flow}/Executions", data={"To": contact, "From": NUMBER})
    assert r.status_code == 201, r.text
    sid, form = until(
        "the call to be placed",
        lambda: next(((s, f) for s, f in standin.created("Calls") if f["To"] == contact), None),
    )
    assert form["From"] == NUMBER and "Callback=answered" in form["Url"]
    assert "Callback=status" in form["StatusCallback"]
    assert form["RecordingStatusCallback"] == USER_URL + "/outbound"  # Twilio calls it
    return str(r.json()["sid"]), sid, form


def status(form: dict[str, str], call_sid: str, contact: str, value: str) -> None:
    params = {
        "CallSid": call_sid,
        "AccountSid": form.get("AccountSid", ""),
        "From": NUMBER,
        "To": contact,
        "Direction": "outbound-api",
        "CallStatus": value,
        "CallbackSource": "call-progress-events",
    }
    r = post_signed(form["StatusCallback"], params)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("outcome", "message"),
    [("busy", "Line busy"), ("no-answer", "No answer"), ("failed", "Call failed")],
)
def test_placed_call_that_is_not_answered_takes_the_widgets_event(
    api: httpx.Client, standin: StandIn, outbound: str, outcome: str, message: str
) -> None:
    contact = {"busy": "+15552220001", "no-answer": "+15552220002", "failed": "+15552220003"}[
        outcome
    ]
    _, call_sid, form = place(api, standin, outbound, contact)
    for value in ("initiated", "ringing"):  # progress: the widget keeps waiting
        status(form, call_sid, contact, value)
    assert execution_of(api, outbound, contact)["status"] == "active"
    status(form, call_sid, contact, outcome)
    status(form, call_sid, contact, outcome)  # Twilio retries: processed once
    until("the widget's event", lambda: message in sent_to(standin, contact))
    until("the end", lambda: execution_of(api, outbound, contact)["status"] == "ended")
    assert sent_to(standin, contact) == [message]
    assert updates_of(standin, call_sid) == []  # the call never was up


def test_placed_call_completed_after_the_flow_moved_on_ends_the_execution(
    api: httpx.Client, standin: StandIn, outbound: str
) -> None:
    contact = "+15552220004"
    execution_sid, call_sid, form = place(api, standin, outbound, contact)
    callee = CallDriver(
        SignedCall(),
        call_sid=call_sid,
        account_sid=form.get("AccountSid", ""),
        from_=NUMBER,
        to=contact,
        direction="outbound-api",
    )
    heard = callee.answer(form["Url"])
    assert said(heard) == ["This is Callboard calling", "Press 1"]
    status(form, call_sid, contact, "in-progress")  # the "answered" progress event
    assert execution_of(api, outbound, contact)["status"] == "active"  # at the menu
    status(form, call_sid, contact, "completed")  # the callee hangs up
    ex = execution_of(api, outbound, contact)
    assert ex["status"] == "ended"
    steps = api.get(f"/v2/Flows/{outbound}/Executions/{execution_sid}/Steps").json()["steps"]
    assert [s["transitioned_from"] for s in steps] == ["Trigger", "dial", "hello"]
    assert sent_to(standin, contact) == []
    assert updates_of(standin, call_sid) == []  # it hung up itself


def test_rest_end_hangs_up_a_placed_call(
    api: httpx.Client, standin: StandIn, outbound: str
) -> None:
    contact = "+15552220005"
    execution_sid, call_sid, form = place(api, standin, outbound, contact)
    status(form, call_sid, contact, "ringing")
    end_by_rest(api, outbound, execution_sid)
    (update,) = until("the Calls API update", lambda: updates_of(standin, call_sid))
    assert update["Status"] == "completed"
    status(form, call_sid, contact, "canceled")  # Twilio's call-back afterwards: no change
    assert sent_to(standin, contact) == []


# --------------------------------------------------------------------- SMS burst


def ask_then_away(away_url: str) -> dict[str, Any]:
    """Ask (consumes one reply), then a TwiML Redirect that waits an hour and takes no
    message: every other message of a burst is recorded as 81002."""
    return {
        "description": "burst",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            trigger(message="ask"),
            state(
                "ask",
                "send-and-wait-for-reply",
                {"body": "Name?", "timeout": "3600"},
                incomingMessage="away",
                timeout=None,
                deliveryFailure=None,
            ),
            state(
                "away",
                "add-twiml-redirect",
                {"url": away_url, "timeout": "3600"},
                **{"return": None, "timeout": None, "fail": None},
            ),
        ],
    }


def test_sms_burst_from_a_new_contact_starts_one_execution(
    server: Server, api: httpx.Client, standin: StandIn
) -> None:
    """50 simultaneous signed webhooks (10 of them retried at once) while the worker
    sends the question through the Messages API: one execution, one reply consumed, the
    other 48 recorded as 81002, each message processed once."""
    n, contact = 50, "+15552229999"
    flow = publish(api, ask_then_away(f"{standin.url}/twiml/away"))
    hook = webhook(server, flow)

    def post(i: int) -> httpx.Response:
        sid = f"SM{i + 7000:032x}"
        params = {"MessageSid": sid, "From": contact, "To": NUMBER, "Body": f"m{i}"}
        return post_signed(hook, {**params, "AccountSid": TWILIO_SID, "NumMedia": "0"})

    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(post, [*range(n), *range(10)]))
    assert [r.status_code for r in answers] == [200] * (n + 10), answers[0].text
    (ex,) = executions(api, flow)
    assert ex["status"] == "active"
    steps = api.get(f"/v2/Flows/{flow}/Executions/{ex['sid']}/Steps").json()["steps"]
    assert sorted(s["transitioned_from"] for s in steps) == ["Trigger", "ask"]
    service = build_services(
        server.database_url, migrate=False, channel_config=ChannelConfig()
    ).callboard
    try:
        with service.db.read() as conn:
            notes = conn.execute(
                select(func.count()).where(
                    t.notifications.c.execution_sid == ex["sid"], t.notifications.c.code == 81002
                )
            ).scalar_one()
            processed = conn.execute(
                select(func.count()).where(t.processed_requests.c.execution_sid == ex["sid"])
            ).scalar_one()
    finally:
        service.close()
    assert (notes, processed) == (n - 2, n)
    until("the question", lambda: sent_to(standin, contact) == ["Name?"])
