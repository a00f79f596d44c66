"""The CPU and the bytes of building and inserting the rows of one execution run.

The run is the one ``benchmarks/throughput.py`` drives (a signed inbound SMS through
Trigger → Set Variables → Split → Send Message, ended in the same run). One real run is
made in-process first (``Callboard.inbound_message``) and what the runner saved is kept
(the execution, its state, its four steps and its message row); then ``--runs`` copies
of it, with fresh SIDs (made beforehand, outside the timing), are:

* **build** — ``Runner._save`` with deferred writes (the execution row, the packed state,
  the packed steps; :mod:`callboard.runtime.runner`) plus the idempotency answer's text;
* **insert** — those writes and ``remember_request`` applied on an open transaction (a
  commit every 100 runs, as SQLite's group commit batches them);
* **calls** — Python function calls per run of each half (``cProfile``, one more round):
  a count, so steady however busy the machine is;
* **bytes** — the executions, steps, messages and processed_requests tables with their
  indexes, per run (SQLite ``dbstat``; PostgreSQL ``pg_total_relation_size``, after
  ``VACUUM``). Event Streams rows are not included (``events_recording.py``).

    .venv/bin/python benchmarks/run_rows.py [--runs 5000] [--rounds 5]
    .venv/bin/python benchmarks/run_rows.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

The timings are the median and the least of ``--rounds`` rounds (each on fresh rows) of
CPU time per run (``time.process_time``; on a busy machine the least is the steadier).
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import dataclasses
import pstats
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from callboard.runtime.effects import Batch
from callboard.runtime.loaded import LoadedExecution
from callboard.runtime.service import Callboard
from callboard.runtime.unit import Writes
from callboard.store.requests import remember_request
from callboard.store.values import dumps
from harness import reply_flow

TABLES = ("executions", "steps", "messages", "processed_requests")


@dataclasses.dataclass
class Saved:
    ex: LoadedExecution
    state: Any
    batch: Batch
    answer: dict[str, Any]


@contextmanager
def database(url: str | None, tmp: Path) -> Iterator[str]:
    if not url:
        yield f"sqlite:///{tmp}/callboard.db"
        return
    name = f"cb_rows_{secrets.token_hex(5)}"
    admin = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield f"{url.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def capture(service: Callboard) -> tuple[str, Saved]:
    """One real run of the SMS flow; what the runner saved (copied before saving)."""
    account = service.create_account("rows")
    flow = service.create_flow(
        account.sid, friendly_name="rows", status="published", definition=reply_flow()
    )
    runner = service.runner
    saved: list[Saved] = []
    save = runner._save

    def spy(writes: Writes, ex: LoadedExecution, state: Any, batch: Batch, changed: bool) -> None:
        saved.append(Saved(copy.deepcopy(ex), state, copy.deepcopy(batch), {}))
        save(writes, ex, state, batch, changed)

    runner._save = spy  # type: ignore[method-assign]
    result = service.inbound_message(
        account.sid,
        flow.sid,
        {
            "MessageSid": "SM" + secrets.token_hex(16),
            "AccountSid": account.sid,
            "From": "+112000000163",
            "To": "+15559990000",
            "Body": "I am new here",
            "NumMedia": "0",
        },
    )
    runner._save = save  # type: ignore[method-assign]
    assert len(saved) == 1 and len(saved[0].batch.steps) == 4, saved
    saved[0].answer = result.to_json()
    return account.sid, saved[0]


def copies(saved: Saved, n: int, tag: str) -> list[Saved]:
    """``n`` copies of the run with fresh SIDs (and contacts: the active slot is unique)."""
    out = []
    for i in range(n):
        sid = "FN" + secrets.token_hex(16)
        ex = dataclasses.replace(saved.ex, sid=sid, contact=f"+1{tag}{i:09d}", new=True)
        steps = [
            {**row, "sid": "FT" + secrets.token_hex(16), "execution_sid": sid}
            for row in copy.deepcopy(saved.batch.steps)
        ]
        messages = [
            {**row, "sid": "SM" + secrets.token_hex(16), "execution_sid": sid}
            for row in saved.batch.message_rows
        ]
        batch = dataclasses.replace(saved.batch, steps=steps, message_rows=messages)
        out.append(Saved(ex, saved.state, batch, {**saved.answer, "execution_sid": sid}))
    return out


def stored_bytes(service: Callboard) -> tuple[int, int]:
    """(bytes of the tables and their indexes, executions)."""
    engine = service.db.engine
    with engine.connect() as conn:
        count = int(conn.execute(text("SELECT count(*) FROM executions")).scalar_one())
        if service.db.is_sqlite:
            rows = conn.execute(text("SELECT name, tbl_name FROM sqlite_master")).all()
            names = {name for name, table in rows if table in TABLES}
            sizes = conn.execute(text("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
            return sum(int(s) for name, s in sizes if name in names), count
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
        total = sum(
            int(conn.execute(text(f"SELECT pg_total_relation_size('{t}')")).scalar_one())
            for t in TABLES
        )
    return total, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (a fresh db)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, database(args.database_url, Path(tmp)) as url:
        service = Callboard.open(url)
        try:
            account, saved = capture(service)
            runner, db = service.runner, service.db
            builds, inserts = [], []
            calls = (cProfile.Profile(), cProfile.Profile())
            base = datetime(2026, 12, 3, 15, 50, 21)
            for r in range(args.rounds + 1):
                profiled = r == args.rounds  # the last round counts calls
                runs = copies(saved, args.runs if not profiled else 500, f"{r:02d}")
                built: list[tuple[Writes, str, str, str]] = []
                start = time.process_time()
                if profiled:
                    calls[0].enable()
                for run in runs:
                    writes = Writes()
                    runner._save(writes, run.ex, run.state, run.batch, True)
                    key = f"msg:{account}:{run.batch.message_rows[0]['sid']}"
                    built.append((writes, key, dumps(run.answer), run.ex.sid))
                calls[0].disable()
                builds.append((time.process_time() - start) / len(runs))
                start = time.process_time()
                for first in range(0, len(runs), 100):
                    with db.engine.begin() as conn:
                        if profiled:
                            calls[1].enable()
                        for writes, key, answer, sid in built[first : first + 100]:
                            writes.apply(conn)
                            when = base + timedelta(seconds=1)
                            remember_request(conn, key, account, answer, sid, when)
                        calls[1].disable()
                inserts.append((time.process_time() - start) / len(runs))
            counts = [pstats.Stats(c).total_calls / 500 for c in calls]  # type: ignore[attr-defined]
            builds, inserts = builds[:-1], inserts[:-1]
            size, count = stored_bytes(service)
        finally:
            service.close()
    kind = "SQLite" if not args.database_url else "PostgreSQL"
    build, insert = statistics.median(builds) * 1e6, statistics.median(inserts) * 1e6
    least = min(builds) * 1e6, min(inserts) * 1e6
    print(f"{kind}: {args.rounds} rounds x {args.runs} runs (4 steps, 1 message each)")
    print(f"build   {build:7.1f} µs CPU per run (median; least {least[0]:.1f})")
    print(f"insert  {insert:7.1f} µs CPU per run (median; least {least[1]:.1f}; this process)")
    print(f"total   {build + insert:7.1f} µs CPU per run (median; least {sum(least):.1f})")
    print(f"calls   {counts[0]:7.0f} build, {counts[1]:.0f} insert (Python calls per run)")
    print(f"bytes   {size / count:7.0f} B per execution ({', '.join(TABLES)} + indexes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
