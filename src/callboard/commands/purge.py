"""``callboard purge``: apply the data-retention rules now."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from callboard.commands.database import load_settings, open_services
from callboard.runtime.retention import PurgeReport, count, purge

__all__ = ["COMMANDS", "purge_command"]

HELP = """Delete execution data past its retention period, now.

\b
The rules (Studio's documented retention policy):
  * an execution that ended more than CALLBOARD_RETENTION_DAYS_AFTER_END days ago
    (default 30) is deleted with its steps, contexts and timers;
  * an execution still active CALLBOARD_STUCK_EXECUTION_DAYS days after it was
    created (default 60) is considered stuck: it is ended (Event Streams
    subscribers get execution.ended, reason STUCK) and deleted.
Messages are kept. The server and `callboard worker` run the same job every hour
(CALLBOARD_RETENTION_INTERVAL_SECONDS); this command runs it at once.

Deletes in batches (--batch-size executions per transaction), so a running server
is never blocked for long. --dry-run only counts (and never creates a database).

\b
Environment:
  CALLBOARD_DATABASE_URL               as for `callboard serve`
  CALLBOARD_RETENTION_DAYS_AFTER_END   days kept after the end (default 30)
  CALLBOARD_STUCK_EXECUTION_DAYS       days before an active execution is stuck (default 60)
"""


def _fail(message: str) -> NoReturn:
    click.echo(f"callboard purge: {message}", err=True)
    sys.exit(2)


def _summary(report: PurgeReport) -> str:
    if report.dry_run:
        return (
            f"Would delete {report.expired_deleted} ended execution(s) past retention and "
            f"end and delete {report.stuck_deleted} stuck execution(s). Nothing was changed."
        )
    return (
        f"Deleted {report.expired_deleted} ended execution(s) past retention; ended and "
        f"deleted {report.stuck_deleted} stuck execution(s)."
    )


@click.command("purge", help=HELP, short_help="Delete execution data past its retention period.")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@click.option(
    "--batch-size",
    default=500,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Executions deleted per transaction.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; only the summary.")
def purge_command(dry_run: bool, batch_size: int, quiet: bool) -> None:
    settings = load_settings("purge")
    try:
        policy = settings.retention_policy()
    except ValueError as exc:
        _fail(str(exc))
    # with the channels: a stuck execution's live calls are hung up (via the worker)
    service = open_services("purge", read_only=dry_run, settings=settings).callboard
    try:
        click.echo(
            f"Retention: {policy.days_after_end:g} day(s) after the end; "
            f"stuck after {policy.stuck_days:g} day(s)."
        )
        found = count(service.executor, policy)
        if dry_run or found.total == 0:
            report = purge(service.executor, policy, dry_run=True)
            if not dry_run:
                report = PurgeReport()
        elif quiet:
            report = purge(service.executor, policy, batch_size=batch_size)
        else:
            with click.progressbar(
                length=found.total, label="Purging executions", show_pos=True, file=sys.stderr
            ) as bar:
                report = purge(service.executor, policy, batch_size=batch_size, progress=bar.update)
        click.echo(_summary(report))
    finally:
        service.close()


COMMANDS = [purge_command]
