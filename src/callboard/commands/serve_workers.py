"""``callboard serve`` processes: one uvicorn server per process on one pre-bound socket.

The parent binds the port, creates or upgrades the schema and the first account (once),
then starts ``--workers`` processes (``spawn``: nothing of the parent's threads or
connections is inherited) that each accept on the shared listening socket. Process 0
also runs the background work (timers, outbox jobs, retention, Event Streams delivery;
not with ``--no-background``); the others only answer requests. SIGTERM or Ctrl+C
stops them all (each finishes its requests in flight, like a single server); when one
exits on its own, the others are stopped and ``serve`` exits with an error, for the
service manager to restart it.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from types import FrameType
from typing import Any

from callboard.api.services import Services
from callboard.api.throttle import ThrottleSettings
from callboard.channels.config import ChannelConfig
from callboard.commands.compose import build_background
from callboard.commands.database import load_settings, open_services
from callboard.commands.logs import configure_logging
from callboard.runtime.settings import Settings

__all__ = ["KEEP_ALIVE_SECONDS", "ServerPlan", "default_workers", "run_server", "supervise"]

KEEP_ALIVE_SECONDS = 5  # an idle keep-alive connection is closed after this
STOP_SECONDS = 20  # how long the processes get to finish after SIGTERM


@dataclass(frozen=True, slots=True)
class ServerPlan:
    host: str
    port: int
    access_log: bool
    log_format: str
    listen_url: str  # the call-back base when CALLBOARD_PUBLIC_URL is not set
    background: bool  # timers, outbox, retention, delivery in (one of) these processes
    processes: int  # server processes sharing the port (the throttles divide their limits)

    def channels(self) -> ChannelConfig:
        """The environment's channel settings, with this server's listen address."""
        try:
            return ChannelConfig.from_env(listen_url=self.listen_url)
        except ValueError as exc:
            print(f"callboard serve: {exc}", file=sys.stderr)
            sys.exit(2)


def default_workers() -> int:
    """One process per CPU core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def run_server(
    plan: ServerPlan,
    sock: socket.socket,
    services: Services,
    settings: Settings,
    log_config: dict[str, Any] | None,
    *,
    background: bool,
) -> None:
    """Serve on ``sock`` in this process until stopped (SIGINT/SIGTERM); ``background``:
    also run the worker and Event Streams delivery here."""
    import uvicorn

    from callboard.api.app import create_app
    from callboard.commands.http_protocol import GuardedHttpProtocol

    try:
        jobs = build_background(services, settings) if background else []
        throttle = replace(ThrottleSettings.from_env(), processes=plan.processes)
        app = create_app(services, settings, background=jobs, throttle=throttle)
    except ValueError as exc:
        services.close()
        print(f"callboard serve: {exc}", file=sys.stderr)
        sys.exit(2)
    config = uvicorn.Config(
        app,
        host=plan.host,
        port=plan.port,
        access_log=plan.access_log,
        log_level="info",
        log_config=log_config,
        http=GuardedHttpProtocol,  # closes connections that send no request head
        proxy_headers=False,  # callboard.api.proxies: only CALLBOARD_TRUSTED_PROXIES
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=10,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        services.close()


def _die_with_parent(parent: int) -> None:
    """Linux: SIGKILL this process when the parent dies (a SIGKILLed ``serve`` leaves no
    server processes behind to hold the port)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before prctl
        os._exit(1)


def _child(index: int, plan: ServerPlan, sock: socket.socket, parent: int) -> None:
    """One server process (the ``spawn`` target)."""
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C: the parent stops us (SIGTERM)
    log_config = configure_logging(plan.log_format)
    settings = load_settings("serve")
    services = open_services("serve", settings=settings, channel_config=plan.channels())
    signal.signal(signal.SIGINT, signal.default_int_handler)
    run_server(
        plan, sock, services, settings, log_config, background=plan.background and index == 0
    )


def supervise(plan: ServerPlan, sock: socket.socket, count: int) -> int:
    """Start ``count`` server processes on ``sock``; returns the exit status once they
    have all stopped (0 after SIGTERM/SIGINT, 1 when one exited on its own)."""
    ctx = multiprocessing.get_context("spawn")
    # /metrics adds up every process's counters (callboard.api.metrics.Metrics)
    metrics_dir = tempfile.mkdtemp(prefix="callboard-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir  # the children inherit it
    procs = [
        ctx.Process(target=_child, args=(i, plan, sock, os.getpid()), name=f"callboard-serve-{i}")
        for i in range(count)
    ]
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for p in procs:
            p.start()
        sock.close()  # the children hold it
        while not stopping and all(p.is_alive() for p in procs):
            time.sleep(0.2)
    finally:
        for p in procs:
            if p.is_alive() and p.pid is not None:
                os.kill(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for p in procs:
            p.join(max(0.1, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(5)
        for s, handler in previous.items():
            signal.signal(s, handler)
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        shutil.rmtree(metrics_dir, ignore_errors=True)
    if stopping:
        return 0
    print("callboard serve: a server process exited; stopped the others", file=sys.stderr)
    return 1
