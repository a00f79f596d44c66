"""The ``callboard`` command line.

Each area keeps its commands in :mod:`callboard.commands` (one module each, exposing
``COMMANDS``: a list of click commands or groups); this module only assembles them.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click

import callboard
import callboard.commands


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(callboard.__version__, prog_name="callboard")
def cli() -> None:
    """Callboard: a self-hosted Twilio Studio.

    Runs Studio flow definitions (the JSON Studio exports), speaks Studio's v2 REST API,
    and lets you talk to flows from the terminal.
    """


def _assemble() -> None:
    for info in sorted(pkgutil.iter_modules(callboard.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"callboard.commands.{info.name}")
        for command in getattr(module, "COMMANDS", []):
            cli.add_command(command)


_assemble()


def main() -> None:
    try:
        cli(prog_name="callboard")
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
