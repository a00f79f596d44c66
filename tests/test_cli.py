"""The CLI table names every command the command modules define, and --help works."""

from __future__ import annotations

import importlib
import pkgutil

import click
from click.testing import CliRunner

import callboard.commands
from callboard.cli import COMMANDS_BY_NAME, cli


def test_every_command_module_is_reachable() -> None:
    defined: dict[str, click.Command] = {}
    for info in pkgutil.iter_modules(callboard.commands.__path__):
        module = importlib.import_module(f"callboard.commands.{info.name}")
        for command in getattr(module, "COMMANDS", []):
            assert command.name is not None
            defined[command.name] = command
    assert set(defined) == set(COMMANDS_BY_NAME)
    for name, command in defined.items():
        assert cli.get_command(click.Context(cli), name) is command


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS_BY_NAME:
        assert f"  {name} " in result.output


def test_set_twilio_is_an_accounts_subcommand() -> None:
    result = CliRunner().invoke(cli, ["accounts", "--help"])
    assert result.exit_code == 0
    assert "set-twilio" in result.output


def test_unknown_command_is_a_clear_error() -> None:
    result = CliRunner().invoke(cli, ["nope"])
    assert result.exit_code == 2
    assert "No such command 'nope'" in result.output
