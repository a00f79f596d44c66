"""Prometheus metrics (``GET /metrics``, text format, ``prometheus-client``).

One :class:`Metrics` per set of services, with its own registry; the composition root
(:func:`callboard.commands.compose.build_services`) makes it and plugs it into the ports
the runtime already has, so the runtime knows nothing about Prometheus:

* executions and steps: a :data:`~callboard.runtime.ports.RunHook` (:meth:`Metrics.on_run`)
  given to the runtime at construction sees every run;
* timer lag: the worker's timer observer (``Worker(timer_observer=Metrics.on_timer)``);
* database errors: SQLAlchemy's ``handle_error`` event on the engine (:meth:`Metrics.watch`);
* request latency: :class:`callboard.api.shell.Shell` (which also gives every request its
  SID, returned as ``Twilio-Request-Id`` and put in the logs: :data:`request_sid`);
* queue depths, retries and lags: read from the database at scrape time
  (:mod:`callboard.api.backlog`).

The README lists every metric; keep it in step with :data:`METRIC_NAMES`.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Connection, event
from sqlalchemy.engine import ExceptionContext

from callboard.api.backlog import read_backlog
from callboard.contract.io import Event
from callboard.runtime.loaded import LoadedExecution
from callboard.runtime.records import RunResult
from callboard.runtime.timers import FiredTimer
from callboard.store.db import Database

__all__ = ["METRIC_NAMES", "Metrics", "request_kind", "request_sid"]

# No `*_created` series: they would double the output for nothing here.
disable_created_metrics()  # type: ignore[no-untyped-call]

request_sid: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "callboard_request_sid", default=None
)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

METRIC_NAMES = (
    "callboard_executions_started_total",
    "callboard_executions_ended_total",
    "callboard_steps_total",
    "callboard_api_request_duration_seconds",
    "callboard_webhook_request_duration_seconds",
    "callboard_timer_lag_seconds",
    "callboard_timers_pending",
    "callboard_timers_overdue",
    "callboard_timer_oldest_overdue_seconds",
    "callboard_outbox_jobs",
    "callboard_outbox_oldest_due_seconds",
    "callboard_event_deliveries",
    "callboard_event_deliveries_oldest_due_seconds",
    "callboard_database_errors_total",
    "callboard_metrics_scrape_errors_total",
)


def request_kind(path: str) -> str | None:
    """``webhook`` (Twilio's calls to a flow), ``api`` (the REST APIs), or None."""
    if path.startswith("/v1/Accounts/"):
        return "webhook"
    if path.startswith(("/v1/", "/v2/", "/callboard/")) or path == "/v2":
        return "api"
    return None


class _BacklogCollector(Collector):
    """Queue depths and lags, read from the database at each scrape."""

    def __init__(self, db: Database, errors: Counter) -> None:
        self.db = db
        self.errors = errors

    def collect(self) -> Iterator[Metric]:
        try:
            b = read_backlog(self.db, datetime.now(UTC))
        except Exception:
            self.errors.inc()
            return
        yield _gauge("callboard_timers_pending", "Durable timers waiting.", b.timers_pending)
        yield _gauge("callboard_timers_overdue", "Timers due but not fired yet.", b.timers_overdue)
        yield _gauge(
            "callboard_timer_oldest_overdue_seconds",
            "How long the oldest due, unfired timer has waited.",
            b.timer_lag_seconds,
        )
        outbox = GaugeMetricFamily(
            "callboard_outbox_jobs",
            "Outbox jobs (HTTP requests, sends) by state: pending (incl. running), "
            "retrying (pending after a failed attempt), failed (given up).",
            labels=["state"],
        )
        outbox.add_metric(["pending"], b.outbox_pending)
        outbox.add_metric(["retrying"], b.outbox_retrying)
        outbox.add_metric(["failed"], b.outbox_failed)
        yield outbox
        yield _gauge(
            "callboard_outbox_oldest_due_seconds",
            "How long the oldest due outbox job has waited.",
            b.outbox_lag_seconds,
        )
        deliveries = GaugeMetricFamily(
            "callboard_event_deliveries",
            "Event Streams deliveries by state: pending, retrying (pending after a failed "
            "attempt), failed (given up).",
            labels=["state"],
        )
        deliveries.add_metric(["pending"], b.events_pending)
        deliveries.add_metric(["retrying"], b.events_retrying)
        deliveries.add_metric(["failed"], b.events_failed)
        yield deliveries
        yield _gauge(
            "callboard_event_deliveries_oldest_due_seconds",
            "How long the oldest due Event Streams delivery has waited.",
            b.events_lag_seconds,
        )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class _SharedCollector(Collector):
    """Every process's counters and histograms (prometheus-client's files in the shared
    folder), and each metric's HELP and TYPE lines before its first sample, as one
    process would give them."""

    def __init__(self, local: CollectorRegistry, folder: str) -> None:
        self.local = local
        self.shared = MultiProcessCollector(None, folder)  # type: ignore[no-untyped-call]

    def collect(self) -> Iterator[Metric]:
        seen: set[str] = set()
        documented = {family.name: family for family in self.local.collect()}
        for family in self.shared.collect():  # type: ignore[no-untyped-call]
            seen.add(family.name)
            template = documented.get(family.name)
            if template is not None:
                family.documentation = template.documentation
            yield family
        for name, template in documented.items():
            if name not in seen:
                yield Metric(name, template.documentation, template.type)


class Metrics:
    """The app's metrics; :meth:`attach` hooks them to a service.

    ``registry`` holds this process's counters and histograms; ``exposition`` is what
    ``/metrics`` serves. They are the same registry, except under ``callboard serve
    --workers N`` (N > 1), which gives its processes a shared folder in
    ``PROMETHEUS_MULTIPROC_DIR``: prometheus-client then keeps every process's values
    in files there, and ``exposition`` adds them up, so a scrape that reaches any one
    process sees the whole server."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.exposition = self.registry
        folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if folder:
            self.exposition = CollectorRegistry()
            self.exposition.register(_SharedCollector(self.registry, folder))
        r = self.registry
        self.started = Counter(
            "callboard_executions_started", "Executions started.", ["flow_sid"], registry=r
        )
        self.ended = Counter(
            "callboard_executions_ended",
            "Executions ended, by how they ended (completed, failed, stuck, hangup...).",
            ["flow_sid", "status"],
            registry=r,
        )
        self.steps = Counter("callboard_steps", "Steps recorded.", ["flow_sid"], registry=r)
        self.api_latency = Histogram(
            "callboard_api_request_duration_seconds",
            "REST API requests (/v1, /v2, /callboard): time to the response's start.",
            ["method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.webhook_latency = Histogram(
            "callboard_webhook_request_duration_seconds",
            "Twilio webhooks to flows (/v1/Accounts/…): time to the response's start.",
            ["method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.timer_lag = Histogram(
            "callboard_timer_lag_seconds",
            "Durable timers: from due to the committed timeout step.",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.database_errors = Counter(
            "callboard_database_errors",
            "Errors raised by the database driver (connection, lock, constraint...).",
            ["kind"],
            registry=r,
        )
        self.scrape_errors = Counter(
            "callboard_metrics_scrape_errors",
            "Scrapes whose database figures could not be read.",
            registry=r,
        )

    # ------------------------------------------------------------------ hooks
    def watch(self, db: Database) -> None:
        """Count ``db``'s driver errors, and read its backlog at each scrape."""
        event.listen(db.engine, "handle_error", self.on_database_error)
        self.exposition.register(_BacklogCollector(db, self.scrape_errors))

    def on_run(
        self, conn: Connection, ex: LoadedExecution, event: Event, result: RunResult
    ) -> None:
        """The runtime's :data:`~callboard.runtime.ports.RunHook`: one run."""
        flow = str(ex.flow_sid)
        if result.started:
            self.started.labels(flow).inc()
        if result.steps:
            self.steps.labels(flow).inc(result.steps)
        if result.accepted and result.status == "ended":
            self.ended.labels(flow, result.ended_reason or "completed").inc()

    def on_timer(self, fired: FiredTimer) -> None:
        """The worker's timer observer."""
        lag = (fired.committed_at - fired.due_at).total_seconds()
        self.timer_lag.observe(max(0.0, lag))

    def on_database_error(self, context: ExceptionContext) -> None:
        original = getattr(context, "original_exception", None)
        self.database_errors.labels(type(original).__name__ if original else "unknown").inc()

    def observe_request(self, kind: str, method: str, status: int, seconds: float) -> None:
        histogram = self.webhook_latency if kind == "webhook" else self.api_latency
        histogram.labels(method, str(status)).observe(seconds)
