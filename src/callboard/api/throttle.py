"""Throttling of wrong credentials: one failure log behind both kinds of log-in.

:class:`FailureLog` counts failures per key in a sliding window; a key whose count
reaches its limit answers "retry after N seconds" until its oldest counted failure
leaves the window. Two throttles are built on it:

* :class:`CredentialThrottle` guards HTTP Basic authentication. Failures are counted per
  (user name, client address) and per client address
  (:func:`callboard.api.proxies.client_address`); past a limit, requests answer 429 with
  Twilio's body (code 20429) and ``Retry-After`` without checking the credentials. It
  also bounds how many credentials are hashed at once. The settings:

  * ``CALLBOARD_AUTH_MAX_FAILURES`` — wrong credentials per user name and address within
    the window (default 10); an address may fail five times as often over all user names;
  * ``CALLBOARD_AUTH_FAILURE_WINDOW_SECONDS`` — the window (default 60);
  * ``CALLBOARD_AUTH_CONCURRENCY`` — credential checks hashed at the same time (default
    4: an API-key secret is checked with scrypt, 16 MiB and tens of milliseconds each).

* :class:`LoginThrottle` guards the editor's log-in form (issue 14): :data:`LOGIN_LIMIT`
  failed log-ins for one email, or from one client address, within
  :data:`LOGIN_WINDOW` seconds.

Both keep their counts in the server process's memory, at most :data:`MAX_TRACKED` keys
(the least recently failed are forgotten first); with several processes each allows its
share of the limits (:attr:`ThrottleSettings.processes`). A success clears its key.
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "LOGIN_LIMIT",
    "LOGIN_WINDOW",
    "CredentialThrottle",
    "FailureLog",
    "LoginThrottle",
    "ThrottleSettings",
]

MAX_TRACKED = 100_000
LOGIN_LIMIT = 10
LOGIN_WINDOW = 15 * 60.0

Clock = Callable[[], float]


class FailureLog:
    """Failure times per key, in a sliding window of ``window`` seconds (thread-safe)."""

    def __init__(
        self, window: float, clock: Clock = time.monotonic, max_keys: int = MAX_TRACKED
    ) -> None:
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        found = self._failures.get(key)
        if found is None:
            return None
        while found and found[0] <= now - self.window:
            found.popleft()
        if not found:
            del self._failures[key]
            return None
        return found

    def retry_after(self, limits: Iterable[tuple[str, int]]) -> int | None:
        """Seconds until every ``(key, limit)`` is under its limit (None: allowed now)."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key, limit in limits:
                found = self._recent(key, now)
                if found is not None and len(found) >= limit:
                    wait = max(wait, found[-limit] + self.window - now)
        return max(1, math.ceil(wait)) if wait > 0 else None

    def failed(self, limits: Iterable[tuple[str, int]]) -> None:
        now = self.clock()
        with self._lock:
            for key, limit in limits:
                found = self._recent(key, now)
                if found is None:
                    found = self._failures[key] = deque(maxlen=limit)
                found.append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def empty(self) -> bool:
        """No failure is counted (read without the lock: the common case's shortcut;
        failures that left the window count until their key is looked at again)."""
        return not self._failures


@dataclass(frozen=True, slots=True)
class ThrottleSettings:
    """``processes``: how many server processes share the limits (``callboard serve
    --workers N``). The counts live in each process's memory, so each one allows its
    share of a limit (rounded up): the server as a whole, whichever process a connection
    reaches, allows about the configured number. The hashing bound is per process."""

    max_failures: int = 10
    window_seconds: float = 60.0
    concurrency: int = 4
    processes: int = 1

    def share(self, limit: int) -> int:
        """This process's share of ``limit``."""
        return max(1, math.ceil(limit / max(1, self.processes)))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ThrottleSettings:
        env = os.environ if environ is None else environ
        return cls(
            max_failures=int(_positive(env, "CALLBOARD_AUTH_MAX_FAILURES", 10)),
            window_seconds=_positive(env, "CALLBOARD_AUTH_FAILURE_WINDOW_SECONDS", 60.0),
            concurrency=int(_positive(env, "CALLBOARD_AUTH_CONCURRENCY", 4)),
        )


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{name}={text!r}: expected a positive number")
    return value


class CredentialThrottle:
    """Wrong HTTP Basic credentials, per (user name, address) and per address."""

    def __init__(self, settings: ThrottleSettings | None = None, clock: Clock = time.monotonic):
        self.settings = settings or ThrottleSettings()
        self.failures = FailureLog(self.settings.window_seconds, clock)
        self._hashing: asyncio.Semaphore | None = None

    @property
    def hashing(self) -> asyncio.Semaphore:
        """Held while a credential is checked (created on the server's event loop)."""
        if self._hashing is None:
            self._hashing = asyncio.Semaphore(self.settings.concurrency)
        return self._hashing

    def _limits(self, user: str, address: str) -> list[tuple[str, int]]:
        limit = self.settings.max_failures
        share = self.settings.share
        return [(f"u\0{user}\0{address}", share(limit)), (f"a\0{address}", share(limit * 5))]

    def retry_after(self, user: str, address: str) -> int | None:
        """Seconds to wait when ``user`` from ``address`` is throttled, else None."""
        return self.failures.retry_after(self._limits(user, address))

    def failed(self, user: str, address: str) -> None:
        self.failures.failed(self._limits(user, address))

    def succeeded(self, user: str, address: str) -> None:
        self.failures.succeeded(self._limits(user, address)[0][0])


class LoginThrottle:
    """Failed log-ins: each key (``email:…``, ``client:…``) has the same limit."""

    def __init__(
        self, limit: int = LOGIN_LIMIT, window: float = LOGIN_WINDOW, clock: Clock = time.monotonic
    ) -> None:
        self.limit = limit
        self.failures = FailureLog(window, clock)

    def retry_after(self, keys: Iterable[str]) -> int | None:
        """Seconds until an attempt for ``keys`` is allowed again (None: allowed now)."""
        return self.failures.retry_after((key, self.limit) for key in keys)

    def failed(self, keys: Iterable[str]) -> None:
        self.failures.failed((key, self.limit) for key in keys)

    def succeeded(self, key: str) -> None:
        self.failures.succeeded(key)
