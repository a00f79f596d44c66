"""The Flow webhook: ``POST``/``GET /v1/Accounts/{AccountSid}/Flows/{FlowSid}``.

This is ``Flow.webhook_url``: point a Twilio number's "A message comes in", "A call comes
in" and "Call status changes" at it, and a Conversations service's (or one
conversation's) ``onMessageAdded`` webhook. Callboard's own voice call-backs (Gather/Dial/Record
actions, redirects, status call-backs) come back to the same URL with ``FlowEvent`` in the
query; :mod:`callboard.channels.webhooks` says what each request does.

Every request must carry a valid ``X-Twilio-Signature`` (:mod:`callboard.api.signatures`):
otherwise 403, and nothing is processed. No HTTP Basic auth here. The answer is TwiML
(``text/xml``): ``<Response/>`` for messages and status call-backs, the flow's TwiML for
calls.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callboard.api.common import call, call_commit_bound, services_of
from callboard.api.errors import not_found
from callboard.api.signatures import (
    SIGNATURE_HEADER,
    forbidden,
    public_request_url,
    valid_signature,
)
from callboard.channels.webhooks import Answer, Channels
from callboard.store.sids import sid_regex

__all__ = ["channels_of", "openapi_paths", "routes"]

log = logging.getLogger("callboard.webhooks")

_AC = sid_regex("AC")
_FW = sid_regex("FW")


def channels_of(request: Request) -> Channels:
    return services_of(request).channels


async def _pairs(request: Request) -> list[tuple[str, str]]:
    """The form's pairs. The body was capped in size and field count before this
    (:mod:`callboard.api.limits`)."""
    if request.method != "POST":
        return []
    body = await request.body()
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("", "application/x-www-form-urlencoded"):
        return []
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)


def _verified(
    url: str, pairs: list[tuple[str, str]], signature: str | None, key: str | None
) -> bool:
    return key is not None and valid_signature(url, pairs, signature, key)


async def flow_webhook(request: Request) -> Response:
    account_sid = request.path_params["AccountSid"]
    flow_sid = request.path_params["FlowSid"]
    if not _AC.match(account_sid) or not _FW.match(flow_sid):
        raise not_found(request.url.path)
    channels = channels_of(request)
    pairs = await _pairs(request)
    params: dict[str, str] = dict(request.query_params)
    params.update(dict(pairs))  # the body wins over the query (last value of a name)
    url = public_request_url(request)
    signature = request.headers.get(SIGNATURE_HEADER)

    def signed_webhook() -> Answer:
        """The signature check, then the webhook: one thread-pool hop for both (none
        for a message on SQLite)."""
        if not channels.config.skip_signature_check:
            key = channels.signing_key(account_sid)
            if not _verified(url, pairs, signature, key):
                log.warning("webhook %s refused: bad or missing %s", url, SIGNATURE_HEADER)
                raise forbidden()
        return channels.flow_webhook(account_sid, flow_sid, params)

    if channels.commit_bound(params):  # an inbound message: on the loop on SQLite
        answer = await call_commit_bound(request, signed_webhook)
    else:  # a voice call-back may wait for the worker's TwiML
        answer = await call(request, signed_webhook)
    return Response(answer.body, status_code=answer.status, media_type="text/xml")


def routes() -> list[Route]:
    return [
        Route(
            "/v1/Accounts/{AccountSid}/Flows/{FlowSid}",
            flow_webhook,
            methods=["GET", "POST"],
        )
    ]


def openapi_paths() -> dict[str, Any]:
    params = [
        {"name": "AccountSid", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "FlowSid", "in": "path", "required": True, "schema": {"type": "string"}},
        {
            "name": "FlowEvent",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "enum": ["callback", "return"]},
            "description": "Absent for Twilio's inbound message/call webhooks; `callback` for "
            "Callboard's own voice call-backs; `return` when a TwiML Redirect comes back.",
        },
        {
            "name": "X-Twilio-Signature",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
        },
    ]
    op = {
        "tags": ["Webhooks"],
        "summary": "The Flow webhook (Flow.webhook_url)",
        "description": "Twilio's inbound message (MessageSid, From, To, Body, NumMedia, "
        "MediaUrl{N}...) and call (CallSid, From, To, CallStatus...) webhooks, Twilio "
        "Conversations' post-event webhooks (EventType=onMessageAdded, ConversationSid, "
        "MessageSid, Author, Body...; other event types are ignored; ExecutionSid in the "
        "query for a conversation-scoped webhook of Start/Resume Conversation), call status "
        "call-backs and Callboard's voice call-backs. Signed with X-Twilio-Signature "
        "(403 otherwise). Answers TwiML. See docs/channels.md.",
        "security": [],
        "parameters": params,
        "responses": {
            "200": {
                "description": "TwiML",
                "content": {"text/xml": {"schema": {"type": "string"}}},
            },
            "403": {"description": "Bad or missing X-Twilio-Signature; nothing was processed"},
            "404": {"description": "No such flow in the account"},
        },
    }
    post = {
        **op,
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {"type": "object", "additionalProperties": {"type": "string"}}
                }
            }
        },
    }
    return {
        "/v1/Accounts/{AccountSid}/Flows/{FlowSid}": {
            "get": {**op, "operationId": "FlowWebhookGet"},
            "post": {**post, "operationId": "FlowWebhookPost"},
        }
    }
