"""``/openapi.json`` and ``/docs``: the API documentation, served without any CDN.

``/docs`` renders the OpenAPI document as one self-contained HTML page (no scripts),
grouped by tag: each operation with its parameters, form fields and response fields.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from callboard.api.openapi import openapi_document
from callboard.api.urls import base_url

__all__ = ["routes"]

_CSS = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2433;background:#f6f7f9}
header{background:#121c2d;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}
main{max-width:1000px;margin:0 auto;padding:16px 32px 64px}
section.op{background:#fff;border:1px solid #d8dce3;border-radius:6px;margin:12px 0;
padding:10px 16px}
.m{display:inline-block;min-width:62px;font:bold 13px monospace;padding:2px 8px;border-radius:4px;
color:#fff;text-align:center}.get{background:#1d7a3a}.post{background:#1552b3}
.delete{background:#b31515}code,.path{font-family:ui-monospace,monospace}.path{font-weight:600}
table{border-collapse:collapse;margin:6px 0;width:100%}td,th{border-top:1px solid #eceef2;
padding:3px 8px;text-align:left;vertical-align:top;font-size:14px}th{color:#5b6474}
h2{margin-top:32px}h4{margin:10px 0 2px}.muted{color:#5b6474}nav a{margin-right:12px}
"""


def _type_of(schema: dict[str, Any], doc: dict[str, Any]) -> str:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return ref.rsplit("/", 1)[-1]
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    kind = str(schema.get("type", "any"))
    if kind == "array":
        return f"array of {_type_of(schema.get('items') or {}, doc)}"
    if "pattern" in schema:
        kind += f" {schema['pattern']}"
    if schema.get("nullable"):
        kind += " or null"
    return kind


def _fields_table(props: dict[str, Any], required: list[str], doc: dict[str, Any]) -> str:
    rows = []
    for name, schema in props.items():
        req = " (required)" if name in required else ""
        rows.append(
            f"<tr><td><code>{escape(name)}</code>{req}</td>"
            f"<td>{escape(_type_of(schema, doc))}</td>"
            f"<td>{escape(str(schema.get('description', '')))}</td></tr>"
        )
    return (
        "<table><tr><th>name</th><th>type</th><th>description</th></tr>"
        + "".join(rows)
        + ("</table>")
    )


def _operation(path: str, method: str, op: dict[str, Any], doc: dict[str, Any]) -> str:
    parts = [
        f'<section class="op" id="{escape(op["operationId"])}">'
        f'<span class="m {method}">{method.upper()}</span> '
        f'<span class="path">{escape(path)}</span> '
        f"— {escape(op.get('summary', ''))} <span class='muted'>({escape(op['operationId'])}"
        f"{', no auth' if op.get('security') == [] else ''})</span>"
    ]
    params = op.get("parameters") or []
    if params:
        props = {
            f"{p['name']} ({p['in']})": {**p["schema"], "description": p.get("description", "")}
            for p in params
        }
        req = [f"{p['name']} ({p['in']})" for p in params if p.get("required")]
        parts.append("<h4>Parameters</h4>" + _fields_table(props, req, doc))
    body = op.get("requestBody")
    if body:
        form = body["content"]["application/x-www-form-urlencoded"]["schema"]
        parts.append(
            "<h4>Form body (application/x-www-form-urlencoded)</h4>"
            + _fields_table(form.get("properties", {}), form.get("required", []), doc)
        )
    for status, resp in op["responses"].items():
        if status == "default":
            continue
        schema = (resp.get("content") or {}).get("application/json", {}).get("schema")
        what = escape(_type_of(schema, doc)) if schema else "empty body"
        parts.append(f"<h4>{escape(status)} {escape(resp.get('description', ''))}</h4>{what}")
    parts.append("</section>")
    return "".join(parts)


def render_docs(doc: dict[str, Any]) -> str:
    by_tag: dict[str, list[str]] = {}
    for path, item in doc["paths"].items():
        for method in ("get", "post", "delete"):
            op = item.get(method)
            if op:
                by_tag.setdefault(op["tags"][0], []).append(_operation(path, method, op, doc))
    sections = []
    for tag, ops in by_tag.items():
        sections.append(f"<h2 id='{escape(tag)}'>{escape(tag)}</h2>{''.join(ops)}")
    schemas = []
    for name, schema in doc["components"]["schemas"].items():
        schemas.append(
            f"<h3 id='schema-{escape(name)}'>{escape(name)}</h3>"
            + _fields_table(schema.get("properties", {}), schema.get("required", []), doc)
        )
    nav = "".join(f"<a href='#{escape(t)}'>{escape(t)}</a>" for t in by_tag)
    info = doc["info"]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(info['title'])}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{escape(info['title'])} {escape(info['version'])}</h1></header><main>"
        f"<p>{escape(info['description'])}</p>"
        f"<p>Base URL: <code>{escape(doc['servers'][0]['url'])}</code> — machine-readable: "
        "<a href='/openapi.json'>/openapi.json</a></p>"
        f"<nav>{nav}<a href='#schemas'>Schemas</a></nav>{''.join(sections)}"
        f"<h2 id='schemas'>Schemas</h2>{''.join(schemas)}</main></body></html>"
    )


async def openapi_json(request: Request) -> Response:
    return JSONResponse(openapi_document(base_url(request)))


async def docs_page(request: Request) -> Response:
    return HTMLResponse(render_docs(openapi_document(base_url(request))))


def routes() -> list[Route]:
    return [
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/docs", docs_page, methods=["GET"]),
    ]
