"""Clocks and SID generators for :func:`callboard.engine.advance` (the ``env`` argument).

* :class:`SystemEnv` — the real thing: UTC wall-clock time and random SIDs
  (``prefix`` + 32 lowercase hex digits, like Twilio's; :class:`RandomHex`).
* :class:`FakeEnv` — deterministic, for tests and benchmarks: a clock that only moves
  when told to and SIDs from a counter (``FN00000000000000000000000000000001``...).

Pure but for the system's random source. Both satisfy :class:`callboard.engine.core.Env`.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["DEFAULT_FAKE_TIME", "Env", "FakeEnv", "RandomHex", "SystemEnv", "random_hex"]

DEFAULT_FAKE_TIME = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class Env(Protocol):
    """What the engine needs from the world: a clock and SIDs."""

    def now(self) -> datetime: ...

    def sid(self, prefix: str) -> str: ...


class RandomHex:
    """32 random hex digits at a time, from the system's random source (``os.urandom``)
    read for 256 at once: one system call per 256 SIDs instead of one per SID (an
    execution makes half a dozen). Thread-safe; :meth:`forget` in a forked child (the
    process's one, :func:`random_hex`, does so by itself)."""

    PER_READ = 256

    def __init__(self) -> None:
        self._hex = ""
        self._next = 0
        self._lock = threading.Lock()

    def forget(self) -> None:
        """In a forked child: never hand out what the parent may hand out too."""
        self._hex = ""
        self._next = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            if self._next >= len(self._hex):
                self._hex = os.urandom(16 * self.PER_READ).hex()
                self._next = 0
            start = self._next
            self._next = start + 32
            return self._hex[start : start + 32]


_RANDOM = RandomHex()
os.register_at_fork(after_in_child=_RANDOM.forget)


def random_hex() -> str:
    """32 random lowercase hex digits (the process's one :class:`RandomHex`)."""
    return _RANDOM.next()


class SystemEnv:
    """Real UTC time and random hex SIDs."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sid(self, prefix: str) -> str:
        return prefix + random_hex()


class FakeEnv:
    """A deterministic environment.

    ``now()`` returns the same instant until :meth:`advance` or :meth:`advance_to` moves
    it (never backwards). ``sid(prefix)`` numbers SIDs from ``first_sid`` with one
    counter shared by every prefix, so the n-th SID made is always the same.
    """

    def __init__(self, start: datetime = DEFAULT_FAKE_TIME, first_sid: int = 1) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeEnv needs an aware datetime (UTC)")
        self._now = start.astimezone(UTC)
        self._next = first_sid

    def now(self) -> datetime:
        return self._now

    def sid(self, prefix: str) -> str:
        n = self._next
        self._next += 1
        return f"{prefix}{n:032x}"

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by ``seconds`` (negative values are refused)."""
        if seconds < 0:
            raise ValueError("the fake clock cannot go backwards")
        self._now += timedelta(seconds=seconds)
        return self._now

    def advance_to(self, when: datetime) -> datetime:
        """Move the clock to ``when`` if that is later than now (a timer's due time)."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if when > self._now:
            self._now = when.astimezone(UTC)
        return self._now
