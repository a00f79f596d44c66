"""``callboard test [PATH…]``: run flow tests (golden conversations); docs/testing-flows.md.

Exit status: 0 every test passed, 1 a test failed, 2 a bad test file or flow.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from callboard.commands.compose import flow_test_driver
from callboard.flowtest.http_driver import HttpDriver
from callboard.flowtest.junit import write_junit
from callboard.flowtest.model import TestFileError
from callboard.flowtest.runner import TestResult
from callboard.flowtest.session import DriverFactory, Session, find_files

__all__ = ["COMMANDS", "test_command"]

MARK = {"passed": "PASS", "failed": "FAIL", "error": "ERROR"}


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("-k", "pattern", metavar="PATTERN", help="Only tests whose name matches.")
@click.option("--junit", "junit", type=click.Path(dir_okay=False), help="Write JUnit XML here.")
@click.option("--coverage", is_flag=True, help="Print the widgets and transitions not taken.")
@click.option("--coverage-json", type=click.Path(dir_okay=False), help="Write coverage as JSON.")
@click.option("-j", "--jobs", type=int, default=0, help="Parallel processes (default: CPUs).")
@click.option("--server", metavar="URL", help="Run against a Callboard server's stored flow.")
@click.option("--account", metavar="AC…", help="Account SID (or API key) for --server.")
@click.option("--token", metavar="TOKEN", help="Auth token (or key secret) for --server.")
def test_command(
    paths: tuple[str, ...],
    pattern: str | None,
    junit: str | None,
    coverage: bool,
    coverage_json: str | None,
    jobs: int,
    server: str | None,
    account: str | None,
    token: str | None,
) -> None:
    """Run the flow tests in PATH… (files, or folders holding *.test.yaml; default: .)."""
    session = Session()
    try:
        files = find_files(paths)
    except TestFileError as exc:
        click.echo(f"error: {exc.text()}", err=True)
        sys.exit(2)
    if not files:
        click.echo("no test files (*.test.yaml) found", err=True)
        sys.exit(2)
    session.load(files)
    for error in session.errors:
        click.echo(f"error: {error.text()}", err=True)
    factory: DriverFactory = flow_test_driver
    if server:
        if not account or not token:
            click.echo("error: --server needs --account and --token", err=True)
            sys.exit(2)
        factory = functools.partial(HttpDriver, server, account, token)
    session.run(factory, pattern, jobs if not server else max(jobs, 1), _line)
    for r in session.results:
        if r.failure is not None:
            click.echo(f"\n{MARK[r.status]} {r.name} ({r.file})\n{r.failure.text()}")
    if coverage or coverage_json:
        reports = session.coverage()
        if coverage:
            click.echo("\ncoverage:")
            for c in reports:
                click.echo(c.text())
        if coverage_json:
            data = [c.to_json() for c in reports]
            Path(coverage_json).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if junit:
        write_junit(junit, session.results)
    counts = {s: sum(1 for r in session.results if r.status == s) for s in MARK}
    summary = f"{counts['passed']} passed, {counts['failed']} failed"
    if counts["error"] or session.errors:
        summary += f", {counts['error'] + len(session.errors)} errors"
    click.echo(f"\n{summary} ({len(session.results)} tests in {len(session.files)} files)")
    sys.exit(session.exit_status())


def _line(r: TestResult) -> None:
    click.echo(f"{MARK[r.status]:5} {r.name}  ({r.file}, {r.seconds:.2f}s)")


COMMANDS = [test_command]
