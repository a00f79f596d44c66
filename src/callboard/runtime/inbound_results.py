"""What the inbound webhooks answer (:mod:`callboard.runtime.inbound`): the result of an
inbound message or call-back, where an incoming call went, a notification."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from callboard.runtime.records import RunResult

__all__ = ["EMPTY_TWIML", "InboundResult", "Notification", "RoutedCall"]

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@dataclass(frozen=True, slots=True)
class InboundResult:
    """What a webhook did (and what to answer).

    ``execution_sid``: the execution it went to (None: no execution); ``started``: it
    started that execution; ``accepted``: the engine took it (False: ignored, 81002 in
    ``warnings``); ``duplicate``: the request was seen before and nothing ran again;
    ``twiml``: the body to answer Twilio with (``text/xml``)."""

    execution_sid: str | None
    started: bool
    accepted: bool
    duplicate: bool = False
    twiml: str = EMPTY_TWIML
    status: str | None = None  # the execution's status afterwards
    warnings: list[dict[str, Any]] = field(default_factory=list)  # {"code", "message"}

    def to_json(self) -> dict[str, Any]:
        return {
            "execution_sid": self.execution_sid,
            "started": self.started,
            "accepted": self.accepted,
            "twiml": self.twiml,
            "status": self.status,
            "warnings": self.warnings,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, duplicate: bool) -> InboundResult:
        return cls(
            execution_sid=data.get("execution_sid"),
            started=bool(data.get("started")),
            accepted=bool(data.get("accepted")),
            duplicate=duplicate,
            twiml=str(data.get("twiml") or EMPTY_TWIML),
            status=data.get("status"),
            warnings=list(data.get("warnings") or []),
        )


@dataclass(frozen=True, slots=True)
class RoutedCall:
    """Where an incoming call went: the execution it started (``result``: that run), or
    the active execution that refused it (``result`` None)."""

    execution_sid: str
    result: RunResult | None


@dataclass(frozen=True, slots=True)
class Notification:
    """A warning that belongs to no step (e.g. 81002, an inbound message ignored)."""

    id: int
    account_sid: str
    flow_sid: str | None
    execution_sid: str | None
    code: int
    level: str
    message: str
    request_key: str | None
    date_created: Any  # aware datetime
