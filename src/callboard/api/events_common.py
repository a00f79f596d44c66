"""What the Event Streams v1 routes share: the :class:`EventStreams` service of the app,
the authenticated account (these routes check HTTP Basic themselves), SID path
parameters and Twilio-paged responses."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from callboard.api.auth import parse_basic, refusal_message
from callboard.api.common import service_of, services_of
from callboard.api.errors import ApiError, not_found
from callboard.api.paging import page_response
from callboard.events.service import EventStreams
from callboard.runtime.records import Account
from callboard.store.sids import sid_regex

__all__ = ["SID", "account", "events_service", "page_response", "sid_param"]

SID = {p: sid_regex(p) for p in ("DG", "DF", "FW")}
"""Patterns of the SIDs in Events paths and parameters, by prefix."""


def events_service(request: Request) -> EventStreams:
    return services_of(request).events


async def account(request: Request) -> Account:
    """The authenticated account (the auth middleware's, or HTTP Basic checked here:
    ``/v1/`` is shared with unauthenticated Twilio webhooks, so these routes check
    credentials themselves)."""
    found = request.scope.get("callboard.account")
    if isinstance(found, Account):
        return found
    header = request.headers.get("authorization")
    message = "Authentication Error - No credentials provided"
    if header is not None:
        creds = parse_basic(header)
        message = "Authentication Error - invalid credentials"
        if creds is not None:
            acct = await run_in_threadpool(service_of(request).authenticate, *creds)
            if isinstance(acct, Account):
                request.scope["callboard.account"] = acct
                request.scope["callboard.credential"] = creds[0]
                return acct
            message = await run_in_threadpool(refusal_message, service_of(request), creds[0])
    headers = {}
    if "x-requested-with" not in request.headers:
        headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
    raise ApiError(
        401,
        message,
        20003,
        headers=headers,
        extra={"detail": "Your AccountSid or AuthToken was incorrect."},
    )


def sid_param(request: Request, name: str, prefix: str) -> str:
    value = request.path_params.get(name, "")
    if not isinstance(value, str) or not SID[prefix].match(value):
        raise not_found(request.url.path)
    return value
