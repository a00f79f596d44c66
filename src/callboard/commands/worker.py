"""``callboard worker``: background work without the HTTP server."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any, NoReturn

import click

from callboard.commands.compose import build_background
from callboard.commands.database import load_settings, open_services
from callboard.commands.logs import LOG_FORMATS, configure_logging
from callboard.events.delivery import DeliveryConfig

__all__ = ["COMMANDS", "worker"]

HELP = """Run Callboard's background work without the HTTP server: Event Streams delivery
(webhook and Redis Streams sinks, retries), durable timers (widget timeouts), outbox
jobs (HTTP requests, sends; retried with back-off) and hourly data retention.

Run it next to `callboard serve` (which does the same work in-process) to add delivery
capacity, or on another machine sharing the same PostgreSQL database. Several workers
can run at once; deliveries are claimed so each is sent by one of them at a time.

\b
Environment:
  CALLBOARD_DATABASE_URL              as for `callboard serve`
  CALLBOARD_RETENTION_DAYS_AFTER_END  delete executions N days after they end (30)
  CALLBOARD_STUCK_EXECUTION_DAYS      end and delete ones active after N days (60)
  CALLBOARD_RETENTION_INTERVAL_SECONDS  how often retention runs (3600; 0 = never)
  CALLBOARD_EVENTS_MAX_RETRY_SECONDS  give up on an event after this long (default 14400)
  CALLBOARD_EVENTS_RETENTION_SECONDS  keep delivered events this long (default 86400)
  CALLBOARD_EVENTS_CONCURRENCY        sinks sent to at once (default 8)

Stops on Ctrl+C or SIGTERM, finishing the sends in progress.
"""


def _fail(message: str) -> NoReturn:
    click.echo(f"callboard worker: {message}", err=True)
    sys.exit(2)


@click.command("worker", help=HELP, short_help="Run background delivery without the server.")
@click.option("--events-only", is_flag=True, help="Only deliver events (no timers or outbox jobs).")
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    default="text",
    show_default=True,
    help="json: one JSON object per line, with execution SIDs.",
)
def worker(events_only: bool, log_format: str) -> None:
    settings = load_settings("worker")
    try:
        settings.retention_policy()
        config = DeliveryConfig.from_env()
    except ValueError as exc:
        _fail(str(exc))
    configure_logging(log_format)
    # with the channels: sends through Twilio for accounts that have it
    services = open_services("worker", settings=settings)
    stop = threading.Event()

    def _signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _signal)
    signal.signal(signal.SIGINT, _signal)
    background = build_background(services, settings, jobs=not events_only, events=config)
    for job in background:
        job.start()
    click.echo(
        "callboard worker: running" + (" (events only)" if events_only else "") + "; Ctrl+C stops"
    )
    try:
        while not stop.wait(1.0):
            pass
    finally:
        for job in reversed(background):
            job.stop()
        services.close()
        click.echo("callboard worker: stopped")


COMMANDS = [worker]
