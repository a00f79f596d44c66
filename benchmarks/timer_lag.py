"""Timer firing lag: due time → the timeout's step committed, with 100,000 pending timers.

Sets up a fresh database (SQLite file, or a temporary PostgreSQL database), then:

* ``--pending`` timers (default 100,000) due far in the future (belonging to one
  waiting execution), so the ``timers`` table is big;
* ``--due`` real executions (default 2,000) waiting in a Send & Wait For Reply, whose
  timers are moved to fall due over the next ``--window`` seconds (default 10), evenly;
* one :class:`callboard.runtime.worker.Worker` thread — the same loop as in
  ``callboard serve`` — fires them; an observer records, for each timer, the wall-clock
  time its transaction (timer deleted + timeout step + message) committed.

Prints the lag (commit time − due time) p50/p95/p99/max and the cost of the
"next due" probe over the big table. Exits 1 when p99 is 1 s or more (the bar).

    .venv/bin/python benchmarks/timer_lag.py                      # SQLite
    .venv/bin/python benchmarks/timer_lag.py --database postgresql
    .venv/bin/python benchmarks/timer_lag.py --pending 100000 --due 5000 --window 10
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from callboard.channels.config import ChannelConfig
from callboard.commands.compose import build_services
from callboard.runtime.timers import FiredTimer, next_timer_due
from callboard.runtime.worker import Worker
from callboard.store import tables as t
from callboard.store.db import insert_rows
from callboard.store.values import to_db_time

BAR_SECONDS = 1.0
ADMIN = os.environ.get("CALLBOARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def ask_flow(timeout: str) -> dict[str, Any]:
    def state(name: str, wtype: str, props: dict[str, Any], **nexts: str) -> dict[str, Any]:
        return {
            "name": name,
            "type": wtype,
            "transitions": [{"event": e, **({"next": n} if n else {})} for e, n in nexts.items()],
            "properties": {**props, "offset": {"x": 0, "y": 0}},
        }

    trigger = state(
        "Trigger",
        "trigger",
        {},
        incomingMessage="",
        incomingCall="",
        incomingConversationMessage="",
        incomingRequest="ask",
        incomingParent="",
    )
    return {
        "description": "timer lag",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            trigger,
            state(
                "ask",
                "send-and-wait-for-reply",
                {"body": "Name?", "timeout": timeout},
                incomingMessage="",
                timeout="slow",
                deliveryFailure="",
            ),
            state("slow", "send-message", {"body": "Too slow"}, sent="", failed=""),
        ],
    }


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'timers.db'}"
        return
    import psycopg

    name = f"callboard_bench_{secrets.token_hex(6)}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    try:
        yield f"{ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(kind: str, pending: int, due: int, window: float) -> int:
    with database(kind) as url:
        service = build_services(url, channel_config=ChannelConfig()).callboard
        try:
            account = service.create_account("bench")
            flow = service.create_flow(
                account.sid, friendly_name="lag", status="published", definition=ask_flow("3600")
            )
            t0 = time.perf_counter()
            far = service.create_execution(account.sid, flow.sid, to="+1000", from_="+1")
            horizon = to_db_time(datetime.now(UTC) + timedelta(days=30))
            for start in range(0, pending, 10_000):
                rows = [
                    {
                        "execution_sid": far.sid,
                        "token": f"far{i}",
                        "due_at": horizon + timedelta(seconds=i),
                        "date_created": horizon,
                    }
                    for i in range(start, min(pending, start + 10_000))
                ]
                with service.db.write() as conn:
                    insert_rows(conn, t.timers, rows)
            sids = [
                service.create_execution(account.sid, flow.sid, to=f"+2{i:06d}", from_="+1").sid
                for i in range(due)
            ]
            print(
                f"{kind}: {pending:,} pending + {due:,} waiting executions set up in "
                f"{time.perf_counter() - t0:.1f} s"
            )
            probes = []
            for _ in range(200):
                p0 = time.perf_counter()
                next_timer_due(service)
                probes.append(time.perf_counter() - p0)
            fired: list[FiredTimer] = []
            lock = threading.Lock()

            def observe(timer: FiredTimer) -> None:
                with lock:
                    fired.append(timer)

            begin = datetime.now(UTC) + timedelta(seconds=1)
            step = window / max(1, due)
            with service.db.write() as conn:
                for i, sid in enumerate(sids):
                    conn.execute(
                        update(t.timers)
                        .where(t.timers.c.execution_sid == sid)
                        .values(due_at=to_db_time(begin + timedelta(seconds=i * step)))
                    )
            worker = Worker(service, timer_observer=observe)
            worker.start()
            deadline = time.monotonic() + window + 60
            while time.monotonic() < deadline:
                with lock:
                    if sum(1 for f in fired if f.accepted) >= due:
                        break
                time.sleep(0.1)
            worker.stop()
        finally:
            service.close()
    lags = [(f.committed_at - f.due_at).total_seconds() for f in fired if f.accepted]
    if len(lags) < due:
        print(f"only {len(lags)} of {due} timers fired")
        return 1
    p50, p95, p99 = (percentile(lags, p) for p in (50, 95, 99))
    print(
        f"{kind}: lag due → committed over {due:,} timers in {window:g} s: "
        f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {max(lags) * 1000:.0f} ms"
    )
    print(
        f"{kind}: next-due probe over {pending + due:,} timers: "
        f"median {statistics.median(probes) * 1e6:.0f} µs"
    )
    if p99 >= BAR_SECONDS:
        print(f"FAIL: p99 {p99:.3f} s is not under the bar of {BAR_SECONDS:g} s")
        return 1
    print(f"OK: p99 under {BAR_SECONDS:g} s")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=2_000)
    parser.add_argument("--window", type=float, default=10.0)
    args = parser.parse_args()
    return run(args.database, args.pending, args.due, args.window)


if __name__ == "__main__":
    sys.exit(main())
