"""A local stand-in for Twilio's REST API (Messages and Calls; Conversations and Flex
Interactions at ``/v1/...``, see :meth:`StandIn.answer_v1`: any conversation takes
messages, participants and webhooks; only those created here can be fetched), for
end-to-end tests.

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
from datetime import UTC, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BAD_NUMBER = "+15005550001"
BAD_WORKFLOW = "WW" + "0" * 32  # Flex refuses an Interaction routed to it (400)
WORKSPACE = "WS" + "6" * 32  # the account's TaskRouter workspace (GET /v1/Workspaces)


class StandIn:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.resources: list[tuple[str, str, dict[str, str]]] = []  # (kind, sid, form)
        self.twiml: dict[str, Callable[[dict[str, str]], str]] = {}
        self.lock = threading.Lock()
        self.url = ""
        self.conversations: dict[str, dict[str, Any]] = {}  # CH… → resource
        self.lookups: list[tuple[str, dict[str, str]]] = []
        self.delay = 0.0
        self.fail_lookups = False  # lists answer 500 (Twilio unavailable)
        self.created_json: list[tuple[str, dict[str, Any]]] = []  # (kind, JSON) created
        # TaskRouter: workspace → the workflows it holds (one workspace holds any)
        self.workspaces: dict[str, set[str]] = {WORKSPACE: set()}

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
        match ``To``, ``From`` and (messages) ``DateSent>``, newest first; ``GET
        /v1/Conversations/CH…/Messages``: that Conversation's messages, newest first."""
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[:2] == ["v1", "Conversations"] and parts[3] == "Messages":
            with self.lock:
                self.lookups.append((path, query))
                posted = [
                    data
                    for k, data in reversed(self.created_json)
                    if k == "ConversationMessages" and data.get("conversation_sid") == parts[2]
                ]
            if self.fail_lookups:
                return 500, "application/json", json.dumps({"code": 20500, "status": 500})
            meta = {"page": 0, "page_size": 50, "first_page_url": None, "next_page_url": None}
            body = {"messages": posted[:50], "meta": {**meta, "key": "messages", "url": path}}
            return 200, "application/json", json.dumps(body)
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
        if parts[0] == "v1":
            return self.answer_v1(parts[1:], form)
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

    def answer_v1(self, parts: list[str], form: dict[str, str]) -> tuple[int, str, str]:
        """Conversations (``/v1/[Services/IS…/]Conversations[/CH…[/Messages|/Participants|
        /Webhooks]]``) and Flex (``/v1/Interactions``). Dates in ISO 8601, as those APIs
        give them."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if parts == ["Workspaces"]:  # TaskRouter
            listed = [
                {"sid": ws, "friendly_name": "Flex Task Assignment"} for ws in self.workspaces
            ]
            meta = {"key": "workspaces", "page": 0, "page_size": 50, "next_page_url": None}
            return 200, "application/json", json.dumps({"workspaces": listed, "meta": meta})
        if len(parts) == 4 and parts[0] == "Workspaces" and parts[2] == "Workflows":
            if parts[3] in self.workspaces.get(parts[1], set()):
                body = {"sid": parts[3], "workspace_sid": parts[1]}
                return 200, "application/json", json.dumps(body)
            return 404, "application/json", json.dumps({"code": 20404, "status": 404})
        if parts == ["Interactions"]:
            routing = json.loads(form.get("Routing") or "{}")
            if (routing.get("properties") or {}).get("workflow_sid") == BAD_WORKFLOW:
                body = {"code": 20001, "message": "Invalid Workflow SID", "status": 400}
                return 400, "application/json", json.dumps(body)
            sid = "KD" + secrets.token_hex(16)
            with self.lock:
                self.resources.append(("Interactions", sid, form))
            interaction = {
                "sid": sid,
                "channel": json.loads(form.get("Channel") or "{}"),
                "routing": routing,
                "url": f"{self.url}/v1/Interactions/{sid}",
                "links": {},
                "interaction_context_sid": None,
            }
            return 201, "application/json", json.dumps(interaction)
        service = None
        if parts[:1] == ["Services"] and len(parts) >= 3:
            service, parts = parts[1], parts[2:]
        if parts[:1] != ["Conversations"]:
            return 404, "application/json", json.dumps({"code": 20404, "status": 404})
        if len(parts) == 1:  # create a conversation
            sid = "CH" + secrets.token_hex(16)
            resource: dict[str, Any] = {
                "sid": sid,
                "account_sid": "AC" + "7" * 32,
                "chat_service_sid": service or "IS" + "5" * 32,
                "friendly_name": form.get("FriendlyName"),
                "attributes": form.get("Attributes") or "{}",
                "state": "active",
                "date_created": now,
                "url": f"{self.url}/v1/Conversations/{sid}",
            }
            with self.lock:
                self.conversations[sid] = resource
                self.resources.append(("Conversations", sid, form))
            return 201, "application/json", json.dumps(resource)
        sid = parts[1]
        with self.lock:
            known = self.conversations.get(sid)
        if len(parts) == 2:  # fetch: only the conversations created here
            if known is None:
                body = {"code": 20404, "message": f"Conversation {sid} not found", "status": 404}
                return 404, "application/json", json.dumps(body)
            return 200, "application/json", json.dumps(known)
        kind, made = parts[2], ""
        if kind == "Messages":
            made = "IM" + secrets.token_hex(16)
            with self.lock:
                index = sum(1 for k, _, _ in self.resources if k == "ConversationMessages")
            resource = {
                "sid": made,
                "conversation_sid": sid,
                "author": form.get("Author"),
                "body": form.get("Body"),
                "attributes": form.get("Attributes") or "{}",
                "index": index,
                "date_created": now,
            }
        elif kind == "Participants":
            made = "MB" + secrets.token_hex(16)
            binding = None
            if form.get("MessagingBinding.Address"):
                binding = {
                    "address": form.get("MessagingBinding.Address"),
                    "proxy_address": form.get("MessagingBinding.ProxyAddress"),
                }
            resource = {
                "sid": made,
                "conversation_sid": sid,
                "identity": form.get("Identity"),
                "messaging_binding": binding,
                "date_created": now,
            }
        elif kind == "Webhooks":
            made = "WH" + secrets.token_hex(16)
            resource = {
                "sid": made,
                "conversation_sid": sid,
                "target": form.get("Target"),
                "configuration": {
                    "url": form.get("Configuration.Url"),
                    "method": form.get("Configuration.Method"),
                    "filters": [form.get("Configuration.Filters")],
                },
                "date_created": now,
            }
        else:
            return 404, "application/json", json.dumps({"code": 20404, "status": 404})
        with self.lock:
            self.resources.append(("Conversation" + kind, made, {**form, "Conversation": sid}))
            self.created_json.append(("Conversation" + kind, resource))
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
