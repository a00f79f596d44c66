"""Event delivery settings (:class:`DeliveryConfig`) and the back-off rule."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

__all__ = ["DeliveryConfig"]


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    max_retry_seconds: float = 4 * 3600.0
    base_backoff: float = 1.0
    max_backoff: float = 600.0
    lease_seconds: float = 120.0
    claim_limit: int = 500
    per_sink_limit: int = 200
    fanout_limit: int = 1000
    concurrency: int = 8
    per_account: int = 0  # workers one account's sinks may hold; 0: half of concurrency
    poll_seconds: float = 0.25  # idle polling (recording wakes the loop in-process)
    min_interval: float = 0.05  # passes never closer than this: batches under load
    retention_seconds: float = 24 * 3600.0
    prune_every_seconds: float = 300.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DeliveryConfig:
        """``CALLBOARD_EVENTS_MAX_RETRY_SECONDS`` (default 14400),
        ``CALLBOARD_EVENTS_RETENTION_SECONDS`` (default 86400; how long delivered events
        stay for live streams), ``CALLBOARD_EVENTS_CONCURRENCY`` (default 8),
        ``CALLBOARD_EVENTS_CONCURRENCY_PER_ACCOUNT`` (default half of it)."""
        env = os.environ if environ is None else environ
        config = cls()

        def number(name: str, default: float, low: float) -> float:
            raw = (env.get(name) or "").strip()
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"{name}={raw!r}: expected a number of seconds") from None
            if value < low:
                raise ValueError(f"{name}={raw!r}: must be at least {low:g}")
            return value

        retry = number("CALLBOARD_EVENTS_MAX_RETRY_SECONDS", config.max_retry_seconds, 0)
        keep = number("CALLBOARD_EVENTS_RETENTION_SECONDS", config.retention_seconds, 60)
        workers = int(number("CALLBOARD_EVENTS_CONCURRENCY", config.concurrency, 1))
        per_account = int(number("CALLBOARD_EVENTS_CONCURRENCY_PER_ACCOUNT", 0, 0))
        return replace(
            config,
            max_retry_seconds=retry,
            retention_seconds=keep,
            concurrency=workers,
            per_account=per_account,
        )

    def per_account_concurrency(self) -> int:
        return self.per_account or max(1, self.concurrency // 2)
