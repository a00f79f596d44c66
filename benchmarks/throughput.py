"""Durable executions per second through a real ``callboard serve``, driven by wrk.

Starts ``callboard serve`` as a user would (a subprocess on a fresh SQLite data folder, or
``--database-url`` for a fresh PostgreSQL database), creates an account
(``callboard accounts create --json``) and publishes a flow: Trigger → Set Variables (three
Liquid values) → Split Based On → Send Message (the reply; simulator channel). Then, with
wrk (``/usr/bin/wrk``), at each ``--connections`` level (default 10 and 50):

* **sms** — signed inbound SMS on the Flow webhook ``/v1/Accounts/{AC}/Flows/{FW}``: every
  request a distinct MessageSid and From (so each starts a new execution), with the
  ``X-Twilio-Signature`` computed by twilio's ``RequestValidator``. The requests are
  generated beforehand (wrk's Lua has no HMAC) and read by ``throughput.lua``.
* **rest** — ``POST /v2/Flows/{FW}/Executions`` with a distinct ``To`` each time.
* **bare** — the same wrk run against a bare uvicorn + starlette endpoint (one process,
  same loop and HTTP parser), started in the same run, so the figures read as ratios.

Printed for each: answered requests/s, p50/p99 latency (wrk), the server's CPU time per
execution (all its processes, from /proc), its peak RSS (VmHWM, the largest process), and
the stored bytes per execution (growth of the database — SQLite: used pages incl. the WAL's
view; PostgreSQL: ``pg_database_size`` — over the executions of that run, Event Streams
rows included). Afterwards every execution is checked: each answered request is an ended
execution with all its steps (exit 1 otherwise).

    .venv/bin/python benchmarks/throughput.py                       # SQLite, c=10 and c=50
    .venv/bin/python benchmarks/throughput.py --database-url postgresql://postgres@127.0.0.1/postgres
    .venv/bin/python benchmarks/throughput.py --duration 20 --connections 50 --paths sms
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from harness import (
    cpu_seconds,
    create_account,
    free_port,
    peak_rss_mib,
    reply_flow,
    start_bare,
    start_serve,
    stop,
    wait_ready,
)

WRK = shutil.which("wrk") or "/usr/bin/wrk"

LUA = r"""
-- Reads pre-generated requests (one per line: path \t headers-json-ish \t body), thread i
-- of n takes lines i, i+n, ...; wraps around only if the file runs out (reported).
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  local n = tonumber(args[2])
  reqs = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % n == id then
      local path, sig, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {}
      headers["Content-Type"] = "application/x-www-form-urlencoded"
      if args[3] ~= "" then headers["Authorization"] = args[3] end
      if sig ~= "" then headers["X-Twilio-Signature"] = sig end
      table.insert(reqs, wrk.format("POST", path, headers, body))
    end
    i = i + 1
  end
  pos = 0
  wrapped = 0
end
function request()
  pos = pos + 1
  if pos > #reqs then pos = 1; wrapped = wrapped + 1 end
  return reqs[pos]
end
function done(summary, latency, requests)
  local w = 0
  for _, t in ipairs(threads) do w = w + (t:get("wrapped") or 0) end
  io.write(string.format(
    "RESULT {\"requests\":%d,\"duration_us\":%d,\"status_errors\":%d,\"connect\":%d," ..
    "\"read\":%d,\"write\":%d,\"timeout\":%d,\"p50_us\":%d,\"p99_us\":%d,\"wrapped\":%d}\n",
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), w))
end
"""


class Store:
    """Reads the benchmark's database (size, verification)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        self.sqlite = url.startswith("sqlite")

    def size(self) -> int:
        with self.engine.connect() as c:
            if self.sqlite:
                page = c.exec_driver_sql("PRAGMA page_size").scalar_one()
                used = c.exec_driver_sql("PRAGMA page_count").scalar_one()
                free = c.exec_driver_sql("PRAGMA freelist_count").scalar_one()
                return int((used - free) * page)
            return int(c.execute(text("SELECT pg_database_size(current_database())")).scalar_one())

    def executions(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(text("SELECT count(*) FROM executions")).scalar_one())

    def verify(self, steps_each: int) -> tuple[int, list[str]]:
        problems: list[str] = []
        with self.engine.connect() as c:
            total = int(c.execute(text("SELECT count(*) FROM executions")).scalar_one())
            active = c.execute(
                text("SELECT count(*) FROM executions WHERE status <> 'ended'")
            ).scalar_one()
            if active:
                problems.append(f"{active} executions not ended")
            short = c.execute(
                text(
                    "SELECT count(*) FROM executions e WHERE "
                    "(SELECT count(*) FROM steps s WHERE s.execution_sid = e.sid) <> :n"
                ),
                {"n": steps_each},
            ).scalar_one()
            if short:
                problems.append(f"{short} executions without exactly {steps_each} steps")
            orphans = c.execute(
                text(
                    "SELECT count(*) FROM processed_requests p WHERE p.key LIKE 'msg:%' AND "
                    "NOT EXISTS (SELECT 1 FROM executions e WHERE e.sid = p.execution_sid "
                    "AND e.status = 'ended')"
                )
            ).scalar_one()
            if orphans:
                problems.append(f"{orphans} answered messages without an ended execution")
        return total, problems

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def database(url: str | None, tmp: Path) -> Any:
    if not url:
        yield f"sqlite:///{tmp}/callboard.db"
        return
    name = f"cb_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    base = url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def sms_lines(base: str, account: str, token: str, flow: str, run: str, count: int) -> list[str]:
    path = f"/v1/Accounts/{account}/Flows/{flow}"
    validator = RequestValidator(token)
    lines = []
    for i in range(count):
        params = {
            "MessageSid": f"SM{run}{i:026x}"[:34],
            "AccountSid": account,
            "From": f"+1{run[:2]}{i:09d}",
            "To": "+15559990000",
            "Body": "I am new here" if i % 2 else "hello again",
            "NumMedia": "0",
        }
        sig = validator.compute_signature(base + path, params)
        lines.append(f"{path}\t{sig}\t{urlencode(params)}")
    return lines


def rest_lines(flow: str, run: str, count: int) -> list[str]:
    path = f"/v2/Flows/{flow}/Executions"
    return [
        f"{path}\t\t"
        + urlencode(
            {
                "To": f"+1{run[:2]}{i:09d}",
                "From": "+15559990000",
                "Parameters": json.dumps({"n": i}),
            }
        )
        for i in range(count)
    ]


def wrk(
    url: str, lines: list[str], conns: int, seconds: float, tmp: Path, auth: str
) -> dict[str, Any]:
    reqs = tmp / "requests.txt"
    reqs.write_text("\n".join(lines) + "\n")
    script = tmp / "throughput.lua"
    script.write_text(LUA)
    threads = 2
    out = subprocess.run(
        [
            WRK,
            f"-t{threads}",
            f"-c{conns}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
            "--",
            str(reqs),
            str(threads),
            auth,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[len("RESULT ") :]))
    raise SystemExit(f"wrk gave no result:\n{out.stdout}\n{out.stderr}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL server URL (a fresh database is created on it)",
    )
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--connections", default="10,50")
    parser.add_argument("--paths", default="sms,rest")
    parser.add_argument(
        "--max-rate", type=int, default=4000, help="requests generated per second of run"
    )
    parser.add_argument(
        "--serve-args", default="", help="extra `callboard serve` arguments, e.g. '--workers 1'"
    )
    parser.add_argument(
        "--py-spy",
        default="",
        metavar="PREFIX",
        help="profile the server (py-spy --gil, raw) during the last level: PREFIX-{path}.txt",
    )
    parser.add_argument("--keep", default="", metavar="DIR", help="data folder to keep")
    parser.add_argument("--py-spy-bin", default=str(Path(sys.executable).parent / "py-spy"))
    args = parser.parse_args()
    levels = [int(c) for c in args.connections.split(",")]
    paths = args.paths.split(",")

    with tempfile.TemporaryDirectory(prefix="callboard-tp-") as tmpname:
        tmp = Path(args.keep or tmpname)
        tmp.mkdir(parents=True, exist_ok=True)
        with database(args.database_url or None, tmp) as url:
            return _bench(args, levels, paths, tmp, url)


def _bench(args: Any, levels: list[int], paths: list[str], tmp: Path, url: str) -> int:
    env = {**os.environ, "CALLBOARD_DATA_DIR": str(tmp), "CALLBOARD_DATABASE_URL": url}
    env.pop("CALLBOARD_PUBLIC_URL", None)
    sid, token = create_account(env)
    auth = "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()
    port, bare_port = free_port(), free_port()
    base, bare = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
    log = tmp / "serve.log"
    server = start_serve(env, port, args.serve_args, log)
    bare_proc = start_bare(tmp, bare_port)
    store = Store(url)
    results: list[tuple[str, int, dict[str, Any]]] = []
    answered = {"sms": 0, "rest": 0}
    try:
        wait_ready(f"{base}/callboard/v1/Health", server, log)
        wait_ready(f"{bare}/", bare_proc, tmp / "bare.log")
        r = httpx.post(
            f"{base}/v2/Flows",
            auth=(sid, token),
            data={
                "FriendlyName": "throughput",
                "Status": "published",
                "Definition": json.dumps(reply_flow()),
            },
        )
        r.raise_for_status()
        flow = r.json()["sid"]
        run_no = 10
        n_warm = int(args.max_rate * args.warmup)
        n_run = int(args.max_rate * args.duration)
        for path in paths:
            # warm-up (its executions are verified too, not measured)
            run_no += 1
            lines = (
                sms_lines(base, sid, token, flow, str(run_no), n_warm)
                if path == "sms"
                else rest_lines(flow, str(run_no), n_warm)
            )
            w = wrk(base, lines, levels[0], args.warmup, tmp, auth if path == "rest" else "")
            answered[path] += w["requests"] - w["status_errors"]
            for conns in levels:
                run_no += 1
                lines = (
                    sms_lines(base, sid, token, flow, str(run_no), n_run)
                    if path == "sms"
                    else rest_lines(flow, str(run_no), n_run)
                )
                spy = None
                if args.py_spy and conns == levels[-1]:  # CPU profile (--gil) of this run
                    spy = subprocess.Popen(
                        [
                            args.py_spy_bin,
                            "record",
                            "-p",
                            str(server.pid),
                            "--subprocesses",
                            "-d",
                            str(max(1, round(args.duration) - 1)),
                            "-r",
                            "200",
                            "--gil",
                            "--nonblocking",
                            "-f",
                            "raw",
                            "-o",
                            f"{args.py_spy}-{path}.txt",
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                size0, ex0, cpu0 = store.size(), store.executions(), cpu_seconds(server.pid)
                w = wrk(base, lines, conns, args.duration, tmp, auth if path == "rest" else "")
                time.sleep(0.5)  # let the last in-flight requests commit
                if spy is not None:
                    spy.wait(30)
                size1, ex1, cpu1 = store.size(), store.executions(), cpu_seconds(server.pid)
                ok = w["requests"] - w["status_errors"]
                answered[path] += ok
                n = max(1, ex1 - ex0)
                w.update(
                    ok=ok,
                    executions=ex1 - ex0,
                    cpu_ms=(cpu1 - cpu0) / n * 1000,
                    bytes=(size1 - size0) / n,
                    rss=peak_rss_mib(server.pid),
                )
                results.append((path, conns, w))
        for conns in levels:
            lines = [f"/hook\t\tBody=x{i}" for i in range(1000)]
            cpu0 = cpu_seconds(bare_proc.pid)
            w = wrk(bare, lines, conns, args.duration, tmp, "")
            ok = w["requests"] - w["status_errors"]
            w.update(
                ok=ok,
                executions=ok,
                cpu_ms=(cpu_seconds(bare_proc.pid) - cpu0) / max(1, ok) * 1000,
                bytes=0.0,
                rss=peak_rss_mib(bare_proc.pid),
            )
            results.append(("bare", conns, w))
    finally:
        stop(server)
        stop(bare_proc)

    total, problems = store.verify(steps_each=4)
    store.dispose()
    db = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{db}, serve {args.serve_args or '(defaults)'}, wrk -t2, {args.duration:.0f} s per run"
        f" after a {args.warmup:.0f} s warm-up; load average {os.getloadavg()[0]:.1f}"
    )
    bare_rate = {c: w["ok"] / (w["duration_us"] / 1e6) for p, c, w in results if p == "bare"}
    print(
        f"{'path':5} {'c':>3} {'answered/s':>10} {'x bare':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'CPU ms/ex':>9} {'RSS MiB':>7} {'B/ex':>6} {'non-2xx':>7} {'errors':>6}"
    )
    for path, conns, w in results:
        rate = w["ok"] / (w["duration_us"] / 1e6)
        ratio = rate / bare_rate[conns] if bare_rate.get(conns) else 0.0
        errs = w["connect"] + w["read"] + w["write"] + w["timeout"]
        print(
            f"{path:5} {conns:>3} {rate:>10.0f} {ratio:>7.3f} {w['p50_us'] / 1000:>7.1f} "
            f"{w['p99_us'] / 1000:>7.1f} {w['cpu_ms']:>9.2f} {w['rss']:>7.0f} {w['bytes']:>6.0f} "
            f"{w['status_errors']:>7} {errs:>6}"
        )
        if w["wrapped"] and path != "bare":
            problems.append(f"{path} c={conns}: request list exhausted (raise --max-rate)")
    want = answered["sms"] + answered["rest"]
    print(
        f"verified: {total} executions stored, {want} requests answered 2xx; "
        + ("all ended with their 4 steps" if not problems else "; ".join(problems))
    )
    if total < want:
        problems.append(f"only {total} executions for {want} answered requests")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
