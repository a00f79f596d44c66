"""What the service layer returns (plain records) and raises (typed errors).

Records are frozen dataclasses with Python values: datetimes are aware UTC
(:class:`datetime.datetime` with ``tzinfo=UTC``); JSON values (definitions, contexts) are
already decoded. The API layer turns them into Twilio's JSON (snake_case fields,
``YYYY-MM-DDTHH:MM:SSZ`` timestamps, absolute ``url``/``links``).

Every error carries the HTTP ``status``, the Twilio ``code``, a ``message`` for the user
and optional ``details``: the API maps any :class:`ServiceError` to Twilio's error body
without knowing each subclass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from callboard.contract.io import Respond
from callboard.engine.state import StepWarning

__all__ = [
    "Account",
    "ApiKey",
    "Conflict",
    "CreatedApiKey",
    "Execution",
    "ExecutionContext",
    "Flow",
    "FlowRevision",
    "InvalidDefinition",
    "InvalidParameter",
    "Message",
    "NotFound",
    "NotRunnable",
    "Page",
    "RunResult",
    "ServiceError",
    "Step",
    "StepContext",
    "TestUsers",
]

T = TypeVar("T")

FlowStatus = Literal["draft", "published"]
ExecutionStatus = Literal["active", "ended"]


# ------------------------------------------------------------------------------ errors


class ServiceError(Exception):
    """Base of every error the service raises on purpose (never a bug).

    ``status`` is the HTTP status to answer, ``code`` the Twilio error code.
    """

    status: int = 400
    code: int = 20001

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        status: int | None = None,
        code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


class NotFound(ServiceError):
    """404 / 20404: no such resource *in this account* (another account's SIDs too).

    ``what`` is the resource kind (``"Flow"``, ``"Execution"``...), ``sid`` what was asked.
    """

    status = 404
    code = 20404

    def __init__(self, what: str, sid: str) -> None:
        super().__init__(f"{what} {sid} was not found")
        self.what = what
        self.sid = sid


class Conflict(ServiceError):
    """409 / 20409: an execution already active for the contact (``details`` holds
    ``conflicting_execution_sid``), or ending an execution that has ended."""

    status = 409
    code = 20409


class InvalidParameter(ServiceError):
    """400 / 20001: a request parameter is missing or wrong. ``param`` is its REST name
    (``To``, ``Definition``, ``PageToken``...)."""

    status = 400
    code = 20001

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


class InvalidDefinition(ServiceError):
    """400 / 81022: the flow definition does not validate (Validate, or publishing an
    invalid definition). ``errors`` are ``{"property_path", "message"}`` dicts;
    ``details`` is ``{"errors": [...], "warnings": [...]}``."""

    status = 400
    code = 81022

    def __init__(
        self,
        errors: list[dict[str, Any]],
        warnings: list[dict[str, Any]] | None = None,
        message: str = "Flow definition validation failed",
    ) -> None:
        super().__init__(message, details={"errors": errors, "warnings": warnings or []})
        self.errors = errors
        self.warnings = warnings or []


class NotRunnable(ServiceError):
    """400 / 84004: an execution cannot be created (no published revision for this
    contact, or the revision to run is invalid)."""

    status = 400
    code = 84004


# ----------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list. ``next_token`` / ``previous_token`` are opaque ``PageToken``
    values (``PA…`` / ``PB…``) to pass back to the same list call; None at either end."""

    items: list[T]
    next_token: str | None = None
    previous_token: str | None = None


@dataclass(frozen=True, slots=True)
class Account:
    sid: str
    friendly_name: str
    status: str  # "active"
    auth_token: str
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key (the secret is never stored in clear; see :class:`CreatedApiKey`)."""

    sid: str
    account_sid: str
    friendly_name: str
    date_created: datetime


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    key: ApiKey
    secret: str  # shown once


@dataclass(frozen=True, slots=True)
class Flow:
    """A flow with the fields of its latest revision (``status``, ``definition``...).

    ``definition`` is None in list results (as Studio answers), and so are
    ``commit_message``/``valid``/``errors``/``warnings`` there (``listed`` is True).
    """

    sid: str
    account_sid: str
    friendly_name: str
    author_sid: str | None
    definition: dict[str, Any] | None
    status: FlowStatus
    revision: int
    commit_message: str | None
    valid: bool | None
    errors: list[dict[str, Any]] | None
    warnings: list[dict[str, Any]] | None
    date_created: datetime
    date_updated: datetime | None
    latest_published_revision: int | None = None
    listed: bool = False

    @property
    def webhook_path(self) -> str:
        """The path part of ``webhook_url`` (prefix it with the public base URL)."""
        return f"/v1/Accounts/{self.account_sid}/Flows/{self.sid}"


@dataclass(frozen=True, slots=True)
class FlowRevision:
    """One saved revision. ``definition`` is None in list results (``listed``)."""

    sid: str  # the flow's SID
    account_sid: str
    revision: int
    friendly_name: str
    author_sid: str | None
    definition: dict[str, Any] | None
    status: FlowStatus
    commit_message: str | None
    valid: bool | None
    errors: list[dict[str, Any]] | None
    date_created: datetime
    date_updated: datetime | None
    listed: bool = False


@dataclass(frozen=True, slots=True)
class TestUsers:
    sid: str  # the flow's SID
    account_sid: str
    test_users: list[str]


@dataclass(frozen=True, slots=True)
class Execution:
    sid: str
    account_sid: str
    flow_sid: str
    flow_version: int  # the revision it runs
    contact_channel_address: str
    flow_address: str  # From (the flow's channel address)
    contact_sid: str | None
    status: ExecutionStatus
    context: dict[str, Any]
    initiated_by: str
    date_created: datetime
    date_updated: datetime | None
    ended_at: datetime | None = None
    ended_reason: str | None = None  # completed / ended / failed / step_limit / ...
    waiting_for: str | None = None  # the widget it waits in, while active


@dataclass(frozen=True, slots=True)
class ExecutionContext:
    account_sid: str
    flow_sid: str
    execution_sid: str
    context: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Step:
    sid: str
    account_sid: str
    flow_sid: str
    execution_sid: str
    parent_step_sid: str | None
    name: str
    transitioned_from: str
    transitioned_to: str
    type: str
    context: dict[str, Any]
    date_created: datetime
    date_updated: datetime | None
    seq: int = 0
    subflow_sid: str | None = None  # set when the step ran inside a subflow
    warnings: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StepContext:
    account_sid: str
    flow_sid: str
    execution_sid: str
    step_sid: str
    context: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Message:
    """A message of the simulator channel (outbound from a flow, or inbound to it)."""

    sid: str  # SM…
    account_sid: str
    execution_sid: str | None
    flow_sid: str | None
    direction: Literal["outbound-api", "inbound"]
    to: str
    from_: str
    body: str
    media_urls: list[str]
    status: str
    date_created: datetime


@dataclass(frozen=True, slots=True)
class RunResult:
    """What running one event into an execution did.

    ``accepted`` is False when the engine ignored the event (stale timer, message while
    no widget waits for one, event after the end: warning 81002). ``responses`` are the
    :class:`~callboard.contract.io.Respond` effects (TwiML) for the webhook being answered.
    """

    execution_sid: str
    accepted: bool
    status: ExecutionStatus
    ended_reason: str | None = None
    steps: int = 0
    responses: list[Respond] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    warnings: list[StepWarning] = field(default_factory=list)
    outbox_jobs: int = 0  # jobs queued for the worker (HTTP requests...)
    timer_due: datetime | None = None  # the earliest timer this run started (issue 5)
    started: bool = False  # this run started the execution (metrics, issue 16)
