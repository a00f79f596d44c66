"""The CPU and the bytes of recording one run's Event Streams events.

The run is the one ``benchmarks/throughput.py`` drives (Trigger → Set Variables → Split →
Send Message: execution.started, 4 × step.ended, execution.ended), with fresh SIDs each
time (made beforehand, outside the timing). Printed:

* **record** — the runner's recorder (``run_recorder``; ``record_events`` in older code)
  on an open SQLite transaction (a file database, a
  commit every 100 runs, as the runner's group commit does), µs per run;
* **build** / **insert** — its two halves (``build_event_rows``, no connection, and
  ``insert_event_rows``), when the code has them;
* **bytes** — the ``events`` table and its indexes per run (SQLite ``dbstat``);
* the **reading** side: expanding a run's rows back into the six CloudEvents (what the
  live stream and the deliveries do), µs per run, when the code has it.

    .venv/bin/python benchmarks/events_recording.py               # 10,000 runs
    .venv/bin/python benchmarks/events_recording.py --runs 2000

To compare with another version of the code, run the same file with ``PYTHONPATH``
pointing at that version's ``src`` (for code without ``run_recorder`` the script uses
``record_events``, whose signature was unchanged since Event Streams began).
"""

from __future__ import annotations

import argparse
import secrets
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select

from callboard.events import recording
from callboard.store.tables import metadata

try:
    from callboard.store.event_tables import events
except ImportError:  # the code before the tables moved to store/
    from callboard.events.tables import events  # type: ignore[no-redef]


@dataclass
class Execution:
    sid: str
    account_sid: str
    flow_sid: str
    flow_version: int
    contact: str
    initiated_by: str
    date_created: datetime | None


WIDGETS = [
    ("incomingMessage", "Trigger", "remember", "trigger"),
    ("next", "remember", "route", "set-variables"),
    ("noMatch", "route", "reply", "split-based-on"),
    ("sent", "reply", "Ended", "send-message"),
]


def sample_runs(n: int, account: str, flow: str) -> list[tuple[Execution, list[dict[str, Any]]]]:
    base = datetime(2026, 12, 3, 15, 50, 21, 318_000, tzinfo=UTC)
    out = []
    for i in range(n):
        created = base + timedelta(milliseconds=7 * i)
        ex = Execution(
            "FN" + secrets.token_hex(16), account, flow, 1, f"+1{i:011d}", f"SM11{i:026d}", created
        )
        steps = [
            {
                "sid": "FT" + secrets.token_hex(16),
                "execution_sid": ex.sid,
                "seq": k + 1,
                "name": name,
                "transitioned_from": src,
                "transitioned_to": dst,
                "type": type_,
                "parent_step_sid": None,
                "date_created": (created + timedelta(milliseconds=3 + k)).replace(tzinfo=None),
            }
            for k, (name, src, dst, type_) in enumerate(WIDGETS)
        ]
        out.append((ex, steps))
    return out


def timed(label: str, runs: int, fn: Any) -> float:
    start = time.process_time()
    fn()
    per_run = (time.process_time() - start) / runs * 1e6
    print(f"{label:<8} {per_run:8.1f} µs/run")
    return per_run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    args = parser.parse_args()
    n = args.runs
    account, flow = "AC" + secrets.token_hex(16), "FW" + secrets.token_hex(16)
    runs = sample_runs(n, account, flow)

    def when(ex: Execution) -> datetime:
        assert ex.date_created is not None
        return ex.date_created + timedelta(milliseconds=11)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.db"
        engine = create_engine(f"sqlite:///{path}")
        metadata.create_all(engine, tables=[events])

        recorder = getattr(recording, "run_recorder", None)

        def record_all() -> None:
            for start in range(0, n, 100):
                with engine.begin() as conn:
                    for ex, steps in runs[start : start + 100]:
                        kw = {
                            "started": True,
                            "ended": True,
                            "now": when(ex),
                            "reason": "completed",
                        }
                        if recorder is not None:  # this code: the runner's recorder
                            recorder(ex, steps, **kw)(conn)
                        else:  # older code
                            recording.record_events(conn, ex, steps, **kw)

        print(f"{n} runs of 6 events (execution.started, 4 × step.ended, execution.ended)")
        timed("record", n, record_all)
        build = getattr(recording, "build_event_rows", None)
        if build is not None:
            built: list[list[dict[str, Any]]] = []

            def build_all() -> None:
                for ex, steps in runs:
                    built.append(
                        build(
                            ex,
                            steps,
                            started=True,
                            ended=True,
                            now=when(ex),
                            reason="completed",
                            created=ex.date_created,
                            initiated_by=ex.initiated_by,
                        )
                    )

            def insert_all() -> None:
                for start in range(0, n, 100):
                    with engine.begin() as conn:
                        for rows in built[start : start + 100]:
                            recording.insert_event_rows(conn, rows)

            timed("build", n, build_all)
            timed("insert", n, insert_all)
        with sqlite3.connect(path) as raw:
            rows = raw.execute("select count(*) from events").fetchone()[0]
            size = sum(
                s
                for name, s in raw.execute("select name, sum(pgsize) from dbstat group by name")
                if name == "events" or name.startswith("ix_events")
            )
        recorded_runs = rows and (n * (2 if build is not None else 1))
        print(f"bytes    {size / recorded_runs:8.0f} B/run (events + indexes, {rows} rows)")
        try:
            from callboard.events.batches import read_events
        except ImportError:  # the code before runs were stored as one row
            read_events = None  # type: ignore[assignment]
        if read_events is not None:
            first = select(events.c.id).order_by(events.c.id).offset(n - 1).limit(1)
            with engine.connect() as conn:
                last = conn.execute(first).scalar_one()
                timed("read", n, lambda: read_events(conn, events.c.id <= last))
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
