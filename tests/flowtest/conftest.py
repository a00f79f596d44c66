"""Fixtures for the flow-test command: the example files and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from callboard.cli import cli

FILES = Path(__file__).parent / "files"


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(cli, ["test", *args], catch_exceptions=False)


@pytest.fixture
def files() -> Path:
    return FILES
