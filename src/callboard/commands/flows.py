"""``callboard flows ...``: work with Studio flow definition files.

``callboard flows validate FILE...`` checks definitions the way Studio's Validate
endpoint does (see :mod:`callboard.validation.definition` and docs/validation.md).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from callboard.flow.model import FlowFormatError, parse_flow_text
from callboard.validation.definition import ValidationReport, validate_flow

__all__ = ["COMMANDS", "flows", "validate_command"]

EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_UNREADABLE = 2


@click.group("flows")
def flows() -> None:
    """Work with Studio flow definition files (the JSON Studio exports)."""


@dataclass(frozen=True, slots=True)
class _Outcome:
    file: str
    report: ValidationReport | None = None
    failure: str = ""  # why the file could not be read or decoded (a whole line)

    def to_json(self) -> dict[str, Any]:
        if self.report is None:
            return {"file": self.file, "valid": False, "error": self.failure}
        return {"file": self.file, **self.report.to_json()}


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    return Path(name).read_bytes()


def _check(name: str) -> _Outcome:
    shown = "<stdin>" if name == "-" else name
    try:
        text = _read(name)
    except OSError as exc:
        return _Outcome(shown, failure=f"{shown}: cannot read the file: {exc.strerror or exc}")
    try:
        data = parse_flow_text(text, source=shown)
    except FlowFormatError as exc:
        return _Outcome(shown, failure=exc.message)
    return _Outcome(shown, report=validate_flow(data))


VALIDATE_HELP = """Check Studio flow definition files the way Studio's Validate endpoint does.

\b
Each FILE (a flow definition JSON file; - reads standard input) is checked for what
Studio refuses with error 81022: wrong JSON types, missing required keys, unknown widget
types or events, transitions to widgets that don't exist, invalid split conditions, and
each widget's own rules. Every problem is reported, one line each:
  flow.json: #/states/3/properties/timeout: integer found, string expected
A file without errors prints "FILE: valid".

\b
Warnings (valid for Studio, but likely to misbehave at run time: broken Liquid, an
invalid regex in a split, widgets nothing leads to) are shown with --warnings.

\b
Exit status: 0 when every file is valid, 1 when any file has errors (or warnings, with
--strict), 2 when a file cannot be read or is not JSON (that wins over 1).
"""


@flows.command("validate", help=VALIDATE_HELP)
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of lines.")
@click.option("-w", "--warnings", "show_warnings", is_flag=True, help="Print warnings too.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit status 1).")
def validate_command(
    files: tuple[str, ...], as_json: bool, show_warnings: bool, strict: bool
) -> None:
    outcomes = [_check(name) for name in files]
    status = EXIT_VALID
    for outcome in outcomes:
        if outcome.report is None:
            status = EXIT_UNREADABLE
        elif status == EXIT_VALID and (
            outcome.report.errors or (strict and outcome.report.warnings)
        ):
            status = EXIT_INVALID
    if as_json:
        click.echo(json.dumps({"files": [o.to_json() for o in outcomes]}, indent=2))
    else:
        for outcome in outcomes:
            _print(outcome, show_warnings or strict)
    sys.exit(status)


def _print(outcome: _Outcome, show_warnings: bool) -> None:
    if outcome.report is None:
        click.echo(outcome.failure, err=True)
        return
    report = outcome.report
    for problem in report.errors:
        click.echo(f"{outcome.file}: {problem.property_path}: {problem.message}")
    if show_warnings:
        for problem in report.warnings:
            click.echo(f"{outcome.file}: warning: {problem.property_path}: {problem.message}")
    if not report.errors:
        click.echo(f"{outcome.file}: valid")


COMMANDS = [flows]
