"""The service layer: accounts, flows, executions and event delivery over the store.

:class:`Callboard` is synchronous and thread-safe; the HTTP API calls it from a thread
pool. Every method that touches a resource takes the caller's ``account_sid`` first: a
SID of another account answers :class:`NotFound`, never its data.

Records and errors live in :mod:`callboard.runtime.records` and are re-exported here.
Paging: list methods take ``page_size`` (1–1000) and ``page_token`` (a token from a
previous :class:`Page`'s ``next_token``/``previous_token``; a token the service did not
make raises ``InvalidParameter("PageToken", ...)``) and return a :class:`Page`.

Event delivery (:meth:`Callboard.deliver`) runs one event through the engine and commits
the new state, its steps, timers, outbox jobs and simulator messages in ONE transaction.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    delete,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from callboard.engine.core import Env
from callboard.engine.env import SystemEnv
from callboard.engine.io import TRIGGER_EVENTS, EndExecution, Event, Start, TimerFired
from callboard.engine.state import Warning
from callboard.runtime.auth import (
    CredentialCache,
    hash_secret,
    new_secret,
    new_token,
    verify_secret,
)
from callboard.runtime.definitions import DefinitionCache, validate_definition
from callboard.runtime.delivery import ExecRow, Runner
from callboard.runtime.providers import MessageProvider, SimulatorProvider
from callboard.runtime.records import (
    Account,
    ApiKey,
    Conflict,
    CreatedApiKey,
    DeliveryResult,
    Execution,
    ExecutionContext,
    Flow,
    FlowRevision,
    InvalidDefinition,
    InvalidParameter,
    Message,
    NotFound,
    NotRunnable,
    Page,
    ServiceError,
    Step,
    StepContext,
    TestUsers,
)
from callboard.runtime.rows import (
    account_record,
    dumps,
    execution_record,
    flow_record,
    from_db_time,
    keyset_page,
    loads,
    message_record,
    revision_record,
    step_record,
    to_db_time,
)
from callboard.store import tables as t
from callboard.store.db import Database

__all__ = [
    "Account",
    "ApiKey",
    "Callboard",
    "Conflict",
    "CreatedApiKey",
    "DeliveryResult",
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
    "ServiceError",
    "Step",
    "StepContext",
    "TestUsers",
]

FLOW_STATUSES = ("draft", "published")

_published = t.flow_revisions.alias("published")
_latest = t.flow_revisions.alias("latest")
_FLOW_TO_RUN = (
    select(
        t.flows.c.test_users,
        t.flows.c.latest_revision,
        t.flows.c.latest_published,
        _latest.c.valid.label("latest_valid"),
        _published.c.valid.label("published_valid"),
    )
    .join(
        _latest,
        and_(_latest.c.flow_sid == t.flows.c.sid, _latest.c.revision == t.flows.c.latest_revision),
    )
    .join(
        _published,
        and_(
            _published.c.flow_sid == t.flows.c.sid,
            _published.c.revision == t.flows.c.latest_published,
        ),
        isouter=True,
    )
    .where(
        t.flows.c.sid == bindparam("flow_sid"), t.flows.c.account_sid == bindparam("account_sid")
    )
)
_ACCOUNT = select(t.accounts).where(t.accounts.c.sid == bindparam("sid"))


class Callboard:
    """The service object. Build it with :meth:`open` (URL → migrated database)."""

    def __init__(
        self, db: Database, env: Env | None = None, provider: MessageProvider | None = None
    ) -> None:
        """``db`` is a :class:`callboard.store.db.Database`; ``env`` the clock and SID
        source (default: real time, random SIDs); ``provider`` the
        :class:`~callboard.runtime.providers.MessageProvider` for SendMessage (default:
        the simulator channel, which stores messages in the database)."""
        self.db = db
        self.env: Env = env if env is not None else SystemEnv()
        self.provider: MessageProvider = provider if provider is not None else SimulatorProvider()
        self.definitions = DefinitionCache()
        self.credentials = CredentialCache()
        self.runner = Runner(self.env, self.provider, self.definitions, for_update=db.for_update())
        self.wakeup = threading.Event()  # set when outbox jobs or timers were added
        self.outbox_handlers: dict[str, OutboxHandler] = {}

    @classmethod
    def open(
        cls,
        url: str,
        *,
        env: Env | None = None,
        migrate: bool = True,
        provider: MessageProvider | None = None,
    ) -> Callboard:
        """Connect to ``url`` (``sqlite:///…`` / ``postgresql://…``), run the migrations
        (unless ``migrate`` is False) and return the service."""
        db = Database(url)
        db.check()
        if migrate:
            db.migrate()
        return cls(db, env, provider)

    def close(self) -> None:
        """Dispose of the database connections."""
        self.db.dispose()

    def _now(self) -> datetime:
        return to_db_time(self.env.now())

    # ------------------------------------------------------------------ accounts & auth

    def create_account(self, friendly_name: str | None = None) -> Account:
        sid = self.env.sid("AC")
        now = self._now()
        row = {
            "sid": sid,
            "friendly_name": (friendly_name or "").strip() or f"Account {sid[-6:]}",
            "status": "active",
            "auth_token": new_token(),
            "date_created": now,
            "date_updated": now,
        }
        with self.db.write() as conn:
            conn.execute(t.accounts.insert(), [row])
        return account_record(_Obj(row))

    def list_accounts(self) -> list[Account]:
        """Every account, oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(t.accounts).order_by(t.accounts.c.date_created, t.accounts.c.sid)
            ).all()
        return [account_record(r) for r in rows]

    def fetch_account(self, account_sid: str) -> Account:
        with self.db.read() as conn:
            row = conn.execute(select(t.accounts).where(t.accounts.c.sid == account_sid)).first()
        if row is None:
            raise NotFound("Account", account_sid)
        return account_record(row)

    def count_accounts(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(t.accounts)).scalar_one())

    def rotate_auth_token(self, account_sid: str) -> Account:
        """A new Auth Token; the old one stops working at once."""
        with self.db.write() as conn:
            found = conn.execute(
                update(t.accounts)
                .where(t.accounts.c.sid == account_sid)
                .values(auth_token=new_token(), date_updated=self._now())
            )
            if found.rowcount == 0:
                raise NotFound("Account", account_sid)
            row = conn.execute(select(t.accounts).where(t.accounts.c.sid == account_sid)).one()
        self.credentials.clear()
        return account_record(row)

    def create_api_key(self, account_sid: str, friendly_name: str | None = None) -> CreatedApiKey:
        """A new API key (SK…). The secret is returned once and stored hashed."""
        self.fetch_account(account_sid)
        sid = self.env.sid("SK")
        secret = new_secret()
        now = self._now()
        row = {
            "sid": sid,
            "account_sid": account_sid,
            "friendly_name": (friendly_name or "").strip() or f"Key {sid[-6:]}",
            "secret_hash": hash_secret(secret),
            "date_created": now,
        }
        with self.db.write() as conn:
            conn.execute(t.api_keys.insert(), [row])
        return CreatedApiKey(_key_record(_Obj(row)), secret)

    def list_api_keys(self, account_sid: str) -> list[ApiKey]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(t.api_keys)
                .where(t.api_keys.c.account_sid == account_sid)
                .order_by(t.api_keys.c.date_created, t.api_keys.c.sid)
            ).all()
        return [_key_record(r) for r in rows]

    def delete_api_key(self, account_sid: str, key_sid: str) -> None:
        with self.db.write() as conn:
            gone = conn.execute(
                delete(t.api_keys).where(
                    t.api_keys.c.sid == key_sid, t.api_keys.c.account_sid == account_sid
                )
            )
        if gone.rowcount == 0:
            raise NotFound("API key", key_sid)
        self.credentials.clear()

    def authenticate(self, username: str, password: str) -> Account | None:
        """HTTP Basic credentials → the account, or None. ``username`` is an Account SID
        (password = Auth Token) or an API Key SID (password = its secret). Fast after the
        first success (the slow secret hash is skipped for a pair already verified)."""
        if not username or not password or len(username) != 34 or len(password) > 256:
            return None
        if username.startswith("AC"):
            with self.db.read() as conn:
                row = conn.execute(_ACCOUNT, {"sid": username}).first()
            if row is None or row.status != "active":
                return None
            if not hmac.compare_digest(row.auth_token.encode(), password.encode()):
                return None
            return account_record(row)
        if username.startswith("SK"):
            with self.db.read() as conn:
                row = conn.execute(
                    select(t.api_keys.c.secret_hash, t.accounts)
                    .join(t.accounts, t.accounts.c.sid == t.api_keys.c.account_sid)
                    .where(t.api_keys.c.sid == username)
                ).first()
            if row is None or row.status != "active":
                return None
            cached = self.credentials.get(username, password)
            if cached != row.secret_hash:
                if not verify_secret(password, row.secret_hash):
                    return None
                self.credentials.put(username, password, row.secret_hash)
            return account_record(row)
        return None

    # ------------------------------------------------------------------ flows

    def _flow_row(self, conn: Connection, account_sid: str, flow_sid: str) -> Any:
        row = conn.execute(
            select(t.flows).where(t.flows.c.sid == flow_sid, t.flows.c.account_sid == account_sid)
        ).first()
        if row is None:
            raise NotFound("Flow", flow_sid)
        return row

    def _revision_row(self, conn: Connection, flow_sid: str, revision: int) -> Any:
        return conn.execute(
            select(t.flow_revisions).where(
                t.flow_revisions.c.flow_sid == flow_sid, t.flow_revisions.c.revision == revision
            )
        ).first()

    def _flow(self, conn: Connection, account_sid: str, flow_sid: str) -> Flow:
        flow = self._flow_row(conn, account_sid, flow_sid)
        return flow_record(flow, self._revision_row(conn, flow_sid, flow.latest_revision))

    def _checked(self, definition: Any, status: str) -> tuple[str, bool, list[Any], list[Any]]:
        """(JSON text, valid, errors, warnings); publishing an invalid one raises."""
        if status not in FLOW_STATUSES:
            raise InvalidParameter("Status", f"Status must be draft or published, got {status!r}")
        errors, warnings = validate_definition(definition)
        if errors and status == "published":
            raise InvalidDefinition(errors, warnings)
        return dumps(definition), not errors, errors, warnings

    def create_flow(
        self,
        account_sid: str,
        *,
        friendly_name: str,
        status: str,
        definition: Any,
        commit_message: str | None = None,
        author_sid: str | None = None,
    ) -> Flow:
        """A new flow at revision 1. ``definition`` is the decoded JSON value.

        An invalid definition is stored with ``valid=False`` and its ``errors`` when
        ``status`` is ``draft``; with ``published`` it raises :class:`InvalidDefinition`
        and nothing is stored. ``status`` must be ``draft`` or ``published``
        (:class:`InvalidParameter` ``Status``)."""
        name = _friendly_name(friendly_name)
        text, valid, errors, warnings = self._checked(definition, status)
        sid = self.env.sid("FW")
        now = self._now()
        with self.db.write() as conn:
            conn.execute(
                t.flows.insert(),
                [
                    {
                        "sid": sid,
                        "account_sid": account_sid,
                        "friendly_name": name,
                        "latest_revision": 1,
                        "latest_published": 1 if status == "published" else None,
                        "test_users": "[]",
                        "date_created": now,
                        "date_updated": None,
                    }
                ],
            )
            conn.execute(
                t.flow_revisions.insert(),
                [
                    _revision_values(
                        sid,
                        1,
                        account_sid,
                        name,
                        author_sid,
                        text,
                        status,
                        valid,
                        errors,
                        warnings,
                        commit_message,
                        now,
                    )
                ],
            )
            return self._flow(conn, account_sid, sid)

    def update_flow(
        self,
        account_sid: str,
        flow_sid: str,
        *,
        status: str,
        friendly_name: str | None = None,
        definition: Any = None,
        commit_message: str | None = None,
        author_sid: str | None = None,
    ) -> Flow:
        """Update a flow. A new revision is made when the definition or the status
        changes (the new revision copies the previous definition when none is given);
        a change of friendly name alone updates the flow in place. Publishing an
        invalid definition raises :class:`InvalidDefinition`."""
        if status not in FLOW_STATUSES:
            raise InvalidParameter("Status", f"Status must be draft or published, got {status!r}")
        name = _friendly_name(friendly_name) if friendly_name is not None else None
        now = self._now()
        with self.db.write() as conn:
            flow = self._flow_row(conn, account_sid, flow_sid)
            latest = self._revision_row(conn, flow_sid, flow.latest_revision)
            new_def = definition if definition is not None else loads(latest.definition)
            changed = definition is not None and new_def != loads(latest.definition)
            if changed or status != latest.status:
                text, valid, errors, warnings = self._checked(new_def, status)
                number = flow.latest_revision + 1
                conn.execute(
                    t.flow_revisions.insert(),
                    [
                        _revision_values(
                            flow_sid,
                            number,
                            account_sid,
                            name or flow.friendly_name,
                            author_sid if author_sid is not None else latest.author_sid,
                            text,
                            status,
                            valid,
                            errors,
                            warnings,
                            commit_message,
                            now,
                        )
                    ],
                )
                values: dict[str, Any] = {"latest_revision": number, "date_updated": now}
                if status == "published":
                    values["latest_published"] = number
            else:
                values = {"date_updated": now}
                if commit_message is not None:
                    conn.execute(
                        update(t.flow_revisions)
                        .where(
                            t.flow_revisions.c.flow_sid == flow_sid,
                            t.flow_revisions.c.revision == flow.latest_revision,
                        )
                        .values(commit_message=commit_message, date_updated=now)
                    )
            if name is not None:
                values["friendly_name"] = name
            conn.execute(update(t.flows).where(t.flows.c.sid == flow_sid).values(values))
            return self._flow(conn, account_sid, flow_sid)

    def fetch_flow(self, account_sid: str, flow_sid: str) -> Flow:
        with self.db.read() as conn:
            return self._flow(conn, account_sid, flow_sid)

    def list_flows(
        self, account_sid: str, *, page_size: int = 50, page_token: str | None = None
    ) -> Page[Flow]:
        """Newest first; items have ``definition`` (and valid/errors...) None."""
        f, r = t.flows, t.flow_revisions
        query = (
            select(
                f,
                r.c.status.label("rev_status"),
                r.c.author_sid.label("rev_author_sid"),
            )
            .join(r, and_(r.c.flow_sid == f.c.sid, r.c.revision == f.c.latest_revision))
            .where(f.c.account_sid == account_sid)
        )

        def convert(row: Any) -> Flow:
            rev = _Obj({"status": row.rev_status, "author_sid": row.rev_author_sid})
            return flow_record(row, rev, listed=True)

        with self.db.read() as conn:
            return keyset_page(
                conn,
                query,
                kind="flows",
                cols=[f.c.date_created, f.c.sid],
                types=[datetime, str],
                descending=True,
                page_size=page_size,
                page_token=page_token,
                convert=convert,
            )

    def delete_flow(self, account_sid: str, flow_sid: str) -> None:
        """Delete the flow with its revisions, test users, executions and steps."""
        with self.db.write() as conn:
            self._flow_row(conn, account_sid, flow_sid)
            ex = select(t.executions.c.sid).where(t.executions.c.flow_sid == flow_sid)
            conn.execute(delete(t.steps).where(t.steps.c.execution_sid.in_(ex)))
            conn.execute(delete(t.timers).where(t.timers.c.execution_sid.in_(ex)))
            conn.execute(delete(t.outbox).where(t.outbox.c.execution_sid.in_(ex)))
            conn.execute(
                update(t.messages)
                .where(t.messages.c.execution_sid.in_(ex))
                .values(execution_sid=None)
            )
            conn.execute(delete(t.executions).where(t.executions.c.flow_sid == flow_sid))
            conn.execute(delete(t.flow_revisions).where(t.flow_revisions.c.flow_sid == flow_sid))
            conn.execute(delete(t.flows).where(t.flows.c.sid == flow_sid))
        self.definitions.forget(flow_sid)

    def list_revisions(
        self,
        account_sid: str,
        flow_sid: str,
        *,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[FlowRevision]:
        """Highest revision first; items have ``definition`` None."""
        r = t.flow_revisions
        query = select(
            *[c for c in r.c if c.name != "definition"], literal_column("NULL").label("definition")
        ).where(r.c.flow_sid == flow_sid)
        with self.db.read() as conn:
            self._flow_row(conn, account_sid, flow_sid)
            return keyset_page(
                conn,
                query,
                kind="revisions",
                cols=[r.c.revision],
                types=[int],
                descending=True,
                page_size=page_size,
                page_token=page_token,
                convert=lambda row: revision_record(row, listed=True),
            )

    def fetch_revision(self, account_sid: str, flow_sid: str, revision: str) -> FlowRevision:
        """``revision`` is a number, ``LatestPublished`` or ``LatestRevision``
        (:class:`NotFound` for anything else or a revision that does not exist)."""
        with self.db.read() as conn:
            flow = self._flow_row(conn, account_sid, flow_sid)
            number: int | None
            if revision == "LatestPublished":
                number = flow.latest_published
            elif revision == "LatestRevision":
                number = flow.latest_revision
            elif revision.isascii() and revision.isdigit() and len(revision) < 10:
                number = int(revision)
            else:
                number = None
            row = self._revision_row(conn, flow_sid, number) if number is not None else None
        if row is None:
            raise NotFound("Flow revision", f"{flow_sid}/Revisions/{revision}")
        return revision_record(row)

    def validate_definition(
        self, definition: Any, *, friendly_name: str = "", status: str = "draft"
    ) -> None:
        """Returns when the definition is valid; raises :class:`InvalidDefinition`."""
        if status not in FLOW_STATUSES:
            raise InvalidParameter("Status", f"Status must be draft or published, got {status!r}")
        errors, warnings = validate_definition(definition)
        if errors:
            raise InvalidDefinition(errors, warnings)

    def fetch_test_users(self, account_sid: str, flow_sid: str) -> TestUsers:
        with self.db.read() as conn:
            flow = self._flow_row(conn, account_sid, flow_sid)
        return TestUsers(flow_sid, account_sid, list(loads(flow.test_users) or []))

    def update_test_users(
        self, account_sid: str, flow_sid: str, test_users: Sequence[str]
    ) -> TestUsers:
        """Replace the flow's test users (identities: contact addresses)."""
        users: list[str] = []
        for user in test_users:
            text = str(user).strip()
            if text and text not in users:
                users.append(text)
        with self.db.write() as conn:
            self._flow_row(conn, account_sid, flow_sid)
            conn.execute(
                update(t.flows)
                .where(t.flows.c.sid == flow_sid)
                .values(test_users=dumps(users), date_updated=self._now())
            )
        return TestUsers(flow_sid, account_sid, users)

    # ------------------------------------------------------------------ executions

    def create_execution(
        self,
        account_sid: str,
        flow_sid: str,
        *,
        to: str,
        from_: str,
        parameters: dict[str, Any] | None = None,
    ) -> Execution:
        """REST create: start the flow on ``incomingRequest`` and run it until it waits
        or ends, all in one transaction; returns the execution as it is then.

        Raises :class:`Conflict` (``details.conflicting_execution_sid``) while ``to`` has
        an active execution of this flow; :class:`InvalidParameter` for an empty
        ``To``/``From``; :class:`NotRunnable` when no revision can run for ``to``."""
        execution, _ = self.start_execution(
            account_sid,
            flow_sid,
            trigger="incomingRequest",
            contact=to,
            flow_address=from_,
            parameters=parameters,
            initiated_by=self.env.sid("RQ"),
        )
        return execution

    def start_execution(
        self,
        account_sid: str,
        flow_sid: str,
        *,
        trigger: str,
        contact: str,
        flow_address: str,
        data: dict[str, Any] | None = None,
        parameters: dict[str, Any] | None = None,
        initiated_by: str | None = None,
        exclusive: bool = True,
    ) -> tuple[Execution, DeliveryResult]:
        """The general start (channels use it; ``create_execution`` is this with
        ``trigger="incomingRequest"``). ``trigger`` is one of the engine's trigger events;
        ``data`` becomes ``trigger.<kind>``. ``exclusive=False`` (concurrent calls) does not
        claim the one-active-execution-per-contact slot."""
        contact = (contact or "").strip()
        flow_address = (flow_address or "").strip()
        if not contact:
            raise InvalidParameter("To", "Missing required parameter To in the post body")
        if not flow_address:
            raise InvalidParameter("From", "Missing required parameter From in the post body")
        if len(contact.encode()) + len(flow_address.encode()) > 300:
            raise ServiceError(
                "To and From together must not exceed 300 bytes", status=400, code=81023
            )
        if parameters is not None and not isinstance(parameters, dict):
            raise InvalidParameter("Parameters", "Parameters must be a JSON object")
        if trigger not in TRIGGER_EVENTS:
            raise InvalidParameter("Trigger", f"unknown trigger event {trigger!r}")
        sid = self.env.sid("FN")
        try:
            with self.db.write() as conn:
                flow = conn.execute(
                    _FLOW_TO_RUN, {"flow_sid": flow_sid, "account_sid": account_sid}
                ).first()
                if flow is None:
                    raise NotFound("Flow", flow_sid)
                test_user = contact in (loads(flow.test_users) or [])
                if test_user:
                    revision, valid = flow.latest_revision, flow.latest_valid
                else:
                    revision, valid = flow.latest_published, flow.published_valid
                if revision is None:
                    raise NotRunnable(
                        f"Flow {flow_sid} has no published revision: publish it, or add "
                        f"{contact} to its test users to run the latest draft"
                    )
                if not valid:
                    raise NotRunnable(
                        f"Flow {flow_sid} revision {revision} is not a valid flow definition"
                    )
                ex = ExecRow(
                    sid=sid,
                    account_sid=account_sid,
                    flow_sid=flow_sid,
                    flow_version=revision,
                    contact=contact,
                    flow_address=flow_address,
                    status="active",
                    test_user=test_user,
                    state=None,
                    new=True,
                    exclusive=exclusive,
                    initiated_by=initiated_by or self.env.sid("RQ"),
                    date_created=self.env.now(),
                )
                start = Start(
                    trigger=trigger,
                    execution_sid=sid,
                    flow_sid=flow_sid,
                    contact_address=contact,
                    flow_address=flow_address,
                    data=dict(data or {}),
                    parameters=dict(parameters or {}),
                )
                # No look-up of the (flow, contact) slot first: the unique index refuses a
                # second active execution, and the IntegrityError below says which.
                result = self.runner.run(conn, ex, start)
        except IntegrityError:
            with self.db.read() as conn:
                self._check_slot(conn, flow_sid, contact)
            raise
        self._notify(result)
        return ex.record(), result

    def _check_slot(self, conn: Connection, flow_sid: str, contact: str) -> None:
        active = conn.execute(
            select(t.executions.c.sid).where(
                t.executions.c.flow_sid == flow_sid, t.executions.c.active_contact == contact
            )
        ).scalar_one_or_none()
        if active is not None:
            raise Conflict(
                f"Execution {active} is already active for this contact. "
                "End the active Execution before creating a new one",
                details={"conflicting_execution_sid": active},
            )

    def _notify(self, result: DeliveryResult | None = None) -> None:
        """Wake the worker when there is work for it now."""
        if result is None or result.outbox_jobs:
            self.wakeup.set()

    def _execution(
        self, conn: Connection, account_sid: str, flow_sid: str, execution_sid: str
    ) -> Execution:
        row = conn.execute(
            select(t.executions).where(
                t.executions.c.sid == execution_sid,
                t.executions.c.account_sid == account_sid,
                t.executions.c.flow_sid == flow_sid,
            )
        ).first()
        if row is None:
            raise NotFound("Execution", execution_sid)
        return execution_record(row)

    def list_executions(
        self,
        account_sid: str,
        flow_sid: str,
        *,
        status: str | None = None,
        date_created_from: datetime | None = None,
        date_created_to: datetime | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[Execution]:
        """Newest first. ``date_created_from`` inclusive, ``date_created_to`` exclusive
        (aware datetimes); ``status`` ``active``/``ended`` (else InvalidParameter)."""
        e = t.executions
        query = select(e).where(e.c.flow_sid == flow_sid, e.c.account_sid == account_sid)
        if status is not None:
            if status not in ("active", "ended"):
                raise InvalidParameter("status", f"status must be active or ended, got {status!r}")
            query = query.where(e.c.status == status)
        if date_created_from is not None:
            query = query.where(e.c.date_created >= to_db_time(date_created_from))
        if date_created_to is not None:
            query = query.where(e.c.date_created < to_db_time(date_created_to))
        with self.db.read() as conn:
            self._flow_row(conn, account_sid, flow_sid)
            return keyset_page(
                conn,
                query,
                kind="executions",
                cols=[e.c.date_created, e.c.sid],
                types=[datetime, str],
                descending=True,
                page_size=page_size,
                page_token=page_token,
                convert=execution_record,
            )

    def fetch_execution(self, account_sid: str, flow_sid: str, execution_sid: str) -> Execution:
        with self.db.read() as conn:
            return self._execution(conn, account_sid, flow_sid, execution_sid)

    def end_execution(
        self, account_sid: str, flow_sid: str, execution_sid: str, reason: str = "ended"
    ) -> Execution:
        """REST ``Status=ended``. :class:`Conflict` if it has already ended."""
        with self.db.write() as conn:
            self._execution(conn, account_sid, flow_sid, execution_sid)
            ex = self.runner.load(conn, execution_sid)
            if ex.status == "ended" or ex.state is None or ex.state.status == "ended":
                raise Conflict(f"Execution {execution_sid} has already ended")
            self.runner.run(conn, ex, EndExecution(reason))
            return self._execution(conn, account_sid, flow_sid, execution_sid)

    def delete_execution(self, account_sid: str, flow_sid: str, execution_sid: str) -> None:
        """Delete the execution with its steps, timers, outbox jobs."""
        with self.db.write() as conn:
            self._execution(conn, account_sid, flow_sid, execution_sid)
            _delete_executions(conn, [execution_sid])

    def fetch_execution_context(
        self, account_sid: str, flow_sid: str, execution_sid: str
    ) -> ExecutionContext:
        ex = self.fetch_execution(account_sid, flow_sid, execution_sid)
        return ExecutionContext(account_sid, flow_sid, execution_sid, ex.context)

    def find_active_execution(self, flow_sid: str, contact: str) -> Execution | None:
        """The active execution holding the (flow, contact) slot, if any (channels)."""
        with self.db.read() as conn:
            row = conn.execute(
                select(t.executions).where(
                    t.executions.c.flow_sid == flow_sid, t.executions.c.active_contact == contact
                )
            ).first()
        return execution_record(row) if row is not None else None

    # ------------------------------------------------------------------ steps

    def list_steps(
        self,
        account_sid: str,
        flow_sid: str,
        execution_sid: str,
        *,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[Step]:
        """Oldest first (the order they ran)."""
        s = t.steps
        query = select(s).where(s.c.execution_sid == execution_sid)
        with self.db.read() as conn:
            self._execution_exists(conn, account_sid, flow_sid, execution_sid)
            return keyset_page(
                conn,
                query,
                kind="steps",
                cols=[s.c.seq],
                types=[int],
                descending=False,
                page_size=page_size,
                page_token=page_token,
                convert=lambda row: step_record(row, account_sid, flow_sid),
            )

    def _execution_exists(
        self, conn: Connection, account_sid: str, flow_sid: str, execution_sid: str
    ) -> None:
        found = conn.execute(
            select(t.executions.c.sid).where(
                t.executions.c.sid == execution_sid,
                t.executions.c.account_sid == account_sid,
                t.executions.c.flow_sid == flow_sid,
            )
        ).first()
        if found is None:
            raise NotFound("Execution", execution_sid)

    def fetch_step(
        self, account_sid: str, flow_sid: str, execution_sid: str, step_sid: str
    ) -> Step:
        with self.db.read() as conn:
            self._execution_exists(conn, account_sid, flow_sid, execution_sid)
            row = conn.execute(
                select(t.steps).where(
                    t.steps.c.sid == step_sid, t.steps.c.execution_sid == execution_sid
                )
            ).first()
        if row is None:
            raise NotFound("Step", step_sid)
        return step_record(row, account_sid, flow_sid)

    def fetch_step_context(
        self, account_sid: str, flow_sid: str, execution_sid: str, step_sid: str
    ) -> StepContext:
        step = self.fetch_step(account_sid, flow_sid, execution_sid, step_sid)
        return StepContext(account_sid, flow_sid, execution_sid, step_sid, step.context)

    # ------------------------------------------------------------------ messages

    def list_messages(
        self, account_sid: str, *, execution_sid: str | None = None, limit: int = 100
    ) -> list[Message]:
        """Simulator-channel messages, oldest first (the last ``limit``)."""
        m = t.messages
        query = select(m).where(m.c.account_sid == account_sid)
        if execution_sid is not None:
            query = query.where(m.c.execution_sid == execution_sid)
        query = query.order_by(m.c.date_created.desc(), m.c.sid.desc()).limit(limit)
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [message_record(r) for r in reversed(rows)]

    # ------------------------------------------------------------------ event delivery

    def deliver(self, execution_sid: str, event: Event) -> DeliveryResult:
        """Run ``event`` through the engine for the execution, in one transaction.

        Lock/load the execution, load its flow revision (and subflows), advance, perform
        the in-transaction effects (simulator SendMessage → message row + result fed back
        at once; StartTimer/CancelTimer → timer rows; HttpRequest/PlaceCall → outbox
        rows for the worker), save state, steps and status. :class:`NotFound` if the
        execution does not exist; an ended execution gives ``accepted=False``."""
        with self.db.write() as conn:
            result = self._deliver_in(conn, execution_sid, event)
        self._notify(result)
        return result

    def _deliver_in(self, conn: Connection, execution_sid: str, event: Event) -> DeliveryResult:
        ex = self.runner.load(conn, execution_sid)
        if ex.state is None or ex.status == "ended":
            return DeliveryResult(
                execution_sid,
                False,
                "ended",
                ended_reason=None,
                warnings=[
                    Warning(81002, f"Unexpected event {event.kind}: the execution has ended")
                ],
            )
        return self.runner.run(conn, ex, event)

    def fire_due_timers(self, now: datetime | None = None, limit: int = 100) -> int:
        """Deliver :class:`~callboard.engine.io.TimerFired` for every timer due at
        ``now`` (default: the env's clock). Returns how many fired. Each timer is
        deleted in the same transaction as its delivery."""
        when = to_db_time(now or self.env.now())
        with self.db.read() as conn:
            due = conn.execute(
                select(t.timers.c.id, t.timers.c.execution_sid, t.timers.c.token)
                .where(t.timers.c.due_at <= when)
                .order_by(t.timers.c.due_at, t.timers.c.id)
                .limit(limit)
            ).all()
        fired = 0
        for timer in due:
            with self.db.write() as conn:
                gone = conn.execute(delete(t.timers).where(t.timers.c.id == timer.id))
                if gone.rowcount == 0:
                    continue  # cancelled or fired by someone else meanwhile
                self._deliver_in(conn, timer.execution_sid, TimerFired(timer.token))
            fired += 1
        if fired:
            self._notify()
        return fired

    def next_timer_due(self) -> datetime | None:
        """When the earliest timer is due (None when there is none)."""
        with self.db.read() as conn:
            value = conn.execute(select(func.min(t.timers.c.due_at))).scalar_one_or_none()
        return from_db_time(value)

    def run_outbox(self, limit: int = 16) -> int:
        """Perform pending outbox jobs and deliver their results. Returns how many ran.
        Called by the worker thread (see :mod:`callboard.runtime.worker`)."""
        from callboard.runtime.worker import run_outbox

        return run_outbox(self, limit)


class _Obj:
    """Attribute access over a dict (records built from rows we just wrote)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


OutboxHandler = Callable[[Callboard, dict[str, Any]], Event | None]


def _key_record(row: Any) -> ApiKey:
    return ApiKey(
        sid=row.sid,
        account_sid=row.account_sid,
        friendly_name=row.friendly_name,
        date_created=from_db_time(row.date_created) or row.date_created,
    )


def _friendly_name(name: str | None) -> str:
    text = (name or "").strip()
    if not text:
        raise InvalidParameter("FriendlyName", "Missing required parameter FriendlyName")
    if len(text) > 255:
        raise InvalidParameter("FriendlyName", "FriendlyName must be at most 255 characters")
    return text


def _revision_values(
    flow_sid: str,
    revision: int,
    account_sid: str,
    friendly_name: str,
    author_sid: str | None,
    text: str,
    status: str,
    valid: bool,
    errors: list[Any],
    warnings: list[Any],
    commit_message: str | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "flow_sid": flow_sid,
        "revision": revision,
        "account_sid": account_sid,
        "friendly_name": friendly_name,
        "author_sid": author_sid,
        "definition": text,
        "status": status,
        "valid": valid,
        "errors": dumps(errors),
        "warnings": dumps(warnings),
        "commit_message": commit_message,
        "date_created": now,
        "date_updated": None,
    }


def _delete_executions(conn: Connection, sids: list[str]) -> None:
    conn.execute(delete(t.steps).where(t.steps.c.execution_sid.in_(sids)))
    conn.execute(delete(t.timers).where(t.timers.c.execution_sid.in_(sids)))
    conn.execute(delete(t.outbox).where(t.outbox.c.execution_sid.in_(sids)))
    conn.execute(
        update(t.messages).where(t.messages.c.execution_sid.in_(sids)).values(execution_sid=None)
    )
    conn.execute(delete(t.executions).where(t.executions.c.sid.in_(sids)))
