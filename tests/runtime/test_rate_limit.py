"""Issue 13: the per-account REST rate limit -- off by default; when set, the (limit+1)th
REST-created execution of a flow within one second answers 429 / 20429 with Twilio's
body. A fake clock decides what "within one second" is. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from callboard.api.app import create_app
from callboard.api.services import Services
from callboard.cli import cli
from callboard.engine.env import FakeEnv
from callboard.runtime.rate_limit import RateLimited, rest_rate_limit, set_rest_rate_limit
from callboard.runtime.records import Account
from callboard.runtime.service import Callboard
from callboard.runtime.settings import Settings
from tests.api.helpers import assert_error
from tests.runtime.conftest import send_flow


def _flow(service: Callboard, account: Account) -> str:
    return service.create_flow(
        account.sid, friendly_name="f", status="published", definition=send_flow()
    ).sid


def _create(service: Callboard, account: Account, flow_sid: str, i: int) -> str:
    return service.create_execution(account.sid, flow_sid, to=f"+1555010{i:04d}", from_="+1").sid


def test_no_limit_by_default(service: Callboard, account: Account) -> None:
    flow_sid = _flow(service, account)
    assert rest_rate_limit(service.db, account.sid) is None
    for i in range(40):  # all at the same instant of the fake clock
        _create(service, account, flow_sid, i)


def test_twenty_per_second_per_flow_then_429(
    service: Callboard, account: Account, other: Account, env: FakeEnv
) -> None:
    assert set_rest_rate_limit(service.db, account.sid, 20, env.now())
    assert rest_rate_limit(service.db, account.sid) == 20
    flow_sid, second_flow = _flow(service, account), _flow(service, account)
    for i in range(20):
        _create(service, account, flow_sid, i)
    with pytest.raises(RateLimited) as caught:
        _create(service, account, flow_sid, 20)
    assert (caught.value.status, caught.value.code) == (429, 20429)
    assert caught.value.message.startswith("Too Many Requests")
    assert len(service.list_executions(account.sid, flow_sid, page_size=50).items) == 20
    # per flow: another flow of the account is not limited by the first one's traffic
    _create(service, account, second_flow, 0)
    # another account (no limit) is not affected
    theirs = _flow(service, other)
    for i in range(25):
        _create(service, other, theirs, i)
    # messages and calls are not REST-created: they are not limited
    inbound = service.inbound_message(
        account.sid, flow_sid, {"MessageSid": "SM1", "From": "+1999", "To": "+1", "Body": "hi"}
    )
    assert inbound.started
    # a second later the window has moved on
    env.advance(1.001)
    _create(service, account, flow_sid, 21)
    # turned off again
    set_rest_rate_limit(service.db, account.sid, None, env.now())
    for i in range(25):
        _create(service, account, flow_sid, 100 + i)


def test_the_api_answers_twilios_429_body(
    services: Services, service: Callboard, account: Account, env: FakeEnv, tmp_path: Path
) -> None:
    set_rest_rate_limit(service.db, account.sid, 2, env.now())
    flow_sid = _flow(service, account)
    settings = Settings(database_url="sqlite://", data_dir=tmp_path)
    with TestClient(create_app(services, settings)) as c:
        c.auth = (account.sid, account.auth_token)
        url = f"/v2/Flows/{flow_sid}/Executions"
        for i in range(2):
            r = c.post(url, data={"To": f"+1555020000{i}", "From": "+1"})
            assert r.status_code == 201, r.text
        body = assert_error(c.post(url, data={"To": "+15550209999", "From": "+1"}), 429, 20429)
        assert set(body) == {"code", "message", "more_info", "status"}
        assert body["message"].startswith("Too Many Requests")


def test_set_limit_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBOARD_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("CALLBOARD_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    created = runner.invoke(cli, ["accounts", "create", "--json"])
    sid = json.loads(created.stdout)["account_sid"]
    show = runner.invoke(cli, ["accounts", "set-limit", sid, "--show"])
    assert show.exit_code == 0 and "no REST rate limit" in show.output
    on = runner.invoke(cli, ["accounts", "set-limit", sid])
    assert on.exit_code == 0 and "at most 20 REST-created executions" in on.output
    five = runner.invoke(cli, ["accounts", "set-limit", sid, "--per-second", "5"])
    assert "at most 5" in five.output
    assert "at most 5" in runner.invoke(cli, ["accounts", "set-limit", sid, "--show"]).output
    off = runner.invoke(cli, ["accounts", "set-limit", sid, "--off"])
    assert off.exit_code == 0 and "no REST rate limit" in off.output
    bad = runner.invoke(cli, ["accounts", "set-limit", sid, "--per-second", "0"])
    assert bad.exit_code == 2
    both = runner.invoke(cli, ["accounts", "set-limit", sid, "--off", "--per-second", "3"])
    assert both.exit_code == 2 and "one of" in both.output
    missing = runner.invoke(cli, ["accounts", "set-limit", "AC" + "0" * 32])
    assert missing.exit_code == 2 and "no account" in missing.output
