"""Live updates from the flow's event stream (GET /callboard/v1/Flows/{sid}/Events/Stream,
read with fetch()): the Executions panel, an open execution's step timeline and its path
on the canvas change as executions run, without Refresh; the stream is parsed, resumed
after the last event id and deduplicated."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import login, node, open_flow
from tests.browser.test_flows_page import small_flow
from tests.e2e.server import Server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _flow(api: httpx.Client, name: str, status: str) -> str:
    r = api.post(
        "/v2/Flows",
        data={"FriendlyName": name, "Status": status, "Definition": json.dumps(small_flow())},
    )
    assert r.status_code == 201, r.text
    sid: str = r.json()["sid"]
    return sid


def _text(api: httpx.Client, sid: str, contact: str, body: str) -> str:
    """The test user ``contact`` texts the flow (the simulator channel); the execution."""
    r = api.post(
        "/callboard/v1/Simulator/Messages",
        data={"FlowSid": sid, "From": contact, "To": "+15550100000", "Body": body},
    )
    if r.status_code in (404, 405):
        pytest.skip("this server has no simulator channel (/callboard/v1/Simulator)")
    assert r.status_code == 201, r.text
    execution: str = r.json()["execution_sid"]
    return execution


def _open_executions(page: Page) -> None:
    page.get_by_role("button", name="Executions").click()
    panel = page.get_by_label("Executions")
    expect(panel.locator(".live-badge")).to_have_text("Live")


def test_executions_and_the_step_timeline_update_live(
    page: Page, server: Server, api: httpx.Client, shot: Any
) -> None:
    sid = _flow(api, "Live panel", "draft")
    login(page, server)
    open_flow(page, server, sid)
    _open_executions(page)
    panel = page.get_by_label("Executions")
    expect(panel).to_contain_text("No executions match.")

    # A new execution appears by itself, active.
    fn = _text(api, sid, "+15550100021", "hi")
    item = panel.locator(f'.exec-item[data-sid="{fn}"]')
    expect(item).to_have_attribute("data-status", "active")
    expect(item).to_contain_text("+15550100021")
    shot(page, "appeared")

    # Open it: the path so far (Trigger -> ask, waiting there).
    item.click()
    detail = page.get_by_label("Execution")
    timeline = detail.get_by_label("Step timeline")
    expect(timeline.locator(".step")).to_have_count(1)
    expect(timeline.locator(".step .step-from")).to_have_text(["Trigger"])
    expect(node(page, "ask").locator(".wnode")).to_have_class(re.compile("hl-active"))
    expect(detail.locator(".live-badge")).to_have_text("Live")

    # The reply runs the rest of the flow: the timeline grows, the execution ends.
    assert _text(api, sid, "+15550100021", "yes") == fn
    expect(timeline.locator(".step .step-from")).to_have_text(["Trigger", "ask", "check", "bye"])
    expect(timeline.locator(".step .step-event")).to_have_text(
        ["incomingMessage", "incomingMessage", "match", "sent"]
    )
    expect(detail.get_by_test_id("execution-status")).to_have_text("ended")
    expect(page.locator(".wnode.hl-active")).to_have_count(0)
    expect(node(page, "bye").locator(".wnode")).to_have_class(re.compile("hl-visited"))
    shot(page, "grown")

    # Back in the list, its status changed too; a second contact's execution appears.
    detail.get_by_role("button", name="← Executions").click()
    expect(item).to_have_attribute("data-status", "ended")
    second = _text(api, sid, "+15550100022", "hello")
    expect(panel.locator(".exec-item").first).to_have_attribute("data-sid", second)
    expect(panel.locator(".exec-item")).to_have_count(2)


def test_status_filter_follows_executions_as_they_start_and_end(
    page: Page, server: Server, api: httpx.Client
) -> None:
    sid = _flow(api, "Live filter", "published")
    login(page, server)
    open_flow(page, server, sid)
    _open_executions(page)
    panel = page.get_by_label("Executions")
    panel.get_by_label("Status filter").select_option("active")
    expect(panel).to_contain_text("No executions match.")
    r = api.post(f"/v2/Flows/{sid}/Executions", data={"To": "+15550100031", "From": "+15550100000"})
    assert r.status_code == 201, r.text
    fn = r.json()["sid"]
    item = panel.locator(f'.exec-item[data-sid="{fn}"]')
    expect(item).to_have_attribute("data-status", "active")
    ended = api.post(f"/v2/Flows/{sid}/Executions/{fn}", data={"Status": "ended"})
    assert ended.status_code == 200, ended.text
    expect(item).to_have_count(0)  # no longer matches "Active"
    panel.get_by_label("Status filter").select_option("ended")
    expect(item).to_have_attribute("data-status", "ended")


FAKE_FN = "FN" + "f" * 32


def _cloud_event(event_id: str, contact: str) -> str:
    return json.dumps(
        {
            "specversion": "1.0",
            "type": "com.twilio.studio.flow.execution.started",
            "source": f"/v2/Flows/FW/Executions/{FAKE_FN}",
            "id": event_id,
            "time": "2026-01-01T12:00:00.123Z",
            "datacontenttype": "application/json",
            "data": {
                "execution_sid": FAKE_FN,
                "contact_channel_address": contact,
                "status": "active",
                "date_created": "2026-01-01T12:00:00.123Z",
            },
        },
        indent=1,  # several data: lines per event
    )


def _sse(position: int, event: str) -> str:
    data = "".join(f"data: {line}\r\n" for line in event.splitlines())
    return f"id: {position}\r\nevent: com.twilio.studio.flow.execution.started\r\n{data}\r\n"


@contextmanager
def chunked_stream(chunks: list[str]) -> Iterator[str]:
    """A one-shot HTTP server that streams ``chunks`` (flushed one by one, a little apart)
    as text/event-stream, then closes the connection; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            for chunk in chunks:
                self.wfile.write(chunk.encode())
                self.wfile.flush()
                time.sleep(0.05)
            self.close_connection = True

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/stream"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_stream_is_parsed_resumed_after_the_last_id_and_deduplicated(
    page: Page, server: Server, api: httpx.Client, shot: Any
) -> None:
    """The first connection (a stand-in server) sends a keep-alive comment, a retry: field
    and the same CloudEvent twice (CRLF lines, multi-line data), in chunks cut anywhere
    (between CR and LF, inside a field, before the blank line), then ends; the editor must
    reconnect with Last-Event-ID of the last message and show the execution once."""
    sid = _flow(api, "Live resume", "draft")
    seen: list[dict[str, str]] = []
    page.on("request", lambda r: seen.append(r.headers) if "/Events/Stream" in r.url else None)
    event = _cloud_event("EZ" + "1" * 32, "+15550100041")
    body = ": keepalive\r\nretry: 300\r\n\r\n" + _sse(1, event) + _sse(2, event)
    cuts = sorted({7, 15, 16, body.index("\r\n", 40) + 1, len(body) // 2, len(body) - 1})
    chunks = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    assert any(c.endswith("\r") for c in chunks)

    login(page, server)
    open_flow(page, server, sid)
    with chunked_stream(chunks) as url:
        # Only the first connection goes to the stand-in; the reconnection goes to the
        # server, which resumes after id 2 (every event of this new flow comes later).
        page.route("**/Events/Stream*", lambda route: route.continue_(url=url), times=1)
        page.get_by_role("button", name="Executions").click()
        panel = page.get_by_label("Executions")
        item = panel.locator(f'.exec-item[data-sid="{FAKE_FN}"]')
        expect(item).to_have_count(1)
        expect(item).to_contain_text("+15550100041")
        for _ in range(100):  # the stand-in ends: the editor reconnects
            if len(seen) >= 2:
                break
            page.wait_for_timeout(100)
    expect(panel.locator(".live-badge")).to_have_text("Live")
    assert len(seen) >= 2
    assert "last-event-id" not in seen[0]
    assert seen[1]["last-event-id"] == "2"
    assert "authorization" not in seen[0]  # the session cookie authenticates (issue 14)
    # The resumed connection is the server's: real executions keep arriving.
    fn = _text(api, sid, "+15550100042", "hi")
    expect(panel.locator(f'.exec-item[data-sid="{fn}"]')).to_have_count(1)
    expect(item).to_have_count(1)
    shot(page, "resumed")
