"""Issue 13: in an execution's step timeline, the steps a subflow ran (they carry the
Run Subflow step's SID as ``parent_step_sid``) are indented and tagged "subflow", and
they are not drawn on the parent's canvas."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import login, node, open_flow
from tests.e2e.server import Server
from tests.e2e.test_studio_fidelity import flow, set_vars

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _create(api: httpx.Client, name: str, definition: dict[str, Any]) -> str:
    r = api.post(
        "/v2/Flows",
        data={"FriendlyName": name, "Status": "published", "Definition": json.dumps(definition)},
    )
    assert r.status_code == 201, r.text
    sid: str = r.json()["sid"]
    return sid


def test_subflow_steps_are_marked_in_the_timeline(
    page: Page, server: Server, api: httpx.Client, shot: Any
) -> None:
    child = _create(
        api, "Child", flow(set_vars("inside", "second", a="1"), set_vars("second"), parent="inside")
    )
    run = {
        "name": "run",
        "type": "run-subflow",
        "transitions": [{"event": "completed", "next": "after"}, {"event": "failed"}],
        "properties": {
            "flow_sid": child,
            "flow_revision": "LatestPublished",
            "parameters": [],
            "offset": {"x": 0, "y": 200},
        },
    }
    parent = _create(api, "Parent", flow(run, set_vars("after", c="3"), rest="run"))
    r = api.post(f"/v2/Flows/{parent}/Executions", data={"To": "+15550130001", "From": "+1555"})
    assert r.status_code == 201, r.text
    execution = r.json()["sid"]

    login(page, server)
    open_flow(page, server, parent)
    page.get_by_role("button", name="Executions").click()
    page.locator(f'.exec-item[data-sid="{execution}"]').click()
    timeline = page.get_by_label("Step timeline")
    expect(timeline.locator(".step")).to_have_count(6)
    marked = timeline.locator(".step.subflow-step")
    expect(marked.locator(".step-from")).to_have_text(["Trigger", "inside", "second"])
    expect(marked.locator(".subflow-tag")).to_have_count(3)
    run_sid = timeline.locator('.step:not(.subflow-step)[data-step="run"]').get_attribute(
        "data-sid"
    )
    assert run_sid and run_sid.startswith("FT")
    for i in range(3):
        expect(marked.nth(i)).to_have_attribute("data-parent-step", run_sid)
    plain = timeline.locator(".step:not(.subflow-step) .step-from")
    expect(plain).to_have_text(["Trigger", "run", "after"])
    expect(timeline.locator(".step:not(.subflow-step) .subflow-tag")).to_have_count(0)
    # the parent's own path is drawn; the subflow's widgets are not on this canvas
    for name in ("Trigger", "run", "after"):
        expect(node(page, name).locator(".wnode")).to_have_class(re.compile(r"hl-(visited|active)"))
    assert page.locator(".react-flow__edge.path").count() == 2
    shot(page, "subflow-steps")
