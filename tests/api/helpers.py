"""Shared helpers for the API tests."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.testclient import TestClient

from tests.api.conftest import simple_definition

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
BASE = "http://testserver"
ERROR_KEYS = {"code", "message", "more_info", "status"}


def create_flow(
    client: TestClient,
    definition: dict[str, Any] | None = None,
    *,
    status: str = "published",
    name: str = "Test flow",
    **extra: str,
) -> dict[str, Any]:
    data = {
        "FriendlyName": name,
        "Status": status,
        "Definition": json.dumps(definition if definition is not None else simple_definition()),
        **extra,
    }
    r = client.post("/v2/Flows", data=data)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def assert_error(r: Any, status: int, code: int) -> dict[str, Any]:
    """The response is a Twilio error body with this status and code."""
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert set(body) >= ERROR_KEYS, body
    assert not {"type", "title"} & set(body), body
    assert body["status"] == status
    assert body["code"] == code
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    assert isinstance(body["message"], str) and body["message"]
    return body
