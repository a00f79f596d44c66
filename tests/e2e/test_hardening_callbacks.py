"""Cross-account call-back hijack (issue 17, item 3), against a real server with no
``CALLBOARD_PUBLIC_URL`` and a Twilio stand-in: account B's validly signed webhook with
``X-Forwarded-Host: attacker.example`` must not steer the call-back URLs that account
A's messages give Twilio."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from callboard.api.signatures import sign
from tests.e2e.attack import create_flow, definition, state, trigger, wait_for
from tests.e2e.server import _cli, create_account, database, running_server
from tests.e2e.twilio_standin import twilio_standin

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

TWILIO_SID = "AC" + "5" * 32
TWILIO_TOKEN = "twilio-token-of-account-a"


def test_one_accounts_webhook_does_not_steer_anothers_call_backs(tmp_path: Path) -> None:
    with (
        twilio_standin() as standin,
        database("sqlite", tmp_path) as url,
        running_server(url, tmp_path, CALLBOARD_TWILIO_API_URL=standin.url) as server,
    ):
        done = subprocess.run(
            _cli(
                "accounts",
                "set-twilio",
                server.account_sid,
                "--twilio-account-sid",
                TWILIO_SID,
                "--twilio-auth-token",
                TWILIO_TOKEN,
            ),
            env=server.env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        b_sid, b_token = create_account(server.database_url)

        # Account B (simulator channel: it signs with its own Auth Token) forges the host.
        with httpx.Client(base_url=server.url, auth=(b_sid, b_token)) as cb:
            flow_b = create_flow(cb, definition(trigger()))
        path = f"/v1/Accounts/{b_sid}/Flows/{flow_b}"
        params = {
            "MessageSid": "SM" + "6" * 32,
            "AccountSid": b_sid,
            "From": "+15550001111",
            "To": "+15559990000",
            "Body": "hello",
        }
        forged = {"X-Forwarded-Host": "attacker.example", "X-Forwarded-Proto": "https"}
        signature = sign("https://attacker.example" + path, params, b_token)
        httpx.post(
            server.url + path, data=params, headers={"X-Twilio-Signature": signature, **forged}
        )

        # Account A sends a message through Twilio: its StatusCallback is this server.
        with httpx.Client(base_url=server.url, auth=(server.account_sid, server.auth_token)) as ca:
            flow_a = create_flow(
                ca,
                definition(
                    trigger(incomingRequest="say"),
                    state("say", "send-message", {"body": "hi"}, sent=None, failed=None),
                ),
            )
            created = ca.post(
                f"/v2/Flows/{flow_a}/Executions",
                data={"To": "+15550002222", "From": "+15550003333"},
            )
            assert created.status_code == 201, created.text
        assert wait_for(lambda: standin.sent("Messages"), 30)
        callback = standin.sent("Messages")[-1].get("StatusCallback", "")
    assert "attacker.example" not in callback
    assert callback.startswith(server.url + "/v1/Accounts/" + server.account_sid)
