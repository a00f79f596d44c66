"""``callboard accounts`` / ``callboard keys`` against a real (SQLite) database, and the
first-run message of ``callboard serve``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from callboard.channels.config import ChannelConfig
from callboard.cli import cli
from callboard.commands.compose import build_services
from callboard.commands.serve import first_run_message
from callboard.runtime.service import Callboard


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CALLBOARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CALLBOARD_DATABASE_URL", raising=False)
    return CliRunner()


def _service(tmp_path: Path) -> Callboard:
    return build_services(
        f"sqlite:///{tmp_path / 'data' / 'callboard.db'}", channel_config=ChannelConfig()
    ).callboard


def test_accounts_create_json_then_authenticate(run: CliRunner, tmp_path: Path) -> None:
    result = run.invoke(cli, ["accounts", "create", "--friendly-name", "Ops", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["account_sid"].startswith("AC") and len(data["auth_token"]) == 32
    service = _service(tmp_path)
    try:
        account = service.authenticate(data["account_sid"], data["auth_token"])
        assert account is not None and account.friendly_name == "Ops"
    finally:
        service.close()
    listed = run.invoke(cli, ["accounts", "list"])
    assert data["account_sid"] in listed.output and "Ops" in listed.output
    assert data["auth_token"] not in listed.output  # only --json shows tokens


def test_rotate_token_and_keys(run: CliRunner, tmp_path: Path) -> None:
    data = json.loads(run.invoke(cli, ["accounts", "create", "--json"]).stdout)
    sid = data["account_sid"]
    rotated = json.loads(run.invoke(cli, ["accounts", "rotate-token", sid, "--json"]).stdout)
    assert rotated["auth_token"] != data["auth_token"]
    key = run.invoke(cli, ["keys", "create", sid, "--json"])
    assert key.exit_code == 0, key.output
    created = json.loads(key.stdout)
    service = _service(tmp_path)
    try:
        assert service.authenticate(sid, data["auth_token"]) is None
        assert service.authenticate(sid, rotated["auth_token"]) is not None
        found = service.authenticate(created["sid"], created["secret"])
        assert found is not None and found.sid == sid
    finally:
        service.close()
    plain = run.invoke(cli, ["keys", "create", sid])
    assert "shown only now" in plain.output and "SK" in plain.output


@pytest.mark.parametrize(
    "args",
    [
        ["accounts", "rotate-token", "AC" + "0" * 32],
        ["keys", "create", "AC" + "0" * 32],
        ["keys", "delete", "AC" + "0" * 32, "SK" + "0" * 32],
    ],
)
def test_unknown_account_is_a_clear_error(run: CliRunner, args: list[str]) -> None:
    result = run.invoke(cli, args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "no " in result.output


def test_bad_database_url_is_a_clear_error(run: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBOARD_DATABASE_URL", "mysql://nobody@nowhere/db")
    result = run.invoke(cli, ["accounts", "list"])
    assert result.exit_code == 2 and "CALLBOARD_DATABASE_URL" in result.output


def test_first_run_message_says_how_to_log_in(tmp_path: Path) -> None:
    service = build_services(
        f"sqlite:///{tmp_path / 'cb.db'}", channel_config=ChannelConfig()
    ).callboard
    try:
        account = service.create_account()
    finally:
        service.close()
    text = first_run_message(account, "http://127.0.0.1:8080")
    assert account.sid in text and account.auth_token in text
    assert "client.studio.base_url = 'http://127.0.0.1:8080'" in text
    assert f"curl -u {account.sid}:{account.auth_token}" in text
