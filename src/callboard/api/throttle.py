"""Throttling of wrong HTTP Basic credentials, and a bound on concurrent hashing.

Every failed authentication is counted per (user name, client address) and per client
address (:func:`callboard.api.proxies.client_address`). When a count reaches its limit
within the window, requests with that user name from that address — or from that
address at all — answer 429 with Twilio's body (code 20429) and ``Retry-After`` until
the window has passed, without checking the credentials. A successful authentication
clears its (user, address) count. The settings:

* ``CALLBOARD_AUTH_MAX_FAILURES`` — wrong credentials per user name and address within
  the window (default 10); an address may fail five times as often over all user names;
* ``CALLBOARD_AUTH_FAILURE_WINDOW_SECONDS`` — the window (default 60);
* ``CALLBOARD_AUTH_CONCURRENCY`` — credential checks hashed at the same time (default 4:
  an API-key secret is checked with scrypt, 16 MiB and tens of milliseconds each).

Cookie sessions and the editor's log-in form have their own throttling; this module only
guards HTTP Basic authentication.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["CredentialThrottle", "ThrottleSettings"]

MAX_TRACKED = 100_000  # keys remembered at most (the oldest are forgotten first)


@dataclass(frozen=True, slots=True)
class ThrottleSettings:
    max_failures: int = 10
    window_seconds: float = 60.0
    concurrency: int = 4

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


class _Window:
    __slots__ = ("count", "started")

    def __init__(self, now: float) -> None:
        self.started = now
        self.count = 0


class CredentialThrottle:
    def __init__(
        self,
        settings: ThrottleSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings or ThrottleSettings()
        self.clock = clock
        self._windows: OrderedDict[str, _Window] = OrderedDict()
        self._hashing: asyncio.Semaphore | None = None

    @property
    def hashing(self) -> asyncio.Semaphore:
        """Held while a credential is checked (created on the server's event loop)."""
        if self._hashing is None:
            self._hashing = asyncio.Semaphore(self.settings.concurrency)
        return self._hashing

    def _keys(self, user: str, address: str) -> list[tuple[str, int]]:
        limit = self.settings.max_failures
        return [(f"u\0{user}\0{address}", limit), (f"a\0{address}", limit * 5)]

    def _window(self, key: str, now: float) -> _Window | None:
        window = self._windows.get(key)
        if window is not None and now - window.started >= self.settings.window_seconds:
            del self._windows[key]
            return None
        return window

    def retry_after(self, user: str, address: str) -> int | None:
        """Seconds to wait when ``user`` from ``address`` is throttled, else None."""
        now = self.clock()
        for key, limit in self._keys(user, address):
            window = self._window(key, now)
            if window is not None and window.count >= limit:
                left = self.settings.window_seconds - (now - window.started)
                return max(1, int(left + 0.999))
        return None

    def failed(self, user: str, address: str) -> None:
        now = self.clock()
        for key, _ in self._keys(user, address):
            window = self._window(key, now)
            if window is None:
                window = self._windows[key] = _Window(now)
            window.count += 1
            self._windows.move_to_end(key)
        while len(self._windows) > MAX_TRACKED:
            self._windows.popitem(last=False)

    def succeeded(self, user: str, address: str) -> None:
        self._windows.pop(self._keys(user, address)[0][0], None)
