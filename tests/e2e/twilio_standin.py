"""A local stand-in for Twilio's REST API (Messages and Calls), for end-to-end tests.

``callboard serve`` is pointed at it with ``CALLBOARD_TWILIO_API_URL``. It records every
request (``requests``: ``(path, form)``), answers like Twilio (201 with the resource's
JSON; a ``To`` of :data:`BAD_NUMBER` gets Twilio's 400 / 21211; an update of a call,
``POST .../Calls/CA….json`` such as ``Status=completed``, 200 with the call; a call's
recording, ``POST .../Calls/CA…/Recordings.json``, 201), and serves
external TwiML at ``/twiml/...`` (what a TwiML Redirect widget points at).

Listing (``GET .../Messages.json`` with ``To``, ``From``, ``DateSent>``; ``GET
.../Calls.json`` with ``To``, ``From``) answers from what was created, newest first —
what an outbox reconciliation looks up (issue 12). Lists are kept apart from sends
(``lookups``), so :meth:`StandIn.sent` counts sends only. ``delay`` (seconds) holds each
create before it answers (a crash can then fall between Twilio accepting a send and
Callboard recording it).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BAD_NUMBER = "+15005550001"


class StandIn:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.resources: list[tuple[str, str, dict[str, str]]] = []  # (kind, sid, form)
        self.twiml: dict[str, Callable[[dict[str, str]], str]] = {}
        self.lock = threading.Lock()
        self.url = ""
        self.lookups: list[tuple[str, dict[str, str]]] = []
        self.delay = 0.0
        self.fail_lookups = False  # lists answer 500 (Twilio unavailable)
        self.created_json: list[tuple[str, dict[str, Any]]] = []  # (kind, JSON) created

    def sent(self, kind: str = "Messages") -> list[dict[str, str]]:
        with self.lock:
            return [form for path, form in self.requests if path.endswith(f"/{kind}.json")]

    def created(self, kind: str = "Calls") -> list[tuple[str, dict[str, str]]]:
        """``(sid, form)`` of every resource created (``Calls``, ``Messages``), oldest first."""
        with self.lock:
            return [(sid, form) for k, sid, form in self.resources if k == kind]

    def call_updates(self) -> list[tuple[str, dict[str, str]]]:
        """``(CallSid, form)`` of every update of a call (the Calls API's ``POST
        /2010-04-01/Accounts/AC…/Calls/CA….json``), oldest first."""
        with self.lock:
            found = []
            for path, form in self.requests:
                parts = path.strip("/").split("/")
                if len(parts) == 5 and parts[3] == "Calls" and parts[4].endswith(".json"):
                    found.append((parts[4][: -len(".json")], form))
            return found

    def listing(self, path: str, query: dict[str, str]) -> tuple[int, str, str] | None:
        """``GET .../Messages.json`` / ``.../Calls.json``: the created resources that
        match ``To``, ``From`` and (messages) ``DateSent>``, newest first."""
        parts = path.strip("/").split("/")
        if len(parts) != 4 or parts[3] not in ("Messages.json", "Calls.json"):
            return None
        kind = parts[3][: -len(".json")]
        with self.lock:
            self.lookups.append((path, query))
            found = [data for k, data in reversed(self.created_json) if k == kind]
        if self.fail_lookups:
            return 500, "application/json", json.dumps({"code": 20500, "status": 500})
        if query.get("To"):
            found = [d for d in found if d.get("to") == query["To"]]
        if query.get("From"):
            found = [d for d in found if d.get("from") == query["From"]]
        key = kind.lower()
        page = {
            key: found[: int(query.get("PageSize") or 50)],
            "first_page_uri": path,
            "next_page_uri": None,
            "previous_page_uri": None,
            "page": 0,
            "page_size": int(query.get("PageSize") or 50),
            "uri": path,
            "start": 0,
            "end": len(found),
        }
        return 200, "application/json", json.dumps(page)

    def answer(self, path: str, form: dict[str, str]) -> tuple[int, str, str]:
        with self.lock:
            self.requests.append((path, form))
        if path.startswith("/twiml/"):
            make = self.twiml.get(path)
            if make is None:
                return 404, "text/plain", "no such TwiML"
            return 200, "text/xml", make(form)
        parts = path.strip("/").split("/")
        if len(parts) == 5 and parts[:2] == ["2010-04-01", "Accounts"] and parts[3] == "Calls":
            sid = parts[4].removesuffix(".json")
            call = {
                "sid": sid,
                "account_sid": parts[2],
                "status": form.get("Status") or "in-progress",
                "date_updated": formatdate(usegmt=True),
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{parts[2]}/Calls/{sid}.json",
            }
            return 200, "application/json", json.dumps(call)
        if (
            parts[:2] == ["2010-04-01", "Accounts"]
            and parts[3:4] == ["Calls"]
            and parts[5:] == ["Recordings.json"]
        ):  # Call Recording: start recording a call
            sid = "RE" + secrets.token_hex(16)
            with self.lock:
                self.resources.append(("Recordings", sid, form))
            recording = {"sid": sid, "account_sid": parts[2], "call_sid": parts[4]}
            recording.update(status="in-progress", channels=2, source="StartCallRecordingAPI")
            return 201, "application/json", json.dumps(recording)
        if len(parts) != 4 or parts[0] != "2010-04-01" or parts[1] != "Accounts":
            return 404, "application/json", json.dumps({"code": 20404, "status": 404})
        account, kind = parts[2], parts[3]
        if form.get("To") == BAD_NUMBER:
            body = {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}
            return 400, "application/json", json.dumps(body)
        now = formatdate(usegmt=True)
        prefix = "SM" if kind == "Messages.json" else "CA"
        sid = prefix + secrets.token_hex(16)
        resource: dict[str, Any] = {
            "sid": sid,
            "account_sid": account,
            "to": form.get("To"),
            "from": form.get("From") or form.get("MessagingServiceSid"),
            "status": "queued",
            "date_created": now,
            "date_updated": now,
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{account}/{kind[:-5]}/{sid}.json",
        }
        if kind == "Messages.json":
            resource.update(
                body=form.get("Body", ""),
                num_segments="1",
                num_media=str(len([k for k in form if k == "MediaUrl"])),
                direction="outbound-api",
                error_code=None,
                error_message=None,
                price=None,
                price_unit="USD",
            )
        elif kind == "Calls.json":
            resource.update(direction="outbound-api", parent_call_sid=None)
        else:
            return 404, "application/json", json.dumps({"code": 20404, "status": 404})
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.resources.append((kind[: -len(".json")], sid, form))
            self.created_json.append((kind[: -len(".json")], resource))
        return 201, "application/json", json.dumps(resource)


@contextmanager
def twilio_standin() -> Iterator[StandIn]:
    standin = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            path, _, query = self.path.partition("?")
            form = dict(parse_qsl(raw or query, keep_blank_values=True))
            listed = standin.listing(path, form) if self.command == "GET" else None
            status, ctype, body = listed or standin.answer(path, form)
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = _reply
        do_GET = _reply

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    standin.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()
