"""Operating a real ``callboard serve``: start-up failures that say what is wrong,
``/metrics`` after real traffic, readiness, and JSON logs with request SIDs."""

from __future__ import annotations

import json
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.durability import Process, ask_definition, cli, create_account, create_flow
from tests.e2e.durability import server_env as make_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP port whose connections are accepted (by the kernel) and never answered."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def test_a_taken_port_is_said_with_a_hint(listener: int, tmp_path: Path) -> None:
    env = make_env(f"sqlite:///{tmp_path / 'cb.db'}", tmp_path)
    done = subprocess.run(
        cli("serve", "--host", "127.0.0.1", "--port", str(listener)),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"port {listener} on 127.0.0.1 is already in use" in done.stderr
    assert "--port" in done.stderr
    assert "listening on" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "cb.db").exists()  # it stopped before touching the database


def test_a_database_that_never_answers_times_out_clearly(listener: int, tmp_path: Path) -> None:
    env = make_env(f"postgresql://postgres@127.0.0.1:{listener}/callboard", tmp_path)
    done = subprocess.run(
        cli("serve", "--host", "127.0.0.1", "--port", "0"),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,  # a hang fails here; the connect timeout is 5 s
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"callboard serve: database postgresql://postgres@127.0.0.1:{listener}" in done.stderr
    assert "cannot connect to" in done.stderr and "timeout" in done.stderr
    assert "listening on" not in done.stdout
    assert "Traceback" not in done.stderr


def _samples(text: str, name: str) -> dict[str, float]:
    """``{labels: value}`` of one metric in the text exposition format."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        match = re.match(rf"^{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", line)
        if match:
            found[match.group(1) or ""] = float(match.group(2))
    return found


def _total(text: str, name: str, must: str = "") -> float:
    return sum(v for k, v in _samples(text, name).items() if must in k)


def test_metrics_move_with_real_traffic(tmp_path: Path) -> None:
    env = make_env(f"sqlite:///{tmp_path / 'cb.db'}", tmp_path)
    account_sid, token = create_account(env)
    # two processes: a scrape answered by either adds up both processes' counters
    args = ("--log-format", "json", "--access-log", "--workers", "2")
    server = Process(env, tmp_path, args=args)
    server.start()
    try:
        before = httpx.get(f"{server.url}/metrics", timeout=30)
        assert before.status_code == 200
        assert before.headers["content-type"].startswith("text/plain")
        with httpx.Client(base_url=server.url, auth=(account_sid, token), timeout=30) as c:
            flow = create_flow(c, ask_definition(timeout="3600"))
            for n in range(3):
                made = c.post(
                    f"/v2/Flows/{flow}/Executions", data={"To": f"+1555000{n}", "From": "+1666"}
                )
                assert made.status_code == 201, made.text
                request_id = made.headers["twilio-request-id"]
            # end one by its REST API: ended, status "ended" by the API
            ex = made.json()["sid"]
            ended = c.post(f"/v2/Flows/{flow}/Executions/{ex}", data={"Status": "ended"})
            assert ended.status_code == 200, ended.text
            # a webhook: an inbound message answers the waiting execution of +15550000
            hook = c.post(
                f"/v1/Accounts/{account_sid}/Flows/{flow}",
                data={"From": "+15550000", "To": "+1666", "Body": "hi", "MessageSid": "SM1"},
            )
            assert hook.status_code < 500
            assert c.get("/v2/Flows/FW" + "0" * 32).status_code == 404
        after = httpx.get(f"{server.url}/metrics", timeout=30).text
        health = httpx.get(f"{server.url}/callboard/v1/Health", timeout=30)
    finally:
        server.stop()
    assert _samples(before.text, "callboard_executions_started_total") == {}
    assert _total(after, "callboard_executions_started_total", flow) == 3
    assert _total(after, "callboard_executions_ended_total", flow) >= 1
    assert _total(after, "callboard_steps_total", flow) >= 3
    api = "callboard_api_request_duration_seconds_count"
    assert _total(after, api, 'method="POST",status="201"') >= 3
    assert _total(after, api, 'status="404"') >= 1
    assert _total(after, "callboard_webhook_request_duration_seconds_count") >= 1
    # three waits with a one-hour timeout are pending; nothing is overdue
    assert _total(after, "callboard_timers_pending") >= 1
    assert _total(after, "callboard_timers_overdue") == 0
    assert 'callboard_outbox_jobs{state="pending"}' in after
    assert 'callboard_event_deliveries{state="retrying"}' in after
    assert "callboard_database_errors_total" in after
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["background"]["timers"]["overdue"] == 0
    # JSON logs: the access log line of the last create carries its request SID
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    assert any(e.get("request_sid") == request_id for e in lines), server.log()[-2000:]
    assert all({"time", "level", "logger", "message"} <= set(e) for e in lines)


def test_health_is_not_ready_while_background_work_lags(tmp_path: Path) -> None:
    """An outbox job due long ago that no worker runs: readiness says so (503, lagging)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert, update

    from callboard.store import tables as t
    from callboard.store.db import Database

    url = f"sqlite:///{tmp_path / 'cb.db'}"
    env = make_env(url, tmp_path, CALLBOARD_HEALTH_MAX_LAG_SECONDS="30")
    account_sid, token = create_account(env)
    # an HTTP-only server: no worker of its own takes the parked job before we look
    server = Process(env, tmp_path, args=("--no-background",))
    server.start()
    try:
        with httpx.Client(base_url=server.url, auth=(account_sid, token), timeout=30) as c:
            flow = create_flow(c, ask_definition(timeout="3600"))
            made = c.post(f"/v2/Flows/{flow}/Executions", data={"To": "+1555", "From": "+1666"})
            assert made.status_code == 201
        # an outbox job due an hour ago, parked as if a worker were far behind
        db = Database(url)
        try:
            with db.write() as conn:
                past = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
                conn.execute(update(t.timers).values(due_at=past + timedelta(days=365)))
                conn.execute(
                    insert(t.outbox).values(
                        execution_sid=None,
                        kind="lagging_test",
                        token="t",
                        payload="{}",
                        status="pending",
                        attempts=1,
                        available_at=past,
                        date_created=past,
                    )
                )
        finally:
            db.dispose()
        health = httpx.get(f"{server.url}/callboard/v1/Health", timeout=30)
    finally:
        server.stop()
    assert health.status_code == 503, health.text
    body = health.json()
    assert body["status"] == "lagging" and body["database"] == "ok"
    assert body["background"]["outbox"]["lag_seconds"] > 30
