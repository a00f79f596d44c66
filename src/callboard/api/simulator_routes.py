"""The simulator channel's API, under ``/callboard/v1/Simulator`` (HTTP Basic auth).

* ``POST /callboard/v1/Simulator/Messages`` (form ``FlowSid``, ``From``, ``To``, ``Body``)
  — an inbound SMS from ``From`` (run as a test user: the flow's latest revision) →
  201 with the message and its ``execution_sid``;
* ``GET /callboard/v1/Simulator/Messages?FlowSid=&Contact=`` → ``{"messages": [...]}``,
  oldest first, both directions;
* ``POST /callboard/v1/Simulator/Calls`` (``FlowSid``, ``From``, ``To``) — a call to the
  flow → 201 ``{call_sid, execution_sid, status, twiml, actions, waiting_for}``;
* ``GET /callboard/v1/Simulator/Calls?FlowSid=&Contact=`` → ``{"calls": [...]}`` (also the
  calls flows placed, ringing until answered);
* ``POST /callboard/v1/Simulator/Calls/{CallSid}/Input`` (``Digits``, ``SpeechResult``,
  ``Recording``, ``Hangup=true``, ``Answer=true``, ``CallStatus``) → what the caller heard
  next, the same shape;
* ``POST /callboard/v1/Simulator/Conversations/Messages`` (``FlowSid``,
  ``ConversationSid`` — none: a new Conversation — ``Author``, ``Body``) — an
  ``onMessageAdded`` in a Conversation → 201 with the message, its ``conversation_sid``
  and ``execution_sid``; the flow's answers are listed by ``GET …/Messages?Contact=CH…``;
* ``GET /callboard/v1/Simulator/Conversations?FlowSid=`` → ``{"conversations": [...]}``
  (started by Start Conversation) and ``GET /callboard/v1/Simulator/FlexTasks?FlowSid=``
  → ``{"flex_tasks": [...]}`` (the Interactions Send to Flex created).

Details in ``docs/simulator.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callboard.api.common import account_of, call, json_response, service_error, services_of
from callboard.api.errors import bad_request, not_found
from callboard.api.forms import read_form
from callboard.channels.simulator import Simulator
from callboard.runtime.records import ServiceError
from callboard.store.sids import sid_regex

T = TypeVar("T")

__all__ = ["openapi_paths", "routes"]

_FW = sid_regex("FW")
_CA = sid_regex("CA")
_TRUE = ("true", "1", "yes")


def _simulator(request: Request) -> Simulator:
    return services_of(request).simulator


SIMULATED_CALLS_AT_ONCE = 4
_limiter: anyio.CapacityLimiter | None = None


async def _call(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Simulated calls fetch TwiML from URLs a flow chose: they run on threads of their
    own (at most :data:`SIMULATED_CALLS_AT_ONCE`), so slow URLs never hold the threads
    other requests (authentication, the REST API) need."""
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(SIMULATED_CALLS_AT_ONCE)
    try:
        return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs), limiter=_limiter)
    except ServiceError as exc:
        raise service_error(request, exc) from None


def _flow_sid(value: str | None) -> str:
    if not value:
        raise bad_request("Missing required parameter FlowSid")
    if not _FW.match(value):
        raise bad_request(f"FlowSid {value!r} is not a Flow SID (FW followed by 32 hex digits)")
    return value


async def send_message(request: Request) -> Response:
    account = account_of(request)
    form = await read_form(request)
    sim = _simulator(request)
    body = await call(
        request,
        sim.send_message,
        account.sid,
        _flow_sid(form.get("FlowSid")),
        form.get("From") or "",
        form.get("To") or "",
        form.get("Body") or "",
    )
    return json_response(body, 201)


async def list_messages(request: Request) -> Response:
    account = account_of(request)
    flow_sid = _flow_sid(request.query_params.get("FlowSid"))
    contact = request.query_params.get("Contact", "")
    sim = _simulator(request)
    messages = await call(request, sim.list_messages, account.sid, flow_sid, contact)
    return json_response({"messages": messages})


async def start_call(request: Request) -> Response:
    account = account_of(request)
    form = await read_form(request)
    sim = _simulator(request)
    body = await _call(
        request,
        sim.start_call,
        account.sid,
        _flow_sid(form.get("FlowSid")),
        form.get("From") or "",
        form.get("To") or "",
    )
    return json_response(body, 201)


async def list_calls(request: Request) -> Response:
    account = account_of(request)
    flow_sid = _flow_sid(request.query_params.get("FlowSid"))
    contact = request.query_params.get("Contact", "")
    sim = _simulator(request)
    calls = await call(request, sim.list_calls, account.sid, flow_sid, contact)
    return json_response({"calls": calls})


async def call_input(request: Request) -> Response:
    account = account_of(request)
    call_sid = request.path_params["CallSid"]
    if not _CA.match(call_sid):
        raise not_found(request.url.path)
    form = await read_form(request)
    sim = _simulator(request)
    body = await _call(
        request,
        sim.call_input,
        account.sid,
        call_sid,
        digits=form.get("Digits") or None,
        speech=form.get("SpeechResult") or None,
        recording=form.get("Recording") or None,
        hangup=(form.get("Hangup") or "").lower() in _TRUE,
        answer=(form.get("Answer") or "").lower() in _TRUE,
        call_status=form.get("CallStatus") or None,
        answered_by=form.get("AnsweredBy") or None,
    )
    return json_response(body)


async def conversation_message(request: Request) -> Response:
    account = account_of(request)
    form = await read_form(request)
    sim = _simulator(request).conversations
    body = await call(
        request,
        sim.send_message,
        account.sid,
        _flow_sid(form.get("FlowSid")),
        form.get("ConversationSid") or "",
        form.get("Author") or "",
        form.get("Body") or "",
    )
    return json_response(body, 201)


async def conversations(request: Request) -> Response:
    account = account_of(request)
    flow_sid = _flow_sid(request.query_params.get("FlowSid"))
    sim = _simulator(request).conversations
    found = await call(request, sim.list_objects, account.sid, "conversation", flow_sid)
    return json_response({"conversations": found})


async def flex_tasks(request: Request) -> Response:
    account = account_of(request)
    flow_sid = _flow_sid(request.query_params.get("FlowSid"))
    sim = _simulator(request).conversations
    found = await call(request, sim.list_objects, account.sid, "flex_task", flow_sid)
    return json_response({"flex_tasks": found})


async def messages(request: Request) -> Response:
    if request.method == "POST":
        return await send_message(request)
    return await list_messages(request)


async def calls(request: Request) -> Response:
    if request.method == "POST":
        return await start_call(request)
    return await list_calls(request)


def routes() -> list[Route]:
    base = "/callboard/v1/Simulator"
    return [
        Route(f"{base}/Messages", messages, methods=["GET", "POST"]),
        Route(f"{base}/Calls", calls, methods=["GET", "POST"]),
        Route(f"{base}/Calls/{{CallSid}}/Input", call_input, methods=["POST"]),
        Route(f"{base}/Conversations", conversations, methods=["GET"]),
        Route(f"{base}/Conversations/Messages", conversation_message, methods=["POST"]),
        Route(f"{base}/FlexTasks", flex_tasks, methods=["GET"]),
    ]


def _form(fields: dict[str, str], required: list[str]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": required,
                    "properties": {
                        k: {"type": "string", "description": v} for k, v in fields.items()
                    },
                }
            }
        },
    }


_MESSAGE = {
    "type": "object",
    "properties": {
        k: {"type": "string", "nullable": True}
        for k in (
            "sid",
            "execution_sid",
            "flow_sid",
            "direction",
            "from",
            "to",
            "body",
            "status",
            "date_created",
        )
    },
}
_CALL = {
    "type": "object",
    "properties": {
        "call_sid": {"type": "string"},
        "execution_sid": {"type": "string", "nullable": True},
        "status": {"type": "string"},
        "twiml": {"type": "string", "description": "What the caller heard, as TwiML"},
        "actions": {"type": "array", "items": {"type": "object"}},
        "waiting_for": {"type": "string", "nullable": True, "enum": ["gather", "record", None]},
    },
}


_OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}


def _list(name: str) -> dict[str, Any]:
    return {"type": "object", "properties": {name: {"type": "array", "items": _OBJECT}}}


def _ok(schema: dict[str, Any], status: str = "200") -> dict[str, Any]:
    return {
        status: {"description": "OK", "content": {"application/json": {"schema": schema}}},
        "400": {"description": "A missing or invalid parameter"},
        "404": {"description": "No such flow or call in the account"},
    }


def openapi_paths() -> dict[str, Any]:
    flow_q = [
        {"name": "FlowSid", "in": "query", "required": True, "schema": {"type": "string"}},
        {"name": "Contact", "in": "query", "required": False, "schema": {"type": "string"}},
    ]
    tags = ["Simulator"]
    return {
        "/callboard/v1/Simulator/Messages": {
            "post": {
                "tags": tags,
                "operationId": "SimulatorSendMessage",
                "summary": "Send an inbound SMS to a flow as a test user",
                "requestBody": _form(
                    {
                        "FlowSid": "The flow",
                        "From": "The contact",
                        "To": "The flow's number",
                        "Body": "Text",
                    },
                    ["FlowSid", "From", "To"],
                ),
                "responses": _ok(_MESSAGE, "201"),
            },
            "get": {
                "tags": tags,
                "operationId": "SimulatorListMessages",
                "summary": "The messages of a contact with a flow, oldest first",
                "parameters": flow_q,
                "responses": _ok(
                    {
                        "type": "object",
                        "properties": {"messages": {"type": "array", "items": _MESSAGE}},
                    }
                ),
            },
        },
        "/callboard/v1/Simulator/Calls": {
            "post": {
                "tags": tags,
                "operationId": "SimulatorStartCall",
                "summary": "Call a flow; answers what the caller hears up to the first input",
                "requestBody": _form(
                    {"FlowSid": "The flow", "From": "The caller", "To": "The flow's number"},
                    ["FlowSid"],
                ),
                "responses": _ok(_CALL, "201"),
            },
            "get": {
                "tags": tags,
                "operationId": "SimulatorListCalls",
                "summary": "Calls of a flow (inbound, and placed by the flow)",
                "parameters": flow_q,
                "responses": _ok(
                    {"type": "object", "properties": {"calls": {"type": "array", "items": _CALL}}}
                ),
            },
        },
        "/callboard/v1/Simulator/Conversations/Messages": {
            "post": {
                "tags": tags,
                "operationId": "SimulatorConversationMessage",
                "summary": "A message in a Conversation (onMessageAdded), as a test user",
                "requestBody": _form(
                    {
                        "FlowSid": "The flow",
                        "ConversationSid": "The Conversation (none: a new one)",
                        "Author": "Who writes (default user)",
                        "Body": "Text",
                    },
                    ["FlowSid"],
                ),
                "responses": _ok(_OBJECT, "201"),
            }
        },
        "/callboard/v1/Simulator/Conversations": {
            "get": {
                "tags": tags,
                "operationId": "SimulatorListConversations",
                "summary": "The Conversations the flow started (Start Conversation)",
                "parameters": flow_q[:1],
                "responses": _ok(_list("conversations")),
            }
        },
        "/callboard/v1/Simulator/FlexTasks": {
            "get": {
                "tags": tags,
                "operationId": "SimulatorListFlexTasks",
                "summary": "The Flex tasks (Interactions) Send to Flex created",
                "parameters": flow_q[:1],
                "responses": _ok(_list("flex_tasks")),
            }
        },
        "/callboard/v1/Simulator/Calls/{CallSid}/Input": {
            "post": {
                "tags": tags,
                "operationId": "SimulatorCallInput",
                "summary": "The caller's input: digits, speech, a recording, hang-up, answer",
                "parameters": [
                    {
                        "name": "CallSid",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": _form(
                    {
                        "Digits": "Keys pressed at a Gather",
                        "SpeechResult": "Words said at a Gather",
                        "Recording": "Stands for the audio at a Record",
                        "Hangup": "true: the caller hangs up",
                        "Answer": "true: answer a call the flow placed",
                        "CallStatus": "busy, no-answer or failed: the fate of a placed call",
                        "AnsweredBy": "with Answer=true, when the flow asked for answering "
                        "machine detection: human (default), machine_start, fax, unknown...",
                    },
                    [],
                ),
                "responses": _ok(_CALL),
            }
        },
    }
