"""Event Streams: delivery rate to a local webhook, and what recording costs executions.

Two measurements, on a temporary SQLite database (``--db`` for another URL):

1. **delivery** — ``--events`` events are recorded (executions of a 2-widget flow), then
   the delivery engine (the same loop ``callboard serve`` runs, with its thread pool)
   sends them to a local HTTP receiver (a threaded ``http.server``), once with
   ``batch_events=true`` and once with ``false``. Reported: events delivered per second,
   from the first claim to the last answer.
2. **recording cost** — executions per second through the service (REST create of a flow
   that ends at once: Trigger → Set Variables → Send Message, 3 steps, 5 events), with
   recording switched off (the hook replaced by a no-op: the baseline), with recording
   and no subscription, and with recording, a subscription and the delivery loop running
   in the same process.

    .venv/bin/python benchmarks/events_throughput.py [--events 3000] [--executions 400]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import callboard.commands.compose as compose_module
from callboard.channels.config import ChannelConfig
from callboard.commands.compose import build_services
from callboard.events.delivery import DeliveryConfig, EventDelivery
from callboard.events.service import EventStreams
from callboard.runtime.service import Callboard
from callboard.store.event_tables import event_deliveries

TYPES = [
    ("com.twilio.studio.flow.execution.started", 2),
    ("com.twilio.studio.flow.step.ended", 2),
    ("com.twilio.studio.flow.execution.ended", 2),
]


def flow_definition() -> dict[str, Any]:
    trigger = {
        "name": "Trigger",
        "type": "trigger",
        "properties": {"offset": {"x": 0, "y": 0}},
        "transitions": [
            {"event": "incomingMessage"},
            {"event": "incomingCall"},
            {"event": "incomingConversationMessage"},
            {"event": "incomingRequest", "next": "vars"},
            {"event": "incomingParent"},
        ],
    }
    return {
        "description": "bench",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            trigger,
            {
                "name": "vars",
                "type": "set-variables",
                "transitions": [{"event": "next", "next": "say"}],
                "properties": {
                    "variables": [{"key": "n", "value": "{{flow.data.n}}"}],
                    "offset": {"x": 0, "y": 0},
                },
            },
            {
                "name": "say",
                "type": "send-message",
                "transitions": [{"event": "sent"}, {"event": "failed"}],
                "properties": {"body": "Hello {{flow.variables.n}}", "offset": {"x": 0, "y": 0}},
            },
        ],
    }


class Receiver:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.count += body.count(b'"specversion"')
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_executions(svc: Callboard, account: str, flow: str, n: int, tag: str) -> float:
    start = time.perf_counter()
    for i in range(n):
        svc.create_execution(
            account, flow, to=f"+1{tag}{i:07d}", from_="+15550000", parameters={"n": i}
        )
    return n / (time.perf_counter() - start)


def measure_delivery(url: str, events: int, batch: bool) -> float:
    svc = build_services(url, channel_config=ChannelConfig()).callboard
    try:
        acct = svc.create_account("bench").sid
        streams = EventStreams(svc.db)
        receiver = Receiver()
        sink = streams.create_sink(
            acct,
            description="bench",
            sink_type="webhook",
            configuration={"destination": receiver.url, "batch_events": batch},
        )
        streams.create_subscription(acct, description="all", sink_sid=sink.sid, types=TYPES)
        flow = svc.create_flow(
            acct, friendly_name="b", status="published", definition=flow_definition()
        ).sid
        executions = max(1, events // 5)
        run_executions(svc, acct, flow, executions, "7" if batch else "8")
        total = executions * 5
        engine = EventDelivery(svc.db, config=DeliveryConfig(poll_seconds=0.05))
        while engine.fan_out() > 0:
            pass
        start = time.perf_counter()
        engine.start()
        deadline = start + 300
        while receiver.count < total and time.perf_counter() < deadline:
            time.sleep(0.005)
        elapsed = time.perf_counter() - start
        engine.stop()
        with svc.db.read() as conn:
            left = conn.execute(event_deliveries.select().limit(1)).first()
        receiver.close()
        if receiver.count < total or left is not None:
            print(f"  incomplete: {receiver.count}/{total} delivered", file=sys.stderr)
        return receiver.count / elapsed
    finally:
        svc.close()


def measure_recording(url: str, executions: int, mode: str) -> float:
    svc = build_services(url, channel_config=ChannelConfig()).callboard
    original = compose_module.run_recorder
    engine = None
    receiver = None
    try:
        acct = svc.create_account("bench").sid
        flow = svc.create_flow(
            acct, friendly_name="b", status="published", definition=flow_definition()
        ).sid
        if mode == "off":
            compose_module.run_recorder = lambda *a, **k: lambda conn: 0  # type: ignore[assignment]
        if mode == "subscribed":
            receiver = Receiver()
            streams = EventStreams(svc.db)
            sink = streams.create_sink(
                acct,
                description="bench",
                sink_type="webhook",
                configuration={"destination": receiver.url, "batch_events": True},
            )
            streams.create_subscription(acct, description="all", sink_sid=sink.sid, types=TYPES)
            engine = EventDelivery(svc.db)
            engine.start()
        run_executions(svc, acct, flow, 20, "1")  # warm-up
        return run_executions(svc, acct, flow, executions, "2")
    finally:
        compose_module.run_recorder = original
        if engine is not None:
            engine.stop()
        if receiver is not None:
            receiver.close()
        svc.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--executions", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", default=None, help="database URL (default: temporary SQLite)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(1_000_000))

        def url() -> str:
            if args.db:
                return str(args.db)
            return f"sqlite:///{Path(tmp) / f'bench{next(counter)}.db'}"

        print(f"delivery to a local webhook ({args.events} events, {args.runs} runs)")
        for batch in (True, False):
            rates = [measure_delivery(url(), args.events, batch) for _ in range(args.runs)]
            print(
                f"  batch_events={str(batch).lower():5}  median {statistics.median(rates):8.0f}"
                f" events/s   (min {min(rates):.0f}, max {max(rates):.0f})"
            )
        print(f"execution throughput ({args.executions} executions of 3 steps, 5 events each)")
        results: dict[str, float] = {}
        for mode, label in (
            ("off", "recording off (baseline)"),
            ("on", "recording, no subscription"),
            ("subscribed", "recording + subscription + delivery"),
        ):
            rates = [measure_recording(url(), args.executions, mode) for _ in range(args.runs)]
            results[mode] = statistics.median(rates)
            cost = (
                ""
                if mode == "off"
                else (
                    f"  ({(1 - results[mode] / results['off']) * 100:+.1f}% slower)"
                    if results[mode] < results["off"]
                    else "  (no measurable cost)"
                )
            )
            print(f"  {label:38} median {results[mode]:7.0f} executions/s{cost}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
