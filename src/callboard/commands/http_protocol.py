"""The HTTP/1.1 protocol ``callboard serve`` runs: uvicorn's httptools protocol, plus a
deadline for the request head.

uvicorn closes a keep-alive connection that stays idle after a response
(``timeout_keep_alive``), but not a connection that never sends a request, nor one that
sends half a request head and stops (slowloris): each would hold a socket forever. Here
a connection must deliver a complete request head within :data:`HEAD_TIMEOUT_SECONDS`
of connecting (or of the first byte of its next request), else it is closed.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["HEAD_TIMEOUT_SECONDS", "GuardedHttpProtocol"]

HEAD_TIMEOUT_SECONDS = 10.0


class GuardedHttpProtocol(HttpToolsProtocol):
    head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def _arm(self) -> None:
        self._disarm()
        self.head_timer = self.loop.call_later(HEAD_TIMEOUT_SECONDS, self._head_timeout)

    def _disarm(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timeout(self) -> None:
        self.head_timer = None
        if not self.transport.is_closing():
            self.transport.close()
