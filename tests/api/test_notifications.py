"""``GET /callboard/v1/Notifications``: 81002 warnings for ignored inbound messages."""

from __future__ import annotations

from starlette.testclient import TestClient

from callboard.runtime.records import Account
from callboard.runtime.service import Callboard
from tests.api.conftest import definition

HOLD = definition(
    {
        "name": "hold",
        "type": "test-hold",
        "transitions": [{"event": "done"}],
        "properties": {},
    }
)


def _sms(sid: str) -> dict[str, str]:
    return {"MessageSid": sid, "From": "+15550001", "To": "+15559999", "Body": "hello?"}


def test_ignored_messages_are_listed_for_their_account_only(
    client: TestClient, service: Callboard, account: Account, anon: TestClient
) -> None:
    flow = service.create_flow(account.sid, friendly_name="f", status="published", definition=HOLD)
    ex = service.create_execution(account.sid, flow.sid, to="+15550001", from_="+15559999")
    result = service.inbound_message(account.sid, flow.sid, _sms("SM1"))
    assert result.execution_sid == ex.sid and not result.accepted
    body = client.get("/callboard/v1/Notifications", params={"ExecutionSid": ex.sid}).json()
    (note,) = body["notifications"]
    assert (note["error_code"], note["log_level"], note["flow_sid"]) == (81002, "warning", flow.sid)
    assert note["date_created"].endswith("Z") and note["request_key"].endswith(":SM1")
    assert client.get("/callboard/v1/Notifications", params={"FlowSid": "FWx"}).json() == {
        "notifications": []
    }
    other = service.create_account("other")
    client.auth = (other.sid, other.auth_token)
    assert client.get("/callboard/v1/Notifications").json() == {"notifications": []}
    assert anon.get("/callboard/v1/Notifications").status_code == 401
    bad = client.get("/callboard/v1/Notifications", params={"PageSize": "0"})
    assert bad.status_code == 400 and "PageSize" in bad.json()["message"]
