"""The shared leased-queue policy (store/queue.py) used by the outbox and Event Streams."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from callboard.store.queue import QueuePolicy

NOW = datetime(2026, 1, 1, 12, 0, 0)


def test_the_policy_leases_backs_off_and_gives_up() -> None:
    policy = QueuePolicy(60.0, 1.0, 300.0, max_attempts=5, max_age_seconds=3600.0)
    assert policy.lease_until(NOW) == NOW + timedelta(seconds=60)
    assert policy.retry_at(NOW, 1) == NOW + timedelta(seconds=1)
    assert policy.retry_at(NOW, 4) == NOW + timedelta(seconds=8)
    assert policy.retry_at(NOW, 40) == NOW + timedelta(seconds=300)
    jittered = policy.retry_at(NOW, 4, random.Random(1))
    assert NOW + timedelta(seconds=4) <= jittered <= NOW + timedelta(seconds=8)
    assert not policy.out_of_attempts(4)
    assert policy.out_of_attempts(5)
    assert policy.age_cutoff(NOW) == NOW - timedelta(hours=1)


def test_without_limits_the_policy_never_gives_up() -> None:
    policy = QueuePolicy(120.0, 1.0, 600.0)
    assert not policy.out_of_attempts(10_000)
    assert policy.age_cutoff(NOW) is None
