"""What the benchmark scripts share: running ``callboard`` as a user would (a
subprocess), free ports, a process tree's CPU time and peak RSS (Linux /proc), waiting
for a server to answer, stopping it, and the benchmark flow.

The scripts run as files (``.venv/bin/python benchmarks/throughput.py``), so they import
this module by its plain name."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "CALLBOARD",
    "ROOT",
    "cpu_seconds",
    "create_account",
    "free_port",
    "peak_rss_mib",
    "reply_flow",
    "stop",
    "wait_ready",
]

ROOT = Path(__file__).resolve().parents[1]
CALLBOARD = [sys.executable, "-m", "callboard.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def hook(request):
    await request.body()
    return JSONResponse({"sid": "FN0", "status": "ended"}, status_code=201)

app = Starlette(routes=[Route("/{path:path}", hook, methods=["GET", "POST"])])
"""


def start_serve(
    env: dict[str, str], port: int, serve_args: str, log: Path
) -> subprocess.Popen[bytes]:
    """``callboard serve`` on 127.0.0.1:``port`` as a user starts it, output to ``log``."""
    with log.open("w") as out:
        return subprocess.Popen(
            [*CALLBOARD, "serve", "--host", "127.0.0.1", "--port", str(port), *serve_args.split()],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def start_bare(folder: Path, port: int) -> subprocess.Popen[bytes]:
    """The reference: a bare uvicorn + Starlette endpoint (:data:`BARE_APP`, one process,
    the same loop and HTTP parser) on 127.0.0.1:``port``."""
    (folder / "bare_app.py").write_text(textwrap.dedent(BARE_APP))
    with (folder / "bare.log").open("w") as out:
        return subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "--app-dir", str(folder), "bare_app:app",
                "--port", str(port), "--log-level", "warning", "--no-access-log",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip


def create_account(env: dict[str, str]) -> tuple[str, str]:
    """``callboard accounts create --json`` on ``env``'s database: (Account SID, token)."""
    created = subprocess.run(
        [*CALLBOARD, "accounts", "create", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    account = json.loads(created.stdout)
    return str(account["account_sid"]), str(account["auth_token"])


def _tree(root: int) -> list[int]:
    """The process and its descendants (``callboard serve --workers N`` forks N)."""
    out = [root]
    try:
        kids = Path(f"/proc/{root}/task/{root}/children").read_text().split()
    except OSError:
        kids = []
    for kid in kids:
        out.extend(_tree(int(kid)))
    return out


def cpu_seconds(root: int) -> float:
    """User + system CPU time of a process and its descendants (0.0 off Linux)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in _tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, ValueError, IndexError):
            pass
    return total


def peak_rss_mib(root: int) -> float:
    """The largest peak RSS (VmHWM) of a process and its descendants, in MiB."""
    best = 0
    for pid in _tree(root):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    best = max(best, int(line.split()[1]))
        except OSError:
            pass
    return best / 1024


def wait_ready(
    url: str, proc: subprocess.Popen[Any], log: Path | None = None, timeout: float = 60
) -> None:
    """Until ``url`` answers; exits with the server's log when it dies or never answers."""
    deadline = time.monotonic() + timeout

    def tail() -> str:
        return log.read_text()[-3000:] if log is not None and log.exists() else ""

    while True:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args!r} exited with {proc.returncode}:\n{tail()}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not answer:\n{tail()}") from None
            time.sleep(0.1)


def stop(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM (a clean stop), then SIGKILL after 20 s."""
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def reply_flow() -> dict[str, Any]:
    """Trigger (message or REST) → Set Variables (three Liquid values) → Split Based On
    → Send Message (the reply): the flow of issue 11's throughput bar."""
    offset = {"x": 0, "y": 0}
    return {
        "description": "benchmark: set-variables (3 Liquid) -> split -> reply",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "transitions": [
                    {"event": "incomingMessage", "next": "remember"},
                    {"event": "incomingCall"},
                    {"event": "incomingConversationMessage"},
                    {"event": "incomingRequest", "next": "remember"},
                    {"event": "incomingParent"},
                ],
                "properties": {"offset": offset},
            },
            {
                "name": "remember",
                "type": "set-variables",
                "transitions": [{"event": "next", "next": "route"}],
                "properties": {
                    "variables": [
                        {"key": "who", "value": "{{contact.channel.address | slice: -4, 4}}"},
                        {"key": "said", "value": "{{trigger.message.Body | upcase}}"},
                        {
                            "key": "kind",
                            "value": "{% if trigger.message.Body contains 'new' %}new"
                            "{% else %}old{% endif %}",
                        },
                    ],
                    "offset": offset,
                },
            },
            {
                "name": "route",
                "type": "split-based-on",
                "transitions": [
                    {"event": "noMatch", "next": "reply"},
                    {
                        "event": "match",
                        "next": "reply",
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
                "properties": {"input": "{{flow.variables.kind}}", "offset": offset},
            },
            {
                "name": "reply",
                "type": "send-message",
                "transitions": [{"event": "sent"}, {"event": "failed"}],
                "properties": {
                    "body": "Hi …{{flow.variables.who}}, you said {{flow.variables.said}}",
                    "offset": offset,
                },
            },
        ],
    }
