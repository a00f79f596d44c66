"""What Callboard's HTTP shell costs per request (issue 11), beside a bare endpoint.

Starts ``callboard serve`` (``--serve-args``, default ``--workers 1``) on a fresh SQLite
data folder (or ``--database-url`` for a fresh PostgreSQL database), creates an account
and an API key, and starts the bare uvicorn + starlette endpoint of
``benchmarks/throughput.py`` (one process, same loop and HTTP parser). Then wrk
(``/usr/bin/wrk``, ``-t2``) at ``--connections`` on each of:

* **health** — ``GET /callboard/v1/Health`` (no credentials; its handler reads the
  database: the account count and the background backlog);
* **me-token** — ``GET /callboard/v1/Me`` with the Account SID and Auth Token (the shell
  and authentication only: the handler reads nothing);
* **me-key** — the same with the API key (its secret is checked with scrypt once);
* **flows** — ``GET /v2/Flows`` with the Auth Token (the list reads the database);
* **bare** — the bare endpoint.

Printed for each: answered requests/s, the ratio to bare, p50/p99 latency and the
server's CPU time per request (all its processes, from /proc).

    .venv/bin/python benchmarks/http_shell.py
    .venv/bin/python benchmarks/http_shell.py --duration 10 --connections 10
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import httpx

from harness import (
    CALLBOARD,
    ROOT,
    cpu_seconds,
    create_account,
    free_port,
    start_bare,
    start_serve,
    stop,
    wait_ready,
)
from throughput import WRK, database

PATHS = ("health", "me-token", "me-key", "flows")


def _wrk(url: str, conns: int, seconds: float, header: str | None) -> dict[str, float]:
    command = [WRK, "-t2", f"-c{conns}", f"-d{max(1, round(seconds))}s", "--latency"]
    if header:
        command += ["-H", header]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    found: dict[str, float] = {"rate": 0.0, "p50": 0.0, "p99": 0.0, "non2xx": 0.0, "n": 0.0}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            found["rate"] = float(parts[1])
        elif line.strip().startswith("50%"):
            found["p50"] = _ms(parts[1])
        elif line.strip().startswith("99%"):
            found["p99"] = _ms(parts[1])
        elif "Non-2xx" in line:
            found["non2xx"] = float(parts[-1])
        elif "requests in" in line:
            found["n"] = float(parts[0])
    return found


def _ms(text: str) -> float:
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    return float(text)


def _basic(user: str, password: str) -> str:
    import base64

    return "Authorization: Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="a PostgreSQL server URL")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--serve-args", default="--workers 1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="callboard-shell-") as name:
        tmp = Path(name)
        with database(args.database_url or None, tmp) as url:
            return _bench(args, tmp, url)


def _bench(args: Any, tmp: Path, url: str) -> int:
    env = {**os.environ, "CALLBOARD_DATA_DIR": str(tmp), "CALLBOARD_DATABASE_URL": url}
    env.pop("CALLBOARD_PUBLIC_URL", None)
    sid, token = create_account(env)
    key = subprocess.run(
        [*CALLBOARD, "keys", "create", sid, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    import json

    made = json.loads(key.stdout)
    key_sid, secret = str(made["sid"]), str(made["secret"])
    port, bare_port = free_port(), free_port()
    base, bare = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
    log = tmp / "serve.log"
    server = start_serve(env, port, args.serve_args, log)
    bare_proc = start_bare(tmp, bare_port)
    runs = {
        "health": (f"{base}/callboard/v1/Health", None, server),
        "me-token": (f"{base}/callboard/v1/Me", _basic(sid, token), server),
        "me-key": (f"{base}/callboard/v1/Me", _basic(key_sid, secret), server),
        "flows": (f"{base}/v2/Flows", _basic(sid, token), server),
        "bare": (f"{bare}/hook", None, bare_proc),
    }
    results: dict[str, dict[str, float]] = {}
    try:
        wait_ready(f"{base}/callboard/v1/Health", server, log)
        wait_ready(f"{bare}/", bare_proc, tmp / "bare.log")
        for name, (target, header, proc) in runs.items():
            auth = (key_sid, secret) if name == "me-key" else (sid, token)
            httpx.get(target, auth=auth, timeout=30)  # warm: the key's scrypt check
            cpu0 = cpu_seconds(proc.pid)
            found = _wrk(target, args.connections, args.duration, header)
            found["cpu_us"] = (cpu_seconds(proc.pid) - cpu0) / max(1.0, found["n"]) * 1e6
            results[name] = found
    finally:
        stop(server)
        stop(bare_proc)
    db = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{db}, serve {args.serve_args}, wrk -t2 -c{args.connections}, {args.duration:.0f} s "
        f"per run; load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'path':9} {'answered/s':>10} {'x bare':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'CPU µs/req':>10} {'non-2xx':>7}"
    )
    bare_rate = results["bare"]["rate"] or 1.0
    for name, r in results.items():
        print(
            f"{name:9} {r['rate']:>10.0f} {r['rate'] / bare_rate:>7.3f} {r['p50']:>7.2f} "
            f"{r['p99']:>7.2f} {r['cpu_us']:>10.0f} {r['non2xx']:>7.0f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
