"""The composition root: the one place the services are built and wired together.

``serve``, ``worker``, ``purge``, the account commands and the tests call
:func:`build_services`; ``chat`` and ``call`` build the same runtime in memory
(:mod:`callboard.runtime.local`). The wiring, in order:

1. the database (migrated), the clock/SID source, the event that wakes the worker;
2. the channels' :class:`~callboard.channels.router.ChannelRouter` — the runtime's
   message provider — and its outbox handlers (calls, recordings, hang-ups);
3. the metrics (:class:`~callboard.api.metrics.Metrics`), watching the database;
4. the runtime (:class:`~callboard.runtime.service.Callboard`), given its ports: the
   provider, Event Streams' recorder (:func:`callboard.events.recording.run_recorder`),
   the run hooks (the voice channel's, the metrics'), the outbox handlers and the
   egress-checked HTTP client for a flow's requests
   (:func:`callboard.runtime.egress.egress_client`);
5. the Flow webhook (:class:`~callboard.channels.webhooks.Channels`), the simulator
   channel's API and Event Streams (:class:`~callboard.events.service.EventStreams`);
6. the team (users, roles, sessions: :class:`~callboard.runtime.team.Team`) and the
   audit log (:class:`~callboard.runtime.audit.AuditLog`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

import httpx

from callboard.api.live import LiveFeed
from callboard.api.metrics import Metrics
from callboard.api.services import BackgroundJob, Services
from callboard.channels.config import ChannelConfig
from callboard.channels.conversations import ConversationJobs
from callboard.channels.hangup import HANG_UP_JOB, CallRunHook, hang_up_job
from callboard.channels.reconcile import reconcilers
from callboard.channels.router import ChannelRouter
from callboard.channels.simulator import Simulator
from callboard.channels.webhooks import Channels
from callboard.engine.core import Env
from callboard.engine.env import SystemEnv
from callboard.events.delivery import DeliveryConfig, EventDelivery
from callboard.events.recording import run_recorder
from callboard.events.recording import wakeup as events_recorded
from callboard.events.service import EventStreams
from callboard.flowtest.driver import ServiceDriver
from callboard.flowtest.model import TestFile
from callboard.runtime.audit import AuditLog
from callboard.runtime.egress import egress_client
from callboard.runtime.outbox import LEASE_SECONDS
from callboard.runtime.service import Callboard
from callboard.runtime.settings import Settings
from callboard.runtime.team import Team
from callboard.runtime.worker import POLL_SECONDS, Worker
from callboard.store.credentials import GenerationReader
from callboard.store.db import Database
from callboard.store.notify import FALLBACK_POLL_SECONDS, Listener, parse

__all__ = ["build_background", "build_services", "flow_test_driver", "test_services"]


def build_services(
    settings: Settings | str,
    *,
    env: Env | None = None,
    channel_config: ChannelConfig | None = None,
    migrate: bool = True,
) -> Services:
    """The services over ``settings`` (or a database URL). ``channel_config`` defaults
    to the environment's (:meth:`ChannelConfig.from_env`, which raises ValueError for a
    bad one); ``env`` to real time and random SIDs. Raises
    :class:`~callboard.store.db.DatabaseError` when the database cannot be used."""
    url = settings if isinstance(settings, str) else settings.database_url
    config = channel_config if channel_config is not None else ChannelConfig.from_env()
    db = Database(url)
    db.check()
    if migrate:
        db.migrate()
    clock: Env = env if env is not None else SystemEnv()
    wakeup = threading.Event()
    router = ChannelRouter(db, clock, config, wakeup)
    handlers = {
        **router.handlers(),
        **ConversationJobs(router).handlers(),
        HANG_UP_JOB: hang_up_job(router),
    }
    metrics = Metrics()
    metrics.watch(db)
    callboard = Callboard(
        db,
        clock,
        router,
        recorder=run_recorder,
        hooks=[CallRunHook(router), metrics.on_run],
        outbox_handlers=handlers,
        outbox_reconcilers=reconcilers(router),  # issue 12: interrupted sends
        outbox_lease_seconds=(
            settings.outbox_lease_seconds if isinstance(settings, Settings) else LEASE_SECONDS
        ),
        wakeup=wakeup,
        http_client=_flow_requests_client,
    )
    callboard.accounts.on_secrets_changed.append(router.secrets.forget)
    channels = Channels(callboard, router, config)
    live = LiveFeed()
    listener = None
    if not db.is_sqlite:  # issue 12: every process's runs wake this one (LISTEN/NOTIFY)
        listener = Listener(db.url)
        live.live = listener.connected.is_set
        listener.subscribe(live.on_notify)  # the live event streams (editor, SSE)
        listener.subscribe(_waker(wakeup))  # the worker: outbox jobs, timers due soon
    return Services(
        callboard=callboard,
        channels=channels,
        simulator=Simulator(channels),
        events=EventStreams(db, clock),
        metrics=metrics,
        team=Team(db, clock),
        audit=AuditLog(db, clock),
        settings=settings if isinstance(settings, Settings) else None,
        test_driver=flow_test_driver,
        listener=listener,
        live=live,
        credentials_generation=GenerationReader(db),
    )


def _waker(wakeup: threading.Event) -> Callable[[str], None]:
    """A notification → wake the worker when it announces work (or may have missed
    some: ``""``); any run → wake Event Streams' fan-out (its events were recorded)."""

    def on_notify(payload: str) -> None:
        flow_sid, work = parse(payload)
        if work or not flow_sid:
            wakeup.set()
        events_recorded.set()

    return on_notify


def test_services(url: str, *, env: Env, migrate: bool) -> Services:
    """The services a flow test runs on: ``url``'s database, the ``env`` clock (a fake
    one) and the simulator channel only (no Twilio account configured)."""
    return build_services(url, env=env, channel_config=ChannelConfig(), migrate=migrate)


def flow_test_driver(file: TestFile) -> ServiceDriver:
    """A driver for one test of ``file``, on services of its own (:func:`test_services`)."""
    return ServiceDriver(file, test_services)


def build_background(
    services: Services,
    settings: Settings,
    *,
    jobs: bool = True,
    events: DeliveryConfig | None = None,
) -> list[BackgroundJob]:
    """The background work of a server or a worker process: the worker (timers, outbox,
    retention; unless ``jobs`` is False) and Event Streams delivery (``events``: its
    configuration, default from the environment — ValueError for a bad one)."""
    found: list[BackgroundJob] = []
    config = events if events is not None else DeliveryConfig.from_env()
    poll = POLL_SECONDS
    if services.listener is not None:  # woken by notifications: polling is the fallback
        found.append(services.listener)
        poll = FALLBACK_POLL_SECONDS
        config = replace(config, poll_seconds=max(config.poll_seconds, FALLBACK_POLL_SECONDS))
    if jobs:
        found.append(
            Worker(
                services.callboard,
                poll,
                retention=settings.retention_policy(),
                retention_interval=settings.retention_interval,
                timer_observer=services.metrics.on_timer,  # callboard_timer_lag_seconds
            )
        )
    found.append(EventDelivery(services.callboard.db, config=config, client_factory=_sinks_client))
    return found


def _flow_requests_client() -> httpx.Client:
    """Make HTTP Request / Run Function: every connection and redirect egress-checked."""
    return egress_client(follow_redirects=True)


def _sinks_client(limits: httpx.Limits) -> httpx.Client:
    """Event Streams webhook sinks: every connection egress-checked."""
    return egress_client(limits=limits)
