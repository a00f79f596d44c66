"""Log-in throttling (issue 14): after :data:`LIMIT` failed log-ins for one email, or
from one client address, within :data:`WINDOW` seconds, further attempts answer 429
with ``Retry-After`` until the oldest failure leaves the window. Kept in the server
process's memory."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable

__all__ = ["LIMIT", "WINDOW", "LoginThrottle"]

LIMIT = 10
WINDOW = 15 * 60.0
MAX_KEYS = 100_000


class LoginThrottle:
    def __init__(
        self,
        limit: int = LIMIT,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
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

    def retry_after(self, keys: Iterable[str]) -> int | None:
        """Seconds until an attempt for ``keys`` is allowed again (None: allowed now)."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                found = self._recent(key, now)
                if found is not None and len(found) >= self.limit:
                    wait = max(wait, found[-self.limit] + self.window - now)
        return max(1, math.ceil(wait)) if wait > 0 else None

    def failed(self, keys: Iterable[str]) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                found = self._recent(key, now)
                if found is None:
                    found = self._failures[key] = deque(maxlen=self.limit * 2)
                found.append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
