"""REST-created executions completed per second, through a real ``callboard serve``.

Starts the server as a subprocess on a fresh SQLite database (a temporary data folder),
creates an account with ``callboard accounts create --json``, publishes a five-widget
flow (Trigger → Set Variables → Split Based On → Send Message ×2: every execution runs
four widgets after the Trigger and ends in the same request), then POSTs
``/v2/Flows/{sid}/Executions`` from ``--concurrency`` concurrent keep-alive connections
(asyncio + httpx, one client process) and counts the executions created with status
``ended``. For comparison it also measures a trivial authenticated endpoint (fetching the
flow), which shows what HTTP + auth alone cost on this machine, and it reports the
server's CPU time per request (from /proc), which stays meaningful when other jobs share
the machine and wall-clock rates do not.

    .venv/bin/python benchmarks/rest_executions.py [--executions 3000] [--concurrency 16]

Exits 1 when the rate is below the bar of 300 executions/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx

from harness import CALLBOARD, ROOT, cpu_seconds, create_account, free_port, wait_ready

BAR = 300.0


def five_widget_flow() -> dict[str, Any]:
    def offset() -> dict[str, int]:
        return {"x": 0, "y": 0}

    return {
        "description": "benchmark: five widgets",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "transitions": [
                    {"event": "incomingMessage"},
                    {"event": "incomingCall"},
                    {"event": "incomingConversationMessage"},
                    {"event": "incomingRequest", "next": "remember"},
                    {"event": "incomingParent"},
                ],
                "properties": {"offset": offset()},
            },
            {
                "name": "remember",
                "type": "set-variables",
                "transitions": [{"event": "next", "next": "route"}],
                "properties": {
                    "variables": [
                        {"key": "greeting", "value": "Hello {{flow.data.name}}"},
                        {"key": "kind", "value": "{{flow.data.kind}}"},
                    ],
                    "offset": offset(),
                },
            },
            {
                "name": "route",
                "type": "split-based-on",
                "transitions": [
                    {"event": "noMatch", "next": "farewell"},
                    {
                        "event": "match",
                        "next": "welcome",
                        "conditions": [
                            {
                                "friendly_name": "new",
                                "arguments": ["{{flow.variables.kind}}"],
                                "type": "equal_to",
                                "value": "new",
                            }
                        ],
                    },
                ],
                "properties": {"input": "{{flow.variables.kind}}", "offset": offset()},
            },
            {
                "name": "welcome",
                "type": "send-message",
                "transitions": [{"event": "sent", "next": "farewell"}, {"event": "failed"}],
                "properties": {"body": "{{flow.variables.greeting}}, welcome!", "offset": offset()},
            },
            {
                "name": "farewell",
                "type": "send-message",
                "transitions": [{"event": "sent"}, {"event": "failed"}],
                "properties": {"body": "Bye {{flow.data.name}}", "offset": offset()},
            },
        ],
    }


async def _run(
    base: str,
    auth: tuple[str, str],
    count: int,
    concurrency: int,
    make: Any,
) -> tuple[float, int, dict[int, int]]:
    statuses: dict[int, int] = {}
    ok = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def one(client: httpx.AsyncClient) -> None:
        nonlocal ok
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            method, url, data = make(i)
            r = await client.request(method, url, data=data)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            if r.status_code in (200, 201) and (
                method == "GET" or r.json().get("status") == "ended"
            ):
                ok += 1

    async with httpx.AsyncClient(base_url=base, auth=auth, limits=limits, timeout=60) as client:
        start = time.perf_counter()
        await asyncio.gather(*(one(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return elapsed, ok, statuses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executions", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="callboard-bench-") as tmp:
        env = {
            **os.environ,
            "CALLBOARD_DATA_DIR": tmp,
            "CALLBOARD_DATABASE_URL": "",
            "CALLBOARD_PUBLIC_URL": "",
        }
        auth = create_account(env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [*CALLBOARD, "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_ready(f"{base}/callboard/v1/Health", server)
            r = httpx.post(
                f"{base}/v2/Flows",
                auth=auth,
                data={
                    "FriendlyName": "bench",
                    "Status": "published",
                    "Definition": json.dumps(five_widget_flow()),
                },
            )
            r.raise_for_status()
            flow_sid = r.json()["sid"]

            def execution(i: int) -> tuple[str, str, dict[str, str]]:
                data = {
                    "To": f"+1555{i:07d}",
                    "From": "+15550000",
                    "Parameters": json.dumps({"name": "Ada", "kind": "new" if i % 2 else "old"}),
                }
                return "POST", f"/v2/Flows/{flow_sid}/Executions", data

            def trivial(i: int) -> tuple[str, str, None]:
                return "GET", f"/v2/Flows/{flow_sid}", None

            c = args.concurrency
            asyncio.run(_run(base, auth, args.warmup, c, lambda i: execution(10_000_000 + i)))
            asyncio.run(_run(base, auth, args.warmup, c, trivial))
            cpu0 = cpu_seconds(server.pid)
            t_time, t_ok, t_status = asyncio.run(_run(base, auth, args.executions, c, trivial))
            cpu1 = cpu_seconds(server.pid)
            e_time, e_ok, e_status = asyncio.run(_run(base, auth, args.executions, c, execution))
            cpu2 = cpu_seconds(server.pid)
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()

    trivial_rate = t_ok / t_time
    rate = e_ok / e_time
    print(f"trivial authenticated GET /v2/Flows/FW…: {trivial_rate:8.0f} requests/s  {t_status}")
    print(f"POST …/Executions (five widgets, ended): {rate:8.0f} executions/s  {e_status}")
    t_cpu = (cpu1 - cpu0) / args.executions * 1000
    e_cpu = (cpu2 - cpu1) / args.executions * 1000
    if e_cpu > 0:
        print(
            f"server CPU per request: trivial {t_cpu:.2f} ms, execution {e_cpu:.2f} ms "
            f"(one free core would give ~{1000 / e_cpu:.0f} executions/s)"
        )
    print(f"concurrency {c}, {args.executions} requests each; bar {BAR:.0f} executions/s")
    if e_ok != args.executions:
        print(f"only {e_ok} of {args.executions} executions ended", file=sys.stderr)
        return 1
    return 0 if rate >= BAR else 1


if __name__ == "__main__":
    sys.exit(main())
