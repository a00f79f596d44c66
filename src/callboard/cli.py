"""The ``callboard`` command line.

Each area keeps its commands in :mod:`callboard.commands` (one module each, exposing
``COMMANDS``). This module names them in :data:`COMMANDS_BY_NAME` and imports a command's
module only when that command runs, so ``callboard chat`` does not pay for the server's
imports. ``tests/test_cli.py`` checks that the table lists every command there is.
"""

from __future__ import annotations

import importlib
import sys

import click

import callboard

# command name -> (module, attribute, modules that add sub-commands to it)
COMMANDS_BY_NAME: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "accounts": (
        "callboard.commands.accounts",
        "accounts",
        ("callboard.commands.twilio_accounts", "callboard.commands.limits"),
    ),
    "call": ("callboard.commands.call", "call", ()),
    "chat": ("callboard.commands.chat", "chat", ()),
    "flows": ("callboard.commands.flows", "flows", ()),
    "keys": ("callboard.commands.accounts", "keys", ()),
    "purge": ("callboard.commands.purge", "purge_command", ()),
    "serve": ("callboard.commands.serve", "serve", ()),
    "users": ("callboard.commands.users", "users", ()),  # issue 14 (teams)
    "test": ("callboard.commands.flowtest", "test_command", ()),
    "worker": ("callboard.commands.worker", "worker", ()),
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS_BY_NAME)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS_BY_NAME.get(cmd_name)
        if entry is None:
            return None
        module_name, attribute, extensions = entry
        command = getattr(importlib.import_module(module_name), attribute)
        for extension in extensions:
            importlib.import_module(extension)
        assert isinstance(command, click.Command)
        return command


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(callboard.__version__, prog_name="callboard")
def cli() -> None:
    """Callboard: a self-hosted Twilio Studio.

    Runs Studio flow definitions (the JSON Studio exports), speaks Studio's v2 REST API,
    and lets you talk to flows from the terminal. Start with `callboard serve`, then open
    the printed URL; `callboard COMMAND --help` explains each command.
    """


def main() -> None:
    try:
        cli(prog_name="callboard")
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
