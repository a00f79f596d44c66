"""Several Callboard processes on one database, for the scale-out tests: ``callboard
serve`` and ``callboard worker`` processes started together (not one after the other),
stopped with SIGTERM or killed with SIGKILL."""

from __future__ import annotations

import functools
import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

import httpx

from tests.e2e.durability import cli
from tests.e2e.server import free_port


@functools.cache
def serve_args() -> tuple[str, ...]:
    """``--workers 1`` when ``serve`` has that option (one process per server here)."""
    from callboard.commands.serve import serve

    return ("--workers", "1") if any(p.name == "workers" for p in serve.params) else ()


class Proc:
    """One ``callboard serve`` (``kind='serve'``, on its own port) or ``callboard worker``."""

    def __init__(self, kind: str, env: dict[str, str], tmp: Path, name: str) -> None:
        self.kind = kind
        self.env = env
        self.tmp = tmp
        self.name = name
        self.port = free_port() if kind == "serve" else 0
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.logfile = tmp / f"{name}.log"

    def launch(self) -> None:
        args = (
            ["serve", "--host", "127.0.0.1", "--port", str(self.port), *serve_args()]
            if self.kind == "serve"
            else ["worker"]
        )
        with self.logfile.open("a") as log:
            self.proc = subprocess.Popen(cli(*args), env=self.env, stdout=log, stderr=log)

    def ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.log()}")
        if self.kind == "worker":
            return "running" in self.log()
        try:
            return httpx.get(f"{self.url}/callboard/v1/Health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        assert self.proc is not None
        self.proc.wait(timeout=30)
        self.proc = None

    def stop(self, timeout: float = 30) -> int | None:
        if self.proc is None:
            return None
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            return None
        finally:
            self.proc = None


def start_together(procs: Iterable[Proc], timeout: float = 90) -> None:
    """Launch every process at once, then wait until each answers (or raise)."""
    procs = list(procs)
    for p in procs:
        p.launch()
    deadline = time.monotonic() + timeout
    waiting = list(procs)
    while waiting:
        waiting = [p for p in waiting if not p.ready()]
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{[p.name for p in waiting]} did not come up")
        time.sleep(0.1)


def stop_all(procs: Iterable[Proc]) -> None:
    for p in procs:
        p.stop()
