"""``callboard purge`` against a real SQLite database whose executions are old."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from callboard.channels.config import ChannelConfig
from callboard.cli import cli
from callboard.commands.compose import build_services
from callboard.engine.env import FakeEnv
from tests.runtime.conftest import ask_flow, send_flow


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CALLBOARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CALLBOARD_DATABASE_URL", raising=False)
    for name in ("CALLBOARD_RETENTION_DAYS_AFTER_END", "CALLBOARD_STUCK_EXECUTION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def _old_data(tmp_path: Path) -> None:
    """Executions made long ago (a clock set in the past): 3 ended, 1 stuck."""
    svc = build_services(
        f"sqlite:///{tmp_path / 'data' / 'callboard.db'}",
        env=FakeEnv(datetime(2020, 1, 1, tzinfo=UTC)),
        channel_config=ChannelConfig(),
    ).callboard
    try:
        account = svc.create_account("a")
        send = svc.create_flow(
            account.sid, friendly_name="s", status="published", definition=send_flow()
        )
        ask = svc.create_flow(
            account.sid, friendly_name="a", status="published", definition=ask_flow()
        )
        for i in range(3):
            svc.create_execution(account.sid, send.sid, to=f"+1{i}", from_="+2")
        svc.create_execution(account.sid, ask.sid, to="+19", from_="+2")
    finally:
        svc.close()


def _executions(tmp_path: Path) -> int:
    svc = build_services(
        f"sqlite:///{tmp_path / 'data' / 'callboard.db'}", channel_config=ChannelConfig()
    ).callboard
    try:
        account = svc.list_accounts()[0]
        return sum(
            len(svc.list_executions(account.sid, f.sid).items)
            for f in svc.list_flows(account.sid).items
        )
    finally:
        svc.close()


def test_dry_run_then_purge(run: CliRunner, tmp_path: Path) -> None:
    _old_data(tmp_path)
    dry = run.invoke(cli, ["purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would delete 3 ended execution(s)" in dry.output and "1 stuck" in dry.output
    assert _executions(tmp_path) == 4
    done = run.invoke(cli, ["purge", "--batch-size", "2"])
    assert done.exit_code == 0, done.output
    assert "Deleted 3 ended execution(s)" in done.output and "deleted 1 stuck" in done.output
    assert _executions(tmp_path) == 0
    again = run.invoke(cli, ["purge", "-q"])
    assert "Deleted 0 ended execution(s)" in again.output


def test_configurable_periods_and_bad_settings(
    run: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _old_data(tmp_path)
    monkeypatch.setenv("CALLBOARD_RETENTION_DAYS_AFTER_END", "100000")
    monkeypatch.setenv("CALLBOARD_STUCK_EXECUTION_DAYS", "100000")
    kept = run.invoke(cli, ["purge"])
    assert kept.exit_code == 0 and "100000 day(s) after the end" in kept.output
    assert _executions(tmp_path) == 4
    monkeypatch.setenv("CALLBOARD_STUCK_EXECUTION_DAYS", "never")
    bad = run.invoke(cli, ["purge"])
    assert bad.exit_code == 2 and "CALLBOARD_STUCK_EXECUTION_DAYS" in bad.output
    assert "Traceback" not in bad.output


def test_help_names_the_settings(run: CliRunner) -> None:
    result = run.invoke(cli, ["purge", "--help"])
    assert result.exit_code == 0
    assert "--dry-run" in result.output and "CALLBOARD_RETENTION_DAYS_AFTER_END" in result.output
