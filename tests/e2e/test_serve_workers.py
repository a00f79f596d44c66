"""``callboard serve --workers N``: N processes share the port; the first start's account
is created once; SIGTERM stops them all; a SIGKILLed ``serve`` leaves none behind."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.durability import (
    ENDS_AT_ONCE,
    Process,
    create_account,
    create_flow,
    server_env,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _servers(pid: int) -> list[int]:
    """The spawned server processes (not multiprocessing's resource tracker)."""
    return [
        c
        for c in _children(pid)
        if "multiprocessing.spawn"
        in Path(f"/proc/{c}/cmdline").read_bytes().decode(errors="replace")
    ]


def _gone(pids: list[int], seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{p}").exists() and "Z" not in _state(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_workers_share_the_port_and_stop_together(tmp_path: Path) -> None:
    env = server_env(f"sqlite:///{tmp_path / 'cb.db'}", tmp_path)
    server = Process(env, tmp_path, args=("--workers", "2"))
    server.start()  # the first start creates the schema and an account, once
    assert server.proc is not None
    first = server.log()
    assert first.count("Created your first account") == 1
    assert "2 processes" in first
    servers = _servers(server.proc.pid)
    assert len(servers) == 2
    account_sid, token = create_account(env)
    with httpx.Client(base_url=server.url, auth=(account_sid, token), timeout=30) as client:
        flow = create_flow(client, ENDS_AT_ONCE)
        for i in range(20):  # new connections: the kernel spreads them over both
            with httpx.Client(auth=(account_sid, token), timeout=30) as one:
                r = one.post(
                    f"{server.url}/v2/Flows/{flow}/Executions",
                    data={"To": f"+1555000{i:04d}", "From": "+15559990000"},
                )
                assert r.status_code == 201, r.text
                assert r.json()["status"] == "ended"
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(30) == 0
    assert _gone(servers)
    assert "Traceback" not in server.log()
    server.proc = None


def test_a_killed_serve_leaves_no_server_processes(tmp_path: Path) -> None:
    env = server_env(f"sqlite:///{tmp_path / 'cb.db'}", tmp_path)
    server = Process(env, tmp_path, args=("--workers", "2"))
    server.start()
    assert server.proc is not None
    servers = _servers(server.proc.pid)
    assert len(servers) == 2
    server.kill()  # SIGKILL: no clean-up in the parent
    assert _gone(servers)
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{server.url}/callboard/v1/Health", timeout=2)
    server.start()  # the port can be served again at once
    server.stop()
