"""The egress policy (runtime/egress.py): what flows' outbound requests may reach."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import httpx
import pytest

from callboard.api.services import Services
from callboard.commands.compose import build_background
from callboard.events.delivery import EventDelivery
from callboard.runtime.egress import EgressDenied, EgressPolicy, check_url, resolve_allowed
from callboard.runtime.settings import Settings


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "127.9.9.9", "::1", "169.254.169.254", "fe80::1", "0.0.0.0", "::",
     "224.0.0.1", "ff02::1", "255.255.255.255", "::ffff:127.0.0.1", "::ffff:169.254.169.254"],
)  # fmt: skip
def test_internal_addresses_are_refused_by_default(address: str) -> None:
    assert EgressPolicy().refusal(address, ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["10.1.2.3", "192.168.0.1", "8.8.8.8", "2001:db8::1"])
def test_other_addresses_are_allowed_by_default(address: str) -> None:
    assert EgressPolicy().refusal(address, ipaddress.ip_address(address)) is None


def test_allow_and_deny_lists() -> None:
    policy = EgressPolicy.parse(allow="127.0.0.1/32, hooks.internal", deny="private, *.corp")
    assert policy.refusal("127.0.0.1", ipaddress.ip_address("127.0.0.1")) is None
    assert policy.refusal("hooks.internal", ipaddress.ip_address("127.0.0.5")) is None
    assert policy.refusal("x", ipaddress.ip_address("10.0.0.1")) is not None
    assert policy.refusal("db.corp", ipaddress.ip_address("8.8.8.8")) is not None
    with pytest.raises(ValueError, match="CALLBOARD_OUTBOUND_DENY"):
        EgressPolicy.parse(deny="not a/host")


def test_names_are_checked_after_resolution() -> None:
    with pytest.raises(EgressDenied):
        resolve_allowed(EgressPolicy(), "localhost", 80)
    with pytest.raises(EgressDenied):
        resolve_allowed(EgressPolicy(), "2130706433", 80)  # 127.0.0.1 as a number
    assert resolve_allowed(EgressPolicy.parse(allow="localhost"), "localhost", 80)


def test_redis_urls_and_unix_sockets() -> None:
    with pytest.raises(EgressDenied):
        check_url(EgressPolicy(), "redis://127.0.0.1:6379/0")
    with pytest.raises(EgressDenied):
        check_url(EgressPolicy(), "unix:///run/redis.sock")
    check_url(EgressPolicy.parse(allow="unix"), "unix:///run/redis.sock")


def test_a_refused_connection_is_an_httpx_connect_error() -> None:
    from callboard.runtime.egress import egress_client

    with (
        egress_client(EgressPolicy()) as client,
        pytest.raises(httpx.ConnectError, match="refused"),
    ):
        client.get("http://127.0.0.1:9/")


def test_the_composition_root_gives_the_outbox_and_sinks_egress_checked_clients(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flows' HTTP requests (the outbox) and Event Streams sinks are sent with clients
    the composition root made over the egress policy: loopback is refused by default."""
    monkeypatch.delenv("CALLBOARD_OUTBOUND_ALLOW", raising=False)
    with (
        services.callboard.outbox.http_client() as client,
        pytest.raises(httpx.ConnectError, match="outbound request refused"),
    ):
        client.get("http://127.0.0.1:9/")
    settings = Settings(database_url="sqlite://", data_dir=Path("."))
    background = build_background(services, settings, jobs=False)
    delivery = next(job for job in background if isinstance(job, EventDelivery))
    try:
        with pytest.raises(httpx.ConnectError, match="outbound request refused"):
            delivery.client.get("http://127.0.0.1:9/")
    finally:
        delivery.client.close()
