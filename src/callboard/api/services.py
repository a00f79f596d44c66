"""What the HTTP application is built over: the services, typed (no ``Any`` between the
API and the services). The composition root (:func:`callboard.commands.compose.build_services`)
makes them; the app reaches them through :mod:`callboard.api.common`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from callboard.api.live import LiveFeed
from callboard.api.metrics import Metrics
from callboard.channels.simulator import Simulator
from callboard.channels.webhooks import Channels
from callboard.events.service import EventStreams
from callboard.flowtest.session import DriverFactory
from callboard.runtime.audit import AuditLog
from callboard.runtime.service import Callboard
from callboard.runtime.settings import Settings
from callboard.runtime.team import Team
from callboard.store.credentials import GenerationReader
from callboard.store.notify import Listener

__all__ = ["BackgroundJob", "Services"]


class BackgroundJob(Protocol):
    """Work the app runs beside requests (the worker, Event Streams delivery): started
    and stopped by the app's lifespan."""

    def start(self) -> None: ...

    def stop(self, timeout: float = ...) -> None: ...


@dataclass(slots=True)
class Services:
    callboard: Callboard  # accounts, flows, executions, inbound webhooks (the runtime)
    channels: Channels  # the Flow webhook: Twilio and the simulator channel
    simulator: Simulator  # the simulator channel's API (messages, simulated calls)
    events: EventStreams  # Event Streams: sinks, subscriptions, the event feed
    metrics: Metrics  # Prometheus (``/metrics``): fed through the runtime's ports
    team: Team  # issue 14: users, roles, sessions, invitations, API key creators
    audit: AuditLog  # issue 14: the account's audit log
    settings: Settings | None = None
    test_driver: DriverFactory | None = None  # runs a stored flow test (flowtest.driver)
    # issue 12: PostgreSQL's notifications (LISTEN, one connection per process: started
    # with the background work) and the live event streams they wake
    listener: Listener | None = None
    live: LiveFeed = field(default_factory=LiveFeed)
    # issue 11: the credentials generation, read per request (None: no credentials cache)
    credentials_generation: GenerationReader | None = None

    def close(self) -> None:
        """Dispose of the database connections."""
        if self.credentials_generation is not None:
            self.credentials_generation.close()
        self.callboard.close()
