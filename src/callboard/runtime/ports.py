"""The ports the runtime is given at construction (the composition root,
:mod:`callboard.commands.compose`, plugs the channels and Event Streams into them):

* :class:`RunRecorder` — told what one run did, it makes the write that records it in
  the run's transaction (Event Streams records ``execution.started``/``step.ended``/
  ``execution.ended``);
* :data:`RunHook` — called after every run with the event that started it, in its
  transaction (the voice channel keeps
  the TwiML a call execution answered and hangs up the calls of an ended execution);
* :data:`OutboxHandler` — performs one outbox job of a kind (``place_call``...) and
  returns the event that carries its result back (None: nothing to feed back);
* :data:`HttpClientFactory` — makes the HTTP client the outbox sends a flow's requests
  (Make HTTP Request, Run Function) with; the composition root gives one that applies
  the egress policy (:func:`callboard.runtime.egress.egress_client`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import httpx
from sqlalchemy import Connection

from callboard.contract.io import Event
from callboard.runtime.loaded import LoadedExecution
from callboard.runtime.records import RunResult

__all__ = ["HttpClientFactory", "OutboxHandler", "OutboxReconciler", "RunHook", "RunRecorder"]


class RunRecorder(Protocol):
    """Told what one run did, without a connection; returns the write that records it
    (done with the run's other writes, in its transaction)."""

    def __call__(
        self,
        ex: LoadedExecution,
        steps: list[dict[str, Any]],
        *,
        started: bool,
        ended: bool,
        now: datetime,
        reason: str | None = None,
    ) -> Callable[[Connection], object]: ...


RunHook = Callable[[Connection, LoadedExecution, Event, RunResult], None]
OutboxHandler = Callable[[dict[str, Any]], Event | None]

# issue 12: a job whose previous attempt's outcome is unknown (its lease ran out while
# it was running: the process died mid-send) is looked up at the provider before it is
# performed again. The reconciler gets the job and when that attempt began (naive UTC);
# it returns the result event when the provider has it (no second send), None when it
# has not (the job is performed), and raises when it cannot tell (retried later).
OutboxReconciler = Callable[[dict[str, Any], datetime], Event | None]

HttpClientFactory = Callable[[], httpx.Client]
