"""Delivery never blocks executions, and survives restarts: events recorded while no
delivery loop runs are sent by a ``callboard worker`` started later."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from callboard.channels.config import ChannelConfig
from callboard.commands.compose import build_services
from callboard.events.delivery import DeliveryConfig, EventDelivery
from callboard.events.service import EventStreams
from tests.events.conftest import Receiver, two_step_flow

TYPES = [
    ("com.twilio.studio.flow.execution.started", 2),
    ("com.twilio.studio.flow.step.ended", 2),
    ("com.twilio.studio.flow.execution.ended", 2),
]


def wait_for(check: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_hanging_sink_does_not_hold_up_executions(tmp_path: Path) -> None:
    release = threading.Event()
    arrived: list[bytes] = []

    class Hanging(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            release.wait(120)
            arrived.append(body)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hanging)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    svc = build_services(
        f"sqlite:///{tmp_path / 'cb.db'}", channel_config=ChannelConfig()
    ).callboard
    # Short backoff: under load the hanging sends time out (5 s) and are retried; once
    # released, the retries must come quickly for the test to stay fast and stable.
    config = DeliveryConfig(poll_seconds=0.05, base_backoff=0.1, max_backoff=1.0)
    engine = EventDelivery(svc.db, config=config)
    try:
        acct = svc.create_account("a").sid
        streams = EventStreams(svc.db)
        sink = streams.create_sink(
            acct,
            description="slow",
            sink_type="webhook",
            configuration={
                "destination": f"http://127.0.0.1:{server.server_address[1]}/",
                "batch_events": True,
            },
        )
        streams.create_subscription(acct, description="all", sink_sid=sink.sid, types=TYPES)
        flow = svc.create_flow(
            acct, friendly_name="f", status="published", definition=two_step_flow()
        ).sid
        engine.start()
        svc.create_execution(acct, flow, to="+15550000", from_="+1555")
        wait_for(lambda: engine._inflight)  # a send is now stuck in the receiver
        for i in range(20):  # executions carry on while it hangs
            ex = svc.create_execution(acct, flow, to=f"+1555010{i:02d}", from_="+1555")
            assert ex.status == "ended"
        assert not arrived
        assert streams.pending_count(acct, sink.sid) > 0
        release.set()
        # Claimed deliveries are not pending: wait until none is in flight either (a
        # retry claimed after the release is still on its way until then).
        wait_for(lambda: streams.pending_count(acct, sink.sid) == 0 and not engine._inflight)
        events = [e for body in arrived for e in json.loads(body)]
        assert len({e["id"] for e in events}) == 21 * 5
    finally:
        release.set()
        engine.stop()
        svc.close()
        server.shutdown()
        server.server_close()


def test_events_recorded_with_no_delivery_running_are_sent_by_a_later_worker(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'cb.db'}"
    receiver = Receiver()
    svc = build_services(url, channel_config=ChannelConfig()).callboard
    try:
        acct = svc.create_account("a").sid
        streams = EventStreams(svc.db)
        sink = streams.create_sink(
            acct,
            description="r",
            sink_type="webhook",
            configuration={"destination": receiver.url + "/", "batch_events": False},
        )
        streams.create_subscription(acct, description="all", sink_sid=sink.sid, types=TYPES)
        flow = svc.create_flow(
            acct, friendly_name="f", status="published", definition=two_step_flow()
        ).sid
        sids = [svc.create_execution(acct, flow, to=f"+1555{i}", from_="+1").sid for i in range(3)]
    finally:
        svc.close()
    env = {**os.environ, "CALLBOARD_DATABASE_URL": url, "CALLBOARD_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "callboard.cli", "worker", "--events-only"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(
            lambda: (
                {e["data"]["execution_sid"] for e in receiver.events()} == set(sids)
                and len(receiver.events()) >= 15
            )
        )
        assert len({e["id"] for e in receiver.events()}) == 15
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
        receiver.close()
    assert proc.returncode == 0, out
    assert "callboard worker: stopped" in out


def test_worker_help_names_its_settings() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "callboard.cli", "worker", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0
    assert "CALLBOARD_EVENTS_MAX_RETRY_SECONDS" in out.stdout


def test_worker_rejects_a_bad_setting_without_a_traceback(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CALLBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "CALLBOARD_EVENTS_MAX_RETRY_SECONDS": "forever",
    }
    out = subprocess.run(
        [sys.executable, "-m", "callboard.cli", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "CALLBOARD_EVENTS_MAX_RETRY_SECONDS" in out.stderr
    assert "Traceback" not in out.stderr
