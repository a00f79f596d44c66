"""Studio v2: Executions, Execution Context, Steps and Step Context (operations 11–19)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callboard.api.common import (
    account_of,
    call,
    call_commit_bound,
    iso,
    json_response,
    path_sid,
    resource,
    service_of,
)
from callboard.api.errors import ApiError, bad_request
from callboard.api.forms import Form, read_form
from callboard.api.limits import limits_of
from callboard.api.paging import page_response, parse_page_params
from callboard.api.urls import base_url
from callboard.runtime.records import Execution, Step

__all__ = ["parse_date_filter", "render_execution", "render_step", "routes"]

EXECUTION_STATUSES = ("active", "ended")


# ------------------------------------------------------------------------- rendering


def _execution_url(request: Request, flow_sid: str, execution_sid: str) -> str:
    return f"{base_url(request)}/v2/Flows/{flow_sid}/Executions/{execution_sid}"


def render_execution(request: Request, ex: Execution) -> dict[str, Any]:
    url = _execution_url(request, ex.flow_sid, ex.sid)
    return {
        "sid": ex.sid,
        "account_sid": ex.account_sid,
        "flow_sid": ex.flow_sid,
        "contact_channel_address": ex.contact_channel_address,
        "contact_sid": ex.contact_sid or None,
        "flow_version": ex.flow_version,
        "context": ex.context,
        "status": ex.status,
        "date_created": iso(ex.date_created),
        "date_updated": iso(ex.date_updated),
        "initiated_by": ex.initiated_by or None,
        "url": url,
        "links": {"steps": f"{url}/Steps", "execution_context": f"{url}/Context"},
    }


def render_step(request: Request, step: Step) -> dict[str, Any]:
    url = f"{_execution_url(request, step.flow_sid, step.execution_sid)}/Steps/{step.sid}"
    return {
        "sid": step.sid,
        "account_sid": step.account_sid,
        "flow_sid": step.flow_sid,
        "execution_sid": step.execution_sid,
        "parent_step_sid": step.parent_step_sid or None,
        "name": step.name,
        "context": step.context,
        "transitioned_from": step.transitioned_from,
        "transitioned_to": step.transitioned_to,
        "type": step.type,
        "date_created": iso(step.date_created),
        "date_updated": iso(step.date_updated),
        "url": url,
        "links": {"step_context": f"{url}/Context"},
    }


# ------------------------------------------------------------------------- parameters


def parse_date_filter(name: str, raw: str) -> datetime:
    """``YYYY-MM-DDTHH:MM:SSZ``, ``YYYY-MM-DDThh:mm:ss±hh:mm`` (any ISO 8601 date-time)
    or a bare ``YYYY-MM-DD`` (midnight UTC). A date-time without offset is UTC."""
    text = raw.strip()
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        # A "+" in a query offset often arrives decoded as a space.
        if len(text) > 19 and text[19:20] == " ":
            text = text[:19] + "+" + text[20:]
        value = datetime.fromisoformat(text)
    except ValueError:
        raise bad_request(
            f"Invalid parameter {name}: {raw[:60]!r} is not a date-time "
            "(expected YYYY-MM-DDTHH:MM:SSZ, an ISO 8601 offset, or YYYY-MM-DD)"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise bad_request(f"Invalid parameter {name}: {raw[:60]!r} is out of range") from None


PARAMETERS_ERROR = "Error while creating execution via REST API"


def _parameters(form: Form) -> dict[str, Any] | None:
    """``Parameters``: a JSON object, or absent. Anything else is Twilio's 400 / 84004
    ("parameters that could not be processed"), not a generic 20001."""
    try:
        present, parameters = form.json("Parameters", required=False)
    except ApiError as exc:
        raise ApiError(400, f"{PARAMETERS_ERROR}: {exc.message}", 84004) from None
    if present and parameters is not None and not isinstance(parameters, dict):
        kinds = {list: "an array", str: "a string", bool: "a boolean"}
        kind = kinds.get(type(parameters), "a number")
        raise ApiError(
            400,
            f"{PARAMETERS_ERROR}: Parameters must be a JSON object, not {kind}",
            84004,
        )
    result: dict[str, Any] | None = parameters
    return result


def _ids(request: Request, execution_param: str) -> tuple[str, str, str]:
    account = account_of(request)
    flow_sid = path_sid(request, "flow_sid", "FW")
    execution_sid = path_sid(request, execution_param, "FN")
    return account.sid, flow_sid, execution_sid


# ------------------------------------------------------------------------- handlers


async def list_executions(request: Request) -> Response:
    account = account_of(request)
    flow_sid = path_sid(request, "flow_sid", "FW")
    params = parse_page_params(request)
    query = request.query_params
    filters: list[tuple[str, str]] = []
    status = query.get("status")
    if status is not None:
        if status not in EXECUTION_STATUSES:
            raise bad_request(f"Invalid parameter status: {status[:40]!r} is not active or ended")
        filters.append(("status", status))
    bounds: dict[str, datetime | None] = {"DateCreatedFrom": None, "DateCreatedTo": None}
    for name in bounds:
        raw = query.get(name)
        if raw is not None:
            bounds[name] = parse_date_filter(name, raw)
            filters.append((name, raw))
    page = await call(
        request,
        service_of(request).list_executions,
        account.sid,
        flow_sid,
        status=status,
        date_created_from=bounds["DateCreatedFrom"],
        date_created_to=bounds["DateCreatedTo"],
        page_size=params.page_size,
        page_token=params.token,
    )
    items = [render_execution(request, e) for e in page.items]
    return page_response(request, "executions", page, items, filters=filters, params=params)


async def create_execution(request: Request) -> Response:
    account = account_of(request)
    flow_sid = path_sid(request, "flow_sid", "FW")
    form = await read_form(request)
    to = form.required("To")
    from_ = form.required("From")
    limit = limits_of(request).max_parameters_bytes
    if len((form.get("Parameters") or "").encode("utf-8", "surrogatepass")) > limit:
        raise bad_request(
            f"Invalid parameter Parameters: larger than {limit} bytes "
            "(CALLBOARD_MAX_PARAMETERS_BYTES)"
        )
    parameters = _parameters(form)
    service = service_of(request)
    execution = await call_commit_bound(
        request,
        lambda: service.create_execution(
            account.sid, flow_sid, to=to, from_=from_, parameters=parameters
        ),
    )
    return json_response(render_execution(request, execution), 201)


async def fetch_execution(request: Request) -> Response:
    account_sid, flow_sid, sid = _ids(request, "sid")
    ex = await call(request, service_of(request).fetch_execution, account_sid, flow_sid, sid)
    return json_response(render_execution(request, ex))


async def update_execution(request: Request) -> Response:
    account_sid, flow_sid, sid = _ids(request, "sid")
    form = await read_form(request)
    status = form.enum("Status", EXECUTION_STATUSES, required=True)
    service = service_of(request)
    if status == "active":
        # Nothing to do for an active execution; an ended one cannot be revived.
        ex = await call(request, service.fetch_execution, account_sid, flow_sid, sid)
        if ex.status != "active":
            raise ApiError(409, f"Execution {sid} has ended and cannot be made active", 20409)
    else:
        ex = await call(request, service.end_execution, account_sid, flow_sid, sid)
    return json_response(render_execution(request, ex))


async def delete_execution(request: Request) -> Response:
    account_sid, flow_sid, sid = _ids(request, "sid")
    await call(request, service_of(request).delete_execution, account_sid, flow_sid, sid)
    return Response(status_code=204)


async def fetch_execution_context(request: Request) -> Response:
    account_sid, flow_sid, sid = _ids(request, "execution_sid")
    ctx = await call(
        request, service_of(request).fetch_execution_context, account_sid, flow_sid, sid
    )
    return json_response(
        {
            "account_sid": ctx.account_sid,
            "context": ctx.context,
            "flow_sid": ctx.flow_sid,
            "execution_sid": ctx.execution_sid,
            "url": f"{_execution_url(request, ctx.flow_sid, ctx.execution_sid)}/Context",
        }
    )


async def list_steps(request: Request) -> Response:
    account_sid, flow_sid, execution_sid = _ids(request, "execution_sid")
    params = parse_page_params(request)
    page = await call(
        request,
        service_of(request).list_steps,
        account_sid,
        flow_sid,
        execution_sid,
        page_size=params.page_size,
        page_token=params.token,
    )
    items = [render_step(request, s) for s in page.items]
    return page_response(request, "steps", page, items, params=params)


async def fetch_step(request: Request) -> Response:
    account_sid, flow_sid, execution_sid = _ids(request, "execution_sid")
    step_sid = path_sid(request, "sid", "FT")
    step = await call(
        request, service_of(request).fetch_step, account_sid, flow_sid, execution_sid, step_sid
    )
    return json_response(render_step(request, step))


async def fetch_step_context(request: Request) -> Response:
    account_sid, flow_sid, execution_sid = _ids(request, "execution_sid")
    step_sid = path_sid(request, "step_sid", "FT")
    ctx = await call(
        request,
        service_of(request).fetch_step_context,
        account_sid,
        flow_sid,
        execution_sid,
        step_sid,
    )
    url = _execution_url(request, ctx.flow_sid, ctx.execution_sid)
    return json_response(
        {
            "account_sid": ctx.account_sid,
            "context": ctx.context,
            "execution_sid": ctx.execution_sid,
            "flow_sid": ctx.flow_sid,
            "step_sid": ctx.step_sid,
            "url": f"{url}/Steps/{ctx.step_sid}/Context",
        }
    )


def routes() -> list[Route]:
    ex = "/v2/Flows/{flow_sid}/Executions"
    return [
        resource(ex, get=list_executions, post=create_execution),
        resource(
            ex + "/{sid}", get=fetch_execution, post=update_execution, delete=delete_execution
        ),
        resource(ex + "/{execution_sid}/Context", get=fetch_execution_context),
        resource(ex + "/{execution_sid}/Steps", get=list_steps),
        resource(ex + "/{execution_sid}/Steps/{sid}", get=fetch_step),
        resource(ex + "/{execution_sid}/Steps/{step_sid}/Context", get=fetch_step_context),
    ]
