"""Live updates across servers: which flows just changed, for the event streams
(``GET /callboard/v1/Flows/{sid}/Events/Stream``: the editor's live execution view and
the simulator follow it).

A :class:`LiveFeed` is fed by the process's notification listener
(:class:`callboard.store.notify.Listener`: PostgreSQL LISTEN/NOTIFY, so a run committed
by any server or worker arrives here) and wakes the streams watching that flow at once;
without a listener (SQLite, or while it reconnects) the streams poll every
:data:`POLL_SECONDS`, and with one only every :data:`FALLBACK_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable

from callboard.store.notify import parse

__all__ = ["FALLBACK_SECONDS", "POLL_SECONDS", "LiveFeed", "Watch"]

POLL_SECONDS = 0.3  # no listener: how often a stream looks for new events
FALLBACK_SECONDS = 1.0  # with a listener: the fallback look (notifications can be missed)


class Watch:
    """One stream's view of a flow: :meth:`wait` returns when the flow changed (or
    the poll interval passed). Made on the stream's event loop."""

    def __init__(self, feed: LiveFeed, flow_sid: str) -> None:
        self.feed = feed
        self.flow_sid = flow_sid
        self.loop = asyncio.get_running_loop()
        self.changed = asyncio.Event()

    def poke(self) -> None:
        """From any thread: the flow changed."""
        self.loop.call_soon_threadsafe(self.changed.set)

    async def wait(self, longest: float | None = None) -> None:
        """Until the flow changes or the poll interval (at most ``longest``) passes."""
        timeout = FALLBACK_SECONDS if self.feed.live() else POLL_SECONDS
        if longest is not None:
            timeout = min(timeout, longest)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.changed.wait(), timeout)
        self.changed.clear()

    def close(self) -> None:
        self.feed.unwatch(self)


class LiveFeed:
    """The streams watching each flow; ``live`` says whether notifications arrive."""

    def __init__(self, live: Callable[[], bool] = lambda: False) -> None:
        self.live = live
        self._watches: dict[str, set[Watch]] = {}
        self._lock = threading.Lock()

    def watch(self, flow_sid: str) -> Watch:
        found = Watch(self, flow_sid)
        with self._lock:
            self._watches.setdefault(flow_sid, set()).add(found)
        return found

    def unwatch(self, watch: Watch) -> None:
        with self._lock:
            group = self._watches.get(watch.flow_sid)
            if group is not None:
                group.discard(watch)
                if not group:
                    del self._watches[watch.flow_sid]

    def on_notify(self, payload: str) -> None:
        """A notification (the listener's thread): wake the flow's streams; ``""`` (the
        listener reconnected: anything may have been missed) wakes every stream."""
        flow_sid, _ = parse(payload)
        with self._lock:
            if flow_sid:
                targets = list(self._watches.get(flow_sid, ()))
            else:
                targets = [w for group in self._watches.values() for w in group]
        for target in targets:
            target.poke()
