"""Fixtures: the real service on a temporary SQLite database, the app over it, and a
test client authenticated as a fresh account."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from callboard.api.app import create_app
from callboard.api.services import Services
from callboard.commands.compose import build_services
from callboard.runtime.records import Account
from callboard.runtime.service import Callboard
from callboard.runtime.settings import Settings
from tests.conftest import migrated_sqlite
from tests.runtime import fake_widgets

TRIGGER_EVENTS = (
    "incomingMessage",
    "incomingCall",
    "incomingConversationMessage",
    "incomingParent",
)


def definition(*states: dict[str, Any], first: str | None = None) -> dict[str, Any]:
    """A flow whose REST trigger goes to ``first`` (default: the first state given)."""
    start = first if first is not None else (states[0]["name"] if states else None)
    transitions: list[dict[str, Any]] = [{"event": e} for e in TRIGGER_EVENTS]
    transitions.append(
        {"event": "incomingRequest", "next": start} if start else {"event": "incomingRequest"}
    )
    trigger = {
        "name": "Trigger",
        "type": "trigger",
        "transitions": transitions,
        "properties": {"offset": {"x": 0, "y": 0}},
    }
    return {
        "description": "A test flow",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [trigger, *states],
    }


SEND = {
    "name": "greet",
    "type": "send-message",
    "transitions": [{"event": "sent"}, {"event": "failed"}],
    "properties": {"body": "Hello {{flow.data.name}}"},
}

ASK = {
    "name": "ask",
    "type": "test-ask",
    "transitions": [{"event": "reply"}, {"event": "timeout"}],
    "properties": {"seconds": 600},
}


def simple_definition() -> dict[str, Any]:
    """REST trigger → send-message → end: an execution that ends at once, with steps."""
    return definition(copy.deepcopy(SEND))


def waiting_definition() -> dict[str, Any]:
    """REST trigger → a widget that waits: the execution stays active."""
    return definition(copy.deepcopy(ASK))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'cb.db'}", data_dir=tmp_path)


@pytest.fixture
def services(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path
) -> Iterator[Services]:
    fake_widgets.install(monkeypatch)
    migrated_sqlite(settings.database_url, sqlite_template)
    built = build_services(settings)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def service(services: Services) -> Callboard:
    return services.callboard


@pytest.fixture
def account(service: Callboard) -> Account:
    return service.create_account("API tests")


@pytest.fixture
def client(services: Services, settings: Settings, account: Account) -> Iterator[TestClient]:
    app = create_app(services, settings)
    with TestClient(app, raise_server_exceptions=True) as c:
        c.auth = (account.sid, account.auth_token)
        yield c


@pytest.fixture
def anon(services: Services, settings: Settings) -> Iterator[TestClient]:
    """A client without credentials."""
    with TestClient(create_app(services, settings)) as c:
        yield c
