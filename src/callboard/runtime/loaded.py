"""An execution as the runner holds it while it runs an event: its identity, the
revision it runs, its state (None before the Start), and whether it is inserted yet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from callboard.engine.state import ExecutionState
from callboard.runtime.records import Execution

__all__ = ["LoadedExecution"]


@dataclass(slots=True)
class LoadedExecution:
    """The fields of an execution the runner needs (loaded by :mod:`callboard.store.executions`
    or made for a Start)."""

    sid: str
    account_sid: str
    flow_sid: str
    flow_version: int
    contact: str
    flow_address: str
    status: str
    test_user: bool
    state: ExecutionState | None
    new: bool = False  # not inserted yet
    exclusive: bool = True
    initiated_by: str = ""
    date_created: datetime | None = None
    date_updated: datetime | None = None
    ended_at: datetime | None = None
    version: int = 0  # the row's version as read (bumped by every update)

    def record(self) -> Execution:
        """The execution as the API shows it (after :meth:`Runner.run`)."""
        state = self.state
        waiting = state.waiting if state is not None else None
        return Execution(
            sid=self.sid,
            account_sid=self.account_sid,
            flow_sid=self.flow_sid,
            flow_version=self.flow_version,
            contact_channel_address=self.contact,
            flow_address=self.flow_address,
            contact_sid=None,
            status="ended" if self.status == "ended" else "active",
            context=state.context if state is not None and state.frames else {},
            initiated_by=self.initiated_by,
            date_created=self.date_created or datetime.now(UTC),
            date_updated=self.date_updated,
            ended_at=self.ended_at,
            ended_reason=(state.ended_reason or "completed")
            if state is not None and self.status == "ended"
            else None,
            waiting_for=waiting.widget if waiting is not None else None,
        )
