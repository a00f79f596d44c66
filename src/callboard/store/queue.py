"""What the two leased job queues share (the outbox, :mod:`callboard.runtime.outbox`,
and Event Streams deliveries, :mod:`callboard.events.delivery_queue`): the retry
back-off."""

from __future__ import annotations

import random

__all__ = ["backoff_seconds"]


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
