"""Fair event delivery between accounts and sinks.

Two rules :class:`~callboard.events.delivery.EventDelivery` applies on every pass:

* **per-account concurrency** — one account's sinks hold at most
  ``per_account`` of the delivery workers at once (``CALLBOARD_EVENTS_CONCURRENCY_PER_ACCOUNT``,
  default half of ``CALLBOARD_EVENTS_CONCURRENCY``, at least 1), so one account's
  hanging receivers cannot delay another account's deliveries; a sink itself never has
  more than one request in flight;
* **circuit breaker for new deliveries** — after a failed attempt the sink is not
  claimed again until its back-off time (the earliest retry of its deliveries that failed),
  so events recorded meanwhile wait with the others instead of each trying the failing
  receiver at once.

The state is per process; several processes each keep their own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime

from callboard.store.db import Database
from callboard.store.event_deliveries import earliest_retry
from callboard.store.event_sinks import account_sinks, sink_accounts

__all__ = ["SinkFairness"]


class SinkFairness:
    def __init__(self, db: Database, per_account: int) -> None:
        self.db = db
        self.per_account = max(1, per_account)
        self.circuits: dict[str, datetime] = {}  # sink → not before
        self.accounts: dict[str, str] = {}  # sink → account (never changes)

    def account_of(self, sinks: Iterable[str]) -> Mapping[str, str]:
        missing = [s for s in sinks if s not in self.accounts]
        if missing:
            with self.db.read() as conn:
                found = sink_accounts(conn, missing)
            self.accounts.update(found)
        return self.accounts

    def excluded(self, now: datetime, inflight: Iterable[str]) -> set[str]:
        """Sinks not to claim now: open circuits, and every sink of an account that
        already uses its share of the workers."""
        for sid, until in list(self.circuits.items()):
            if until <= now:
                del self.circuits[sid]
        out = set(self.circuits)
        busy = self._busy(inflight)
        full = [acct for acct, n in busy.items() if n >= self.per_account]
        if full:
            with self.db.read() as conn:
                out.update(account_sinks(conn, full))
        return out

    def admit(self, sink_sid: str, inflight: Iterable[str]) -> bool:
        """Whether ``sink_sid`` may take a worker besides the sinks ``inflight``."""
        account = self.account_of([sink_sid]).get(sink_sid)
        return self._busy(inflight)[account or ""] < self.per_account

    def _busy(self, inflight: Iterable[str]) -> Counter[str]:
        sinks = list(inflight)
        accounts = self.account_of(sinks)
        return Counter(accounts.get(s, "") for s in sinks)

    def attempted(self, sink_sid: str, failed: bool) -> None:
        """After a send: a failure opens the sink's circuit until its next retry."""
        if not failed:
            self.circuits.pop(sink_sid, None)
            return
        with self.db.read() as conn:
            until = earliest_retry(conn, sink_sid)
        if until is not None:
            self.circuits[sink_sid] = until
