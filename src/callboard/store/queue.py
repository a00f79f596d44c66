"""What the two leased job queues share (the outbox, :mod:`callboard.runtime.outbox`,
and Event Streams deliveries, :mod:`callboard.events.delivery_queue`): the retry
back-off, and the shape of their backlog (``/metrics``, Health)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

__all__ = ["QueueBacklog", "backoff_seconds"]


@dataclass(frozen=True, slots=True)
class QueueBacklog:
    """How many jobs of a queue wait, and since when the oldest due one has."""

    pending: int = 0  # waiting (the outbox: pending or running)
    retrying: int = 0  # waiting after at least one failed attempt
    failed: int = 0  # given up
    oldest_due: datetime | None = None  # naive UTC; None: nothing is due


def backoff_seconds(
    attempts: int, base: float = 1.0, cap: float = 300.0, rng: random.Random | None = None
) -> float:
    """Delay after the ``attempts``-th failure: ``base`` × 2^(attempts-1), at most
    ``cap``; with ``rng``, half of it jittered (uniform in [delay/2, delay])."""
    exponent = max(0, min(attempts - 1, 30))
    delay = float(min(cap, base * 2.0**exponent))
    if rng is None:
        return delay
    return delay / 2 + rng.uniform(0, delay / 2)
