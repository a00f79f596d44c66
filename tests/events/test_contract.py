"""Schemathesis against a running server with Twilio's Events v1 OpenAPI (the contract,
read from ``<repo>/../shared/twilio-openapi``): no 5xx, documented responses match their
schemas and content types, data the schema forbids is rejected."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Server, running_server
from tests.e2e.test_schemathesis import CHECKS_TOML

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
EVENTS_SPEC = REPO / ".." / "shared" / "twilio-openapi" / "twilio_events_v1.json"
STEP = "com.twilio.studio.flow.step.ended"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("events-contract")
    # schemathesis sends wrong credentials on purpose and wants 401 every time: the
    # wrong-credential throttling (429, tests/e2e/test_hardening_dos.py) is off here
    with running_server(
        f"sqlite:///{tmp / 'st.db'}", tmp, CALLBOARD_AUTH_MAX_FAILURES="1000000000"
    ) as srv:
        yield srv


def seed(server: Server) -> dict[str, str]:
    auth = (server.account_sid, server.auth_token)
    with httpx.Client(base_url=server.url, auth=auth, timeout=30) as http:
        sink = http.post(
            "/v1/Sinks",
            data={
                "Description": "seed",
                "SinkType": "webhook",
                "SinkConfiguration": json.dumps({"destination": "http://127.0.0.1:9/"}),
            },
        ).json()
        sub = http.post(
            "/v1/Subscriptions",
            data={
                "Description": "seed",
                "SinkSid": sink["sid"],
                "Types": json.dumps({"type": STEP}),
            },
        ).json()
    return {"DG": sink["sid"], "DF": sub["sid"]}


def write_config(tmp: Path, sids: dict[str, str]) -> Path:
    dg, df = sids["DG"], sids["DF"]
    text = f"""
[generation]
allow-extra-parameters = false
with-security-parameters = false

[checks]
{CHECKS_TOML}

[[operations]]
include-operation-id = ["FetchSink", "UpdateSink", "CreateSinkTest", "CreateSinkValidate"]
parameters = {{ "path.Sid" = "{dg}" }}

[[operations]]
include-operation-id = ["FetchSubscription", "UpdateSubscription"]
parameters = {{ "path.Sid" = "{df}" }}

[[operations]]
include-operation-id = ["ListSubscribedEvent", "FetchSubscribedEvent", "UpdateSubscribedEvent"]
parameters = {{ "path.SubscriptionSid" = "{df}", "path.Type" = "{STEP}" }}

[[operations]]
include-operation-id = ["FetchSchema", "ListSchemaVersion", "FetchSchemaVersion"]
parameters = {{ "path.Id" = "Studio.FlowStepEvent" }}

# Twilio's spec leaves SinkConfiguration and Types untyped ("any"), so schemathesis
# cannot make data that the schema forbids there.
[[operations]]
include-operation-id = ["CreateSink", "CreateSubscription"]
checks.negative_data_rejection.enabled = false
"""
    path = tmp / "schemathesis.toml"
    path.write_text(text)
    return path


def test_twilio_events_v1_contract(server: Server, tmp_path: Path) -> None:
    if not EVENTS_SPEC.is_file():
        pytest.skip(f"{EVENTS_SPEC} is not available")
    config = write_config(tmp_path, seed(server))
    cmd = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(config),
        "run",
        str(EVENTS_SPEC.resolve()),
        "--url",
        server.url,
        "--auth",
        f"{server.account_sid}:{server.auth_token}",
        "--max-examples",
        "5",
        "--seed",
        "20240601",
        "--workers",
        "1",
        "--phases",
        "examples,coverage,fuzzing",
        "--no-shrink",
        "--suppress-health-check",
        "all",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
