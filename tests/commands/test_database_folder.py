"""Which database commands use: named on stderr, the same from any folder, and never
created by a command that only reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from callboard.cli import cli
from callboard.commands.database import NO_DATABASE_EXIT


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No CALLBOARD_* database settings: the default (user data) folder, under tmp."""
    monkeypatch.delenv("CALLBOARD_DATABASE_URL", raising=False)
    monkeypatch.delenv("CALLBOARD_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "callboard" / "callboard.db"


@pytest.mark.parametrize(
    "args", [["accounts", "list"], ["accounts", "list", "--json"], ["purge", "--dry-run"]]
)
def test_read_only_commands_never_create_a_database(
    xdg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == NO_DATABASE_EXIT, result.output
    assert result.stdout == ""
    assert f"database sqlite:///{xdg}" in result.stderr
    assert "no Callboard database" in result.stderr and "callboard serve" in result.stderr
    assert not xdg.exists() and not xdg.parent.exists()
    assert not (tmp_path / "data").exists()


def test_keys_list_never_creates_a_database(xdg: Path) -> None:
    result = CliRunner().invoke(cli, ["keys", "list", "AC" + "0" * 32])
    assert result.exit_code == NO_DATABASE_EXIT and not xdg.exists()


def test_commands_from_any_folder_use_the_same_database(
    xdg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    monkeypatch.chdir(tmp_path / "one")
    created = CliRunner().invoke(cli, ["accounts", "create", "--json"])
    assert created.exit_code == 0, created.output
    sid = json.loads(created.stdout)["account_sid"]
    assert xdg.is_file()
    monkeypatch.chdir(tmp_path / "two")
    listed = CliRunner().invoke(cli, ["accounts", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [a["account_sid"] for a in json.loads(listed.stdout)] == [sid]
    # exactly one line on stderr names the database
    lines = [line for line in listed.stderr.splitlines() if "database" in line]
    assert lines == [f"callboard accounts: database sqlite:///{xdg}"]
    assert not any((tmp_path / d / "data").exists() for d in ("one", "two"))


@pytest.mark.postgres
def test_an_empty_postgresql_database_is_not_initialised_by_a_read(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLBOARD_DATABASE_URL", postgres_url)
    result = CliRunner().invoke(cli, ["accounts", "list"])
    assert result.exit_code == NO_DATABASE_EXIT, result.output
    from sqlalchemy import create_engine, inspect

    from callboard.store.db import normalise_url

    engine = create_engine(normalise_url(postgres_url))
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_the_installed_command_names_its_database(xdg: Path, tmp_path: Path) -> None:
    """Through the real entry point: stdout stays clean for scripts."""
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    env.pop("CALLBOARD_DATABASE_URL", None)
    env.pop("CALLBOARD_DATA_DIR", None)
    done = subprocess.run(
        [sys.executable, "-m", "callboard.cli", "accounts", "create", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["account_sid"].startswith("AC")
    assert done.stderr.strip() == f"callboard accounts: database sqlite:///{xdg}"
