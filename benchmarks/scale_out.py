"""Scale-out on one PostgreSQL: REST-created executions per second with 1 and 2
``callboard serve`` processes, a bare uvicorn + Starlette endpoint in the same run, and
the database cost of one execution.

1. A fresh PostgreSQL database (127.0.0.1:5432, user postgres), an account, the
   five-widget flow of ``rest_executions.py`` (every execution ends in its request).
2. For 1 and then 2 servers on that database: ``wrk`` POSTs
   ``/v2/Flows/{sid}/Executions`` for ``--seconds`` from ``--connections`` keep-alive
   connections (split between the servers, one wrk per server, as a load balancer
   would), and the servers' CPU time per execution is read from /proc.
3. The same wrk against a bare uvicorn + Starlette endpoint (one process): what
   this machine gives a do-nothing ASGI app at this moment, to compare with.
4. The database cost of one execution, in-process on the same database
   (:func:`callboard.commands.compose.build_services`): SQL statements (SQLAlchemy's
   ``before_cursor_execute``), transactions and rows written and read
   (``pg_stat_database`` of this database), WAL bytes (``pg_current_wal_lsn()``
   difference — cluster-wide, so other work on the server inflates it: the lowest of
   three rounds is printed).

    .venv/bin/python benchmarks/scale_out.py [--seconds 10] [--connections 16]

Needs ``wrk`` (/usr/bin/wrk) and the PostgreSQL above. On a 2-core machine, two servers
cannot show a 2x gain: the servers, PostgreSQL and wrk share the same two cores (see the
note it prints, and docs/scaling.md).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from contextlib import ExitStack
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
    wait_ready,
)
from rest_executions import five_widget_flow

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"

LUA = textwrap.dedent(
    """
    local n = 0
    local tag = tostring(math.random(1, 99999999))
    request = function()
      n = n + 1
      local body = "To=%2B1" .. tag .. n .. "&From=%2B15550000000"
      return wrk.format("POST", nil, nil, body)
    end
    """
)


def _wrk(
    urls: list[str], connections: int, seconds: int, headers: dict[str, str], lua: Path
) -> tuple[float, int]:
    """One wrk per URL at once (connections split); (requests/s summed, non-2xx)."""
    procs = []
    for url in urls:
        cmd = ["wrk", "-t1", f"-c{max(1, connections // len(urls))}", f"-d{seconds}s"]
        for k, v in headers.items():
            cmd += ["-H", f"{k}: {v}"]
        cmd += ["-s", str(lua), url]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True))
    rate, errors = 0.0, 0
    for p in procs:
        out, _ = p.communicate()
        found = re.search(r"Requests/sec:\s+([\d.]+)", out)
        rate += float(found.group(1)) if found else 0.0
        bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        errors += int(bad.group(1)) if bad else 0
        errors += sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return rate, errors


def _serve(env: dict[str, str], stack: ExitStack) -> tuple[str, subprocess.Popen[Any]]:
    from callboard.commands.serve import serve

    port = free_port()
    extra = ["--workers", "1"] if any(p.name == "workers" for p in serve.params) else []
    proc = subprocess.Popen(
        [*CALLBOARD, "serve", "--port", str(port), *extra],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stack.callback(lambda: (proc.terminate(), proc.wait(30)))
    url = f"http://127.0.0.1:{port}"
    wait_ready(f"{url}/callboard/v1/Health", proc)
    return url, proc


def _db_cost(url: str, rounds: int = 3, n: int = 300) -> dict[str, float]:
    """Per execution, in-process on ``url``: statements, transactions, rows, WAL bytes."""
    import psycopg
    from sqlalchemy import event

    from callboard.channels.config import ChannelConfig
    from callboard.commands.compose import build_services

    services = build_services(url, channel_config=ChannelConfig())
    service = services.callboard
    account = service.create_account("cost")
    flow = service.create_flow(
        account.sid, friendly_name="cost", status="published", definition=five_widget_flow()
    )
    statements = 0

    def count(*args: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(service.db.engine, "before_cursor_execute", count)
    dbname = url.rsplit("/", 1)[1]
    stats = (
        "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted, tup_fetched, "
        "pg_current_wal_lsn() FROM pg_stat_database WHERE datname = %s"
    )
    best: dict[str, float] = {}
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        for _ in range(rounds):
            time.sleep(1.2)  # let every backend flush its statistics
            before = admin.execute(stats, (dbname,)).fetchone()
            statements = 0
            for i in range(n):
                data = {"name": "Ada", "kind": "new"}
                service.create_execution(
                    account.sid, flow.sid, to=f"+1666{i:07d}", from_="+15550000000", parameters=data
                )
            done = statements
            after_wal = admin.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
            time.sleep(1.2)
            after = admin.execute(stats, (dbname,)).fetchone()
            wal = admin.execute(
                "SELECT pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn)", (after_wal, before[5])
            ).fetchone()[0]
            got = {
                "statements": done / n,
                "transactions": (after[0] - before[0]) / n,
                "rows inserted": (after[1] - before[1]) / n,
                "rows updated": (after[2] - before[2]) / n,
                "rows deleted": (after[3] - before[3]) / n,
                "rows fetched": (after[4] - before[4]) / n,
                "WAL bytes": float(wal) / n,
            }
            if not best or got["WAL bytes"] < best["WAL bytes"]:
                best = got
    services.close()
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed", file=sys.stderr)
        return 2
    import psycopg

    name = f"callboard_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    results: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="callboard-scale-") as tmp, ExitStack() as stack:
            env = {
                **os.environ,
                "CALLBOARD_DATA_DIR": tmp,
                "CALLBOARD_DATABASE_URL": url,
                "CALLBOARD_PUBLIC_URL": "",
                "CALLBOARD_RETENTION_INTERVAL_SECONDS": "0",
            }
            auth = create_account(env)
            lua = Path(tmp) / "post.lua"
            lua.write_text(LUA)
            first, first_proc = _serve(env, stack)
            r = httpx.post(
                f"{first}/v2/Flows",
                auth=auth,
                data={
                    "FriendlyName": "bench",
                    "Status": "published",
                    "Definition": json.dumps(five_widget_flow()),
                },
            )
            r.raise_for_status()
            flow = r.json()["sid"]
            path = f"/v2/Flows/{flow}/Executions"
            token = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers = {
                "Authorization": token,
                "Content-Type": "application/x-www-form-urlencoded",
            }
            _wrk([first + path], args.connections, 2, headers, lua)  # warm-up
            servers = [(first, first_proc)]
            for count in (1, 2):
                if count == 2:
                    servers.append(_serve(env, stack))
                    _wrk([servers[1][0] + path], 4, 2, headers, lua)  # warm-up
                cpu = [cpu_seconds(p.pid) for _, p in servers]
                rate, errors = _wrk(
                    [u + path for u, _ in servers], args.connections, args.seconds, headers, lua
                )
                used = sum(cpu_seconds(p.pid) for _, p in servers) - sum(cpu)
                done = max(rate * args.seconds, 1.0)
                results[f"{count} server(s)"] = {
                    "executions/s": round(rate),
                    "errors": errors,
                    "server CPU ms/execution": round(1000 * used / done, 2),
                }
            bare_port = free_port()
            bare = start_bare(Path(tmp), bare_port)
            stack.callback(lambda: (bare.terminate(), bare.wait(30)))
            wait_ready(f"http://127.0.0.1:{bare_port}/", bare)
            rate, errors = _wrk(
                [f"http://127.0.0.1:{bare_port}/"], args.connections, args.seconds, {}, lua
            )
            results["bare uvicorn+starlette"] = {"requests/s": round(rate), "errors": errors}
        results["database cost per execution"] = {k: round(v, 1) for k, v in _db_cost(url).items()}
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    load = os.getloadavg()[0]
    print(json.dumps(results, indent=2))
    one = results["1 server(s)"]["executions/s"]
    two = results["2 server(s)"]["executions/s"]
    bare_rate = results["bare uvicorn+starlette"]["requests/s"]
    print(
        f"2 servers / 1 server: {two / max(one, 1):.2f}x; 1 server / bare endpoint: "
        f"{one / max(bare_rate, 1):.2f}; load average {load:.1f} on {os.cpu_count()} cores."
    )
    print(
        "Note: the servers, PostgreSQL and wrk share this machine's cores; when they are "
        "saturated a second server adds little (it adds capacity only where cores are "
        "free). The CPU per execution and the database cost are the figures to size with."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
