"""Revisions with their authors (issue 14), under ``/callboard/v1/Flows/{FW}``:

* ``GET …/Revisions`` (Twilio paging) → ``{"meta": ..., "revisions": [{"revision",
  "status", "commit_message", "author", "author_sid", "date_created"}]}``, highest
  first; ``author`` is the user's email, else the API key or Account SID that made it.
* ``POST …/Revisions/{n}/Restore`` → a new draft revision with revision ``n``'s
  definition, by the caller (audited as ``revision.restore``); the flow as Studio's
  ``POST /v2/Flows/{FW}`` answers it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callboard.api.common import call, iso, json_response, path_sid, resource, service_of
from callboard.api.errors import not_found
from callboard.api.forms import read_form
from callboard.api.paging import page_response, parse_page_params
from callboard.api.principal import author_of, principal_of
from callboard.api.studio_flows import render_flow
from callboard.runtime.authorship import list_revision_authors

__all__ = ["routes"]


async def list_revisions(request: Request) -> Response:
    account = principal_of(request).account
    sid = path_sid(request, "sid", "FW")
    params = parse_page_params(request)
    page = await call(
        request,
        list_revision_authors,
        service_of(request).db,
        account.sid,
        sid,
        page_size=params.page_size,
        page_token=params.token,
    )
    items = [
        {
            "revision": r.revision,
            "status": r.status,
            "commit_message": r.commit_message,
            "author": r.author,
            "author_sid": r.author_sid,
            "date_created": iso(r.date_created),
        }
        for r in page.items
    ]
    return page_response(request, "revisions", page, items, params=params)


async def restore(request: Request) -> Response:
    account = principal_of(request).account
    sid = path_sid(request, "sid", "FW")
    number = request.path_params.get("revision", "")
    if not (isinstance(number, str) and number.isascii() and number.isdigit() and len(number) < 10):
        raise not_found(request.url.path)
    form = await read_form(request)
    service = service_of(request)
    old = await call(request, service.fetch_revision, account.sid, sid, number)
    flow = await call(
        request,
        service.update_flow,
        account.sid,
        sid,
        status="draft",
        definition=old.definition,
        commit_message=form.get("CommitMessage") or f"Restored revision {old.revision}",
        author_sid=author_of(request),
    )
    return json_response(render_flow(request, flow))


def routes() -> list[Route]:
    base = "/callboard/v1/Flows/{sid}/Revisions"
    return [
        resource(base, get=list_revisions),
        resource(base + "/{revision}/Restore", post=restore),
    ]
