"""The permissions table (issue 14) covers every authenticated route of the app, and
the log-in throttle counts failures in a sliding window."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Route

from callboard.api.app import create_app
from callboard.api.common import ResourceRoute
from callboard.api.permissions import explicit_rule, needs_auth, rule_for
from callboard.api.services import Services
from callboard.api.throttle import CredentialThrottle, LoginThrottle, ThrottleSettings

_PREFIX = {
    "Flows": "FW",
    "Executions": "FN",
    "Steps": "FT",
    "Sinks": "DG",
    "Subscriptions": "DF",
    "Users": "US",
    "Keys": "SK",
    "Calls": "CA",
}


def _sample(path: str) -> str:
    parts = path.split("/")
    for i, part in enumerate(parts):
        if part.startswith("{"):
            prefix = _PREFIX.get(parts[i - 1])
            parts[i] = f"{prefix}{'ab' * 16}" if prefix else "1"
    return "/".join(parts)


def test_every_authenticated_route_has_a_rule(services: Services) -> None:
    app = create_app(services)
    checked = 0
    for route in app.routes:
        if not isinstance(route, Route) or not needs_auth(_sample(route.path)):
            continue
        methods = route.allowed if isinstance(route, ResourceRoute) else (route.methods or ())
        for method in methods:
            if method in ("HEAD", "OPTIONS"):
                continue
            assert explicit_rule(method, _sample(route.path)) is not None, (method, route.path)
            checked += 1
    assert checked > 60


def test_public_paths_and_fallbacks() -> None:
    assert not needs_auth("/callboard/v1/Health")
    assert not needs_auth("/callboard/v1/Session")
    assert not needs_auth("/v1/Accounts/AC" + "a" * 32 + "/Flows/FW" + "a" * 32)
    assert needs_auth("/v1/Sinks") and needs_auth("/v2/Flows") and needs_auth("/v2")
    assert rule_for("POST", "/callboard/v1/Unknown").role == "owner"
    assert rule_for("GET", "/callboard/v1/Unknown").role == "viewer"
    assert rule_for("HEAD", "/v2/Flows").role == "viewer"
    publish = rule_for("POST", "/v2/Flows/FW" + "ab" * 16)
    assert publish.publish and publish.role == "editor" and publish.audit == "flow.publish"


@pytest.mark.parametrize("limit", [10])
def test_throttle_window(limit: int) -> None:
    now = [1000.0]
    throttle = LoginThrottle(limit=limit, window=900, clock=lambda: now[0])
    keys = ["email:a@example.com", "client:1.2.3.4"]
    for _ in range(limit - 1):
        throttle.failed(keys)
        now[0] += 10
    assert throttle.retry_after(keys) is None
    throttle.failed(keys)
    wait = throttle.retry_after(keys)
    assert wait is not None and re.fullmatch(r"\d+", str(wait)) and 800 < wait <= 900
    assert throttle.retry_after(["email:other@example.com"]) is None
    now[0] += wait
    assert throttle.retry_after(keys) is None  # the oldest failure left the window
    throttle.succeeded("email:a@example.com")
    assert throttle.retry_after(["email:a@example.com"]) is None


def test_credential_throttle_counts_per_user_and_address_on_the_same_log() -> None:
    now = [0.0]
    throttle = CredentialThrottle(
        ThrottleSettings(max_failures=2, window_seconds=60), lambda: now[0]
    )
    for _ in range(2):
        throttle.failed("ACa", "10.0.0.1")
    assert throttle.retry_after("ACa", "10.0.0.1") == 60
    assert throttle.retry_after("ACb", "10.0.0.1") is None  # another user name
    assert throttle.retry_after("ACa", "10.0.0.2") is None  # another address
    for user in ("ACc", "ACd", "ACe", "ACf", "ACg", "ACh", "ACi"):
        throttle.failed(user, "10.0.0.1")
        now[0] += 1
    assert throttle.retry_after("ACz", "10.0.0.1") is None  # nine failures from the address
    throttle.failed("ACj", "10.0.0.1")  # its tenth (5 x 2): every user name waits
    assert throttle.retry_after("ACz", "10.0.0.1") is not None
    now[0] = 61.0  # the first two failures left the window: under both limits again
    assert throttle.retry_after("ACa", "10.0.0.1") is None
    assert throttle.retry_after("ACz", "10.0.0.1") is None
    throttle.failed("ACa", "10.0.0.1")
    throttle.succeeded("ACa", "10.0.0.1")
    assert throttle.retry_after("ACa", "10.0.0.1") is None


@pytest.mark.parametrize(("processes", "allowed"), [(1, 10), (2, 5), (3, 4)])
def test_processes_share_the_credential_limits(processes: int, allowed: int) -> None:
    """With N server processes each allows its share: about the limit for the server."""
    settings = ThrottleSettings(max_failures=10, processes=processes)
    throttle = CredentialThrottle(settings, lambda: 0.0)
    for _ in range(allowed - 1):
        throttle.failed("ACa", "10.0.0.1")
    assert throttle.retry_after("ACa", "10.0.0.1") is None
    throttle.failed("ACa", "10.0.0.1")
    assert throttle.retry_after("ACa", "10.0.0.1") is not None
    assert settings.share(10 * 5) == -(-50 // processes)  # the address-wide limit too
