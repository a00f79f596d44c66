"""``callboard users …`` (issue 14) against a real SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from callboard.api.services import Services
from callboard.channels.config import ChannelConfig
from callboard.cli import cli
from callboard.commands.compose import build_services
from callboard.runtime.team import Team


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CALLBOARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CALLBOARD_DATABASE_URL", raising=False)
    return CliRunner()


@pytest.fixture
def account_sid(run: CliRunner) -> str:
    return str(json.loads(run.invoke(cli, ["accounts", "create", "--json"]).stdout)["account_sid"])


def _team(tmp_path: Path) -> tuple[Services, Team]:
    url = f"sqlite:///{tmp_path / 'data' / 'callboard.db'}"
    services = build_services(url, channel_config=ChannelConfig())
    return services, services.team


def test_add_list_set_role_reset_remove(run: CliRunner, account_sid: str, tmp_path: Path) -> None:
    added = run.invoke(
        cli, ["users", "add", account_sid, "Ann@Example.com", "--role", "owner", "--json"]
    )
    assert added.exit_code == 0, added.output
    ann = json.loads(added.stdout)
    assert set(ann) == {"sid", "email", "role", "password"}
    assert (
        ann["email"] == "ann@example.com" and ann["role"] == "owner" and len(ann["password"]) >= 12
    )
    piped = run.invoke(
        cli,
        [
            "users",
            "add",
            account_sid,
            "bob@example.com",
            "--role",
            "editor",
            "--password-stdin",
            "--json",
        ],
        input="bob's long password\n",
    )
    assert piped.exit_code == 0, piped.output
    assert "password" not in json.loads(piped.stdout)
    service, team = _team(tmp_path)
    try:
        assert team.login("ann@example.com", ann["password"]) is not None
        assert team.login("bob@example.com", "bob's long password") is not None
        listed = json.loads(run.invoke(cli, ["users", "list", account_sid, "--json"]).stdout)
        assert [(u["email"], u["role"]) for u in listed] == [
            ("ann@example.com", "owner"),
            ("bob@example.com", "editor"),
        ]
        moved = run.invoke(cli, ["users", "set-role", account_sid, "bob@example.com", "admin"])
        assert moved.exit_code == 0 and "admin" in moved.output
        reset = run.invoke(cli, ["users", "reset-password", account_sid, "bob@example.com"])
        assert reset.exit_code == 0, reset.output
        new = reset.output.rsplit(":", 1)[1].strip()
        assert team.login("bob@example.com", "bob's long password") is None
        assert team.login("bob@example.com", new) is not None
        gone = run.invoke(cli, ["users", "remove", account_sid, "bob@example.com"])
        assert gone.exit_code == 0
        assert [u.email for u in team.list_users(account_sid)] == ["ann@example.com"]
    finally:
        service.close()


def test_clear_errors(run: CliRunner, account_sid: str) -> None:
    ghost = run.invoke(cli, ["users", "list", "AC" + "0" * 32])
    assert ghost.exit_code == 2 and "no account" in ghost.output
    bad_role = run.invoke(cli, ["users", "add", account_sid, "x@example.com", "--role", "boss"])
    assert bad_role.exit_code == 2 and "boss" in bad_role.output
    bad_email = run.invoke(cli, ["users", "add", account_sid, "not-an-email", "--role", "viewer"])
    assert bad_email.exit_code == 2 and "not an email address" in bad_email.output
    short = run.invoke(
        cli,
        ["users", "add", account_sid, "s@example.com", "--role", "viewer", "--password-stdin"],
        input="short\n",
    )
    assert short.exit_code == 2 and "at least 8" in short.output
    run.invoke(cli, ["users", "add", account_sid, "own@example.com", "--role", "owner"])
    twice = run.invoke(cli, ["users", "add", account_sid, "own@example.com", "--role", "viewer"])
    assert twice.exit_code == 2 and "already exists" in twice.output
    last = run.invoke(cli, ["users", "set-role", account_sid, "own@example.com", "viewer"])
    assert last.exit_code == 2 and "at least one owner" in last.output
    missing = run.invoke(cli, ["users", "remove", account_sid, "who@example.com"])
    assert missing.exit_code == 2 and "was not found" in missing.output


def test_first_owner_once_with_the_configured_email(
    run: CliRunner, account_sid: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callboard.commands.users import first_owner_message

    monkeypatch.setenv("CALLBOARD_OWNER_EMAIL", "Boss@Example.com")
    service, team = _team(tmp_path)
    try:
        message = first_owner_message(team, account_sid, "http://127.0.0.1:8080")
        assert message is not None and "boss@example.com" in message
        password = message.split("Password:")[1].split()[0]
        assert team.login("boss@example.com", password) is not None
        assert [u.role for u in team.list_users(account_sid)] == ["owner"]
        assert first_owner_message(team, account_sid, "http://127.0.0.1:8080") is None
    finally:
        service.close()
