"""``/metrics`` and the readiness check, in-process (the real-server scrape after real
traffic is ``tests/e2e/test_operations.py``)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from starlette.testclient import TestClient

from callboard.api.metrics import METRIC_NAMES, request_kind
from callboard.runtime.service import Callboard
from callboard.store import tables as t
from tests.api.conftest import simple_definition
from tests.api.helpers import create_flow

README = Path(__file__).resolve().parents[2] / "README.md"


def _names(text: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^# TYPE (\S+) ", text, re.M)}


def test_every_exported_metric_is_in_the_readme(client: TestClient) -> None:
    flow = create_flow(client, simple_definition())["sid"]
    client.post(f"/v2/Flows/{flow}/Executions", data={"To": "+1", "From": "+2"})
    text = client.get("/metrics").text
    exported = _names(text)
    families = {n.removesuffix("_total") for n in METRIC_NAMES}
    assert {n.removesuffix("_total") for n in exported} == families
    readme = README.read_text()
    for name in METRIC_NAMES:
        assert f"`{name}`" in readme, name


def test_counters_follow_executions(client: TestClient) -> None:
    flow = create_flow(client, simple_definition())["sid"]
    for n in range(2):
        made = client.post(f"/v2/Flows/{flow}/Executions", data={"To": f"+1{n}", "From": "+2"})
        assert made.status_code == 201
    text = client.get("/metrics").text
    assert f'callboard_executions_started_total{{flow_sid="{flow}"}} 2.0' in text
    assert f'callboard_executions_ended_total{{flow_sid="{flow}",status="completed"}} 2.0' in text
    assert re.search(rf'callboard_steps_total\{{flow_sid="{flow}"\}} [1-9]', text)
    assert 'callboard_api_request_duration_seconds_count{method="POST",status="201"}' in text


def test_requests_are_classified() -> None:
    assert request_kind("/v1/Accounts/AC1/Flows/FW1") == "webhook"
    assert request_kind("/v2/Flows") == "api"
    assert request_kind("/v1/Sinks") == "api"
    assert request_kind("/callboard/v1/Me") == "api"
    assert request_kind("/assets/index.js") is None


def test_every_response_has_a_request_sid(anon: TestClient) -> None:
    first = anon.get("/callboard/v1/Health").headers["twilio-request-id"]
    second = anon.get("/v2/Flows").headers["twilio-request-id"]
    assert re.fullmatch(r"RQ[0-9a-f]{32}", first) and first != second


def test_health_reports_background_lag(anon: TestClient, service: Callboard) -> None:
    ok = anon.get("/callboard/v1/Health")
    assert ok.status_code == 200
    body = ok.json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["lag_seconds"] == 0
    assert set(body["background"]) == {"timers", "outbox", "event_deliveries"}
    past = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=5)
    with service.db.write() as conn:
        conn.execute(
            insert(t.outbox).values(
                kind="test",
                token="t",
                payload=json.dumps({}),
                status="pending",
                attempts=2,
                available_at=past,
                date_created=past,
            )
        )
    late = anon.get("/callboard/v1/Health")
    assert late.status_code == 503
    body = late.json()
    assert body["status"] == "lagging" and body["background"]["outbox"]["retrying"] == 1
    assert body["lag_seconds"] >= 299
    text = anon.get("/metrics").text
    assert 'callboard_outbox_jobs{state="retrying"} 1.0' in text


def test_database_errors_are_counted(client: TestClient, service: Callboard) -> None:
    from sqlalchemy import text as sql

    try:
        with service.db.read() as conn:
            conn.execute(sql("SELECT * FROM no_such_table"))
    except Exception:
        pass
    text = client.get("/metrics").text
    assert 'callboard_database_errors_total{kind="OperationalError"} 1.0' in text
