"""Schemathesis against a running server: Twilio's Studio v2 OpenAPI (the contract, read
from ``<repo>/../shared/twilio-openapi``) and Callboard's own ``/openapi.json``.

Checks: no 5xx, every documented response matches its schema and content type, and
data the schema forbids is rejected with a 4xx. Bounded: few examples per operation and
a time budget.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Server, running_server
from tests.e2e.test_studio_api_twilio import SENDS

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
TWILIO_SPEC = REPO / ".." / "shared" / "twilio-openapi" / "twilio_studio_v2.json"
# Studio's OpenAPI documents only the success responses, so status_code_conformance
# (which would flag every 400/404) stays off; positive_data_acceptance too (random SIDs
# that match the pattern rightly answer 404).
ENABLED = [
    "not_a_server_error",
    "response_schema_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "unsupported_method",
    "ignored_auth",
    "missing_required_header",
]
DISABLED = ["status_code_conformance", "positive_data_acceptance"]
CHECKS_TOML = "\n".join(
    [f"{name}.enabled = true" for name in ENABLED]
    + [f"{name}.enabled = false" for name in DISABLED]
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("schemathesis")
    # Schemathesis sends wrong credentials on purpose, many times, and expects 401 each
    # time: wrong-credential throttling (429, tests/e2e/test_hardening_dos.py) is off here.
    with running_server(
        f"sqlite:///{tmp / 'st.db'}", tmp, CALLBOARD_AUTH_MAX_FAILURES="1000000000"
    ) as srv:
        yield srv


def seed(server: Server) -> dict[str, str]:
    """A real flow, execution and step, so that schemathesis also reaches existing
    resources (and checks their bodies against the schema), not only 404s."""
    auth = (server.account_sid, server.auth_token)
    with httpx.Client(base_url=server.url, auth=auth, timeout=30) as http:
        flow = http.post(
            "/v2/Flows",
            data={"FriendlyName": "st", "Status": "published", "Definition": json.dumps(SENDS)},
        ).json()
        ex = http.post(
            f"/v2/Flows/{flow['sid']}/Executions", data={"To": "+15551230000", "From": "+1555"}
        ).json()
        steps = http.get(f"/v2/Flows/{flow['sid']}/Executions/{ex['sid']}/Steps").json()
    return {"FW": flow["sid"], "FN": ex["sid"], "FT": steps["steps"][0]["sid"]}


def write_config(tmp: Path, sids: dict[str, str]) -> Path:
    """Known SIDs for the read and update operations (deletes keep random SIDs so the
    seeded resources survive); no extra query parameters (Twilio ignores unknown ones,
    and so does Callboard)."""
    fw, fn, ft = sids["FW"], sids["FN"], sids["FT"]
    flow_ops = '"FetchFlow", "UpdateFlow", "ListFlowRevision", "FetchFlowRevision", ' + (
        '"FetchTestUser"'
    )
    exec_ops = '"FetchExecution", "UpdateExecution"'
    text = f"""
[generation]
allow-extra-parameters = false
with-security-parameters = false

[checks]
{CHECKS_TOML}

[[operations]]
include-operation-id = [{flow_ops}]
parameters = {{ "path.Sid" = "{fw}" }}

# One value of an array form field is a one-element array (twilio-python sends
# TestUsers=a for ["a"]); schemathesis takes it for a wrongly typed value.
[[operations]]
include-operation-id = "UpdateTestUser"
parameters = {{ "path.Sid" = "{fw}" }}
checks.negative_data_rejection.enabled = false

[[operations]]
include-operation-id = ["ListExecution", "CreateExecution", "FetchExecutionContext",
                        "ListExecutionStep", "FetchExecutionStepContext"]
parameters = {{ "path.FlowSid" = "{fw}", "path.ExecutionSid" = "{fn}", "path.StepSid" = "{ft}" }}

[[operations]]
include-operation-id = [{exec_ops}]
parameters = {{ "path.FlowSid" = "{fw}", "path.Sid" = "{fn}" }}

[[operations]]
include-operation-id = "FetchExecutionStep"
parameters = {{ "path.FlowSid" = "{fw}", "path.ExecutionSid" = "{fn}", "path.Sid" = "{ft}" }}
"""
    path = tmp / "schemathesis.toml"
    path.write_text(text)
    return path


def run_schemathesis(location: str, server: Server, tmp: Path) -> subprocess.CompletedProcess[str]:
    config = write_config(tmp, seed(server))
    cmd = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(config),
        "run",
        location,
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
        str(tmp),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=tmp)


def test_twilio_studio_v2_contract(server: Server, tmp_path: Path) -> None:
    if not TWILIO_SPEC.is_file():
        pytest.skip(f"{TWILIO_SPEC} is not available")
    result = run_schemathesis(str(TWILIO_SPEC.resolve()), server, tmp_path)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]


def test_callboard_openapi_document(server: Server, tmp_path: Path) -> None:
    result = run_schemathesis(f"{server.url}/openapi.json", server, tmp_path)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
