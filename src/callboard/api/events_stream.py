"""Callboard's own event routes (HTTP Basic auth, under ``/callboard/v1``):

* ``GET /callboard/v1/Flows/{FlowSid}/Events/Stream`` — Server-Sent Events: every event
  of the flow (execution.started, step.ended, execution.ended) as it is committed, for
  the editor and the simulator. Each message has ``id:`` (a position in the event log),
  ``event:`` (the CloudEvent type) and ``data:`` (the CloudEvent JSON). Reconnecting with
  ``Last-Event-ID`` (or ``?after=<id>``) resumes after that event; without either the
  stream starts with the events committed from now on (``?after=0`` replays what is
  kept, see ``CALLBOARD_EVENTS_RETENTION_SECONDS``). It reads the database, so events
  recorded by any process (``serve`` or ``worker``) arrive: on PostgreSQL as soon as
  they commit (LISTEN/NOTIFY, :mod:`callboard.api.live`), else within 0.3 s. A comment
  line every 15 s keeps proxies from closing it. The credentials are checked again every
  :data:`REAUTH_SECONDS`: the stream ends as soon as they stop working (an API key
  deleted, an Auth Token rotated, the account suspended).
* ``GET /callboard/v1/Sinks/{Sid}/Failures`` — deliveries given up on (newest first,
  Twilio paging, key ``failures``), plus ``GET /callboard/v1/Sinks/{Sid}/Deliveries``
  → ``{"pending": n}``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from callboard.api.auth import parse_basic
from callboard.api.common import call, iso, json_response, service_of
from callboard.api.errors import bad_request
from callboard.api.events_common import account, events_service, sid_param
from callboard.api.live import Watch
from callboard.api.paging import page_response, parse_page_params
from callboard.events.service import EventStreams, Failure

__all__ = ["routes"]

KEEPALIVE_SECONDS = 15.0
# PostgreSQL may commit a lower id after a higher one: ids seen less than this long ago
# are looked at again (and never sent twice).
SETTLE_SECONDS = 5.0
BATCH = 500
REAUTH_SECONDS = 1.0


def _resume_point(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("after")
    if raw is None or raw == "":
        return None
    if not raw.strip().isdigit() or len(raw) > 18:
        raise bad_request(f"Invalid Last-Event-ID {raw!r}: expected an event id from this stream")
    return int(raw)


async def _events(
    request: Request, streams: EventStreams, account_sid: str, flow_sid: str, start: int
) -> AsyncIterator[bytes]:
    watch = request.app.state.services.live.watch(flow_sid)  # woken by any server's runs
    try:
        async for chunk in _follow(request, streams, account_sid, flow_sid, start, watch):
            yield chunk
    finally:
        watch.close()


async def _follow(
    request: Request,
    streams: EventStreams,
    account_sid: str,
    flow_sid: str,
    start: int,
    watch: Watch,
) -> AsyncIterator[bytes]:
    low = start  # every id <= low has been sent or will never come
    recent: OrderedDict[int, float] = OrderedDict()  # id sent → when (monotonic)
    yield b"retry: 2000\n\n"
    last_write = last_auth = time.monotonic()
    while True:
        if await request.is_disconnected():
            return
        if time.monotonic() - last_auth >= REAUTH_SECONDS:
            if not await _still_authorised(request, account_sid):
                return
            last_auth = time.monotonic()
        rows = await run_in_threadpool(streams.flow_events, account_sid, flow_sid, low, BATCH)
        now = time.monotonic()
        out: list[bytes] = []
        for ev in rows:
            if ev.id in recent:
                continue
            recent[ev.id] = now
            out.append(f"id: {ev.id}\nevent: {ev.type}\ndata: {ev.payload}\n\n".encode())
        if len(rows) >= BATCH:  # busy: move on even if older gaps remain
            low = max(low, rows[-1].id)
        while recent:
            first_id, seen = next(iter(recent.items()))
            if now - seen < SETTLE_SECONDS and len(recent) < 10 * BATCH:
                break
            recent.popitem(last=False)
            low = max(low, first_id)
        if out:
            yield b"".join(out)
            last_write = now
        elif now - last_write > KEEPALIVE_SECONDS:
            yield b": keepalive\n\n"
            last_write = now
        # until a run of this flow commits (PostgreSQL: on any server, callboard.api.live),
        # or the poll interval passes; never past the next credentials check
        await watch.wait(longest=REAUTH_SECONDS)


async def _still_authorised(request: Request, account_sid: str) -> bool:
    """Whether the request's Basic credentials still authenticate ``account_sid`` (cheap:
    the service remembers verified secrets, but reads the credential's row each time)."""
    header = request.headers.get("authorization")
    creds = parse_basic(header) if header else None
    if creds is None:
        return True  # authenticated another way (a session): checked by its own module
    try:
        found = await run_in_threadpool(service_of(request).authenticate, *creds)
    except Exception:
        return True  # the database is briefly unavailable: not a revocation
    return found is not None and getattr(found, "sid", None) == account_sid


async def stream(request: Request) -> Response:
    acct = await account(request)
    flow_sid = sid_param(request, "flow_sid", "FW")
    streams = events_service(request)
    newest = await call(request, streams.check_flow, acct.sid, flow_sid)
    after = _resume_point(request)
    start = newest if after is None else after
    return StreamingResponse(
        _events(request, streams, acct.sid, flow_sid, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def render_failure(f: Failure) -> dict[str, object]:
    return {
        "sink_sid": f.sink_sid,
        "subscription_sid": f.subscription_sid,
        "event_id": f.event_sid,
        "type": f.type,
        "attempts": f.attempts,
        "last_error": f.last_error,
        "last_status_code": f.last_status_code,
        "date_created": iso(f.date_created),
        "date_failed": iso(f.date_failed),
    }


async def failures(request: Request) -> Response:
    acct = await account(request)
    sid = sid_param(request, "sid", "DG")
    params = parse_page_params(request)
    page = await call(
        request,
        events_service(request).list_failures,
        acct.sid,
        sid,
        page_size=params.page_size,
        page_token=params.token,
    )
    items = [render_failure(f) for f in page.items]
    return page_response(request, "failures", page, items, params=params)


async def deliveries(request: Request) -> Response:
    acct = await account(request)
    sid = sid_param(request, "sid", "DG")
    pending = await call(request, events_service(request).pending_count, acct.sid, sid)
    return json_response({"sink_sid": sid, "pending": pending})


def routes() -> list[Route]:
    return [
        Route("/callboard/v1/Flows/{flow_sid}/Events/Stream", stream, methods=["GET"]),
        Route("/callboard/v1/Sinks/{sid}/Failures", failures, methods=["GET"]),
        Route("/callboard/v1/Sinks/{sid}/Deliveries", deliveries, methods=["GET"]),
    ]
