"""The one module that talks to the runtime: a test runs on the DURABLE path.

:class:`ServiceDriver` builds the services (``build``: the composition root's
:func:`callboard.commands.compose.test_services`, i.e. ``build_services`` with a fake
clock and the simulator channel only — no Twilio account) on a fresh temporary SQLite
database, stores the flow (and its subflows) and plays the contact through the simulator
channel: the same executor and single engine loop (:mod:`callboard.runtime.loop`) the
server runs. HTTP requests and Run Function calls are answered from the test's mocks by
an outbox handler (``http_request``, called with the job); ``wait`` moves the fake clock
and fires the timers that fall due.

Everything flow tests need from the runtime is in this module, so re-pointing them at
a rebuilt runtime means editing it only. What it uses:

* set-up: ``build(url, env=, migrate=)`` (+ ``Services.close``), ``Services.simulator``,
  ``Services.channels.wait_seconds``, ``Callboard.create_account``, ``create_flow``;
* the contact: ``Simulator.send_message`` / ``start_call`` / ``call_input`` /
  ``list_messages``, ``Callboard.create_execution`` (REST trigger);
* time and jobs: ``FakeEnv``, ``next_timer_due`` + ``fire_due_timers``, ``run_outbox`` with
  ``outbox_handlers["http_request"]`` (mocks; ``effect_from_json`` decodes the job) and
  ``wakeup`` (a call webhook waiting for a job);
* what happened: ``fetch_execution`` (status, context), ``list_steps``;
* stored flows (:mod:`callboard.flowtest.stored`): ``fetch_flow``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from multiprocessing.util import Finalize
from pathlib import Path
from typing import Any, Protocol

from callboard.channels.simulator import Simulator
from callboard.channels.webhooks import Channels
from callboard.contract.io import EffectResult, Event, HttpRequest, effect_from_json
from callboard.engine.core import Env
from callboard.engine.env import FakeEnv
from callboard.flowtest.expect import find_mock
from callboard.flowtest.model import FlowTest, Mock, TestFile
from callboard.flowtest.runner import DriverError, Output
from callboard.runtime.records import ServiceError
from callboard.runtime.service import Callboard
from callboard.store.values import loads

__all__ = ["BuildServices", "ServiceDriver", "TestServices", "stored_flow"]

CALL_WAIT_SECONDS = 10.0  # a call webhook waits this long (real time) for an HTTP mock


class TestServices(Protocol):
    """What the driver uses of :class:`callboard.api.services.Services`."""

    @property
    def callboard(self) -> Callboard: ...

    @property
    def channels(self) -> Channels: ...

    @property
    def simulator(self) -> Simulator: ...

    def close(self) -> None: ...


class BuildServices(Protocol):
    """Builds the services over a database URL (the composition root's)."""

    def __call__(self, url: str, *, env: Env, migrate: bool) -> TestServices: ...


_TEMPLATE: list[Path] = []  # a migrated, empty database, copied for each test


def _migrated_template(build: BuildServices) -> Path:
    """Migrating takes longer than a test: do it once per process, then copy the file."""
    if not _TEMPLATE or not _TEMPLATE[0].exists():
        folder = Path(tempfile.mkdtemp(prefix="callboard-test-template-"))
        path = folder / "template.db"
        build(f"sqlite:///{path}", env=FakeEnv(), migrate=True).close()
        # removed at exit, in pool workers too (they skip atexit, not these finalizers)
        Finalize(None, shutil.rmtree, args=(folder, True), exitpriority=0)
        _TEMPLATE[:] = [path]
    return _TEMPLATE[0]


class ServiceDriver:
    """One test on its own temporary database (closed by :meth:`close`)."""

    def __init__(self, file: TestFile, build: BuildServices) -> None:
        if file.definition is None:
            raise DriverError(f"{file.flow!r} is a stored flow: run it with --server URL")
        self.file = file
        self.dir = tempfile.mkdtemp(prefix="callboard-test-")
        self.env = FakeEnv()
        db = Path(self.dir) / "test.db"
        shutil.copyfile(_migrated_template(build), db)
        self.services = build(f"sqlite:///{db}", env=self.env, migrate=False)
        self.service = self.services.callboard
        self.services.channels.wait_seconds = CALL_WAIT_SECONDS
        self.sim = self.services.simulator
        self.mocks: tuple[Mock, ...] = ()
        self.used: set[int] = set()  # mocks that have answered
        self.unmocked: list[str] = []  # requests no mock answered
        self.service.outbox_handlers["http_request"] = self._mock_answer
        self.account = self.service.create_account("flow tests").sid
        self.flow_sid = ""
        self.conversation: dict[str, str] | None = None
        self.contact = ""
        self.to = ""
        self.executions: list[str] = []
        self.call_sid = ""
        self.heard: list[Output] = []
        self.stop = threading.Event()
        self.outbox = threading.Lock()  # one outbox pass at a time (test thread or helper)
        self.worker: threading.Thread | None = None

    # ------------------------------------------------------------------ set-up
    def start(self, test: FlowTest) -> None:
        assert self.file.definition is not None
        self.mocks, self.contact, self.to = test.mocks, test.from_, test.to
        self.conversation = None if test.conversation is None else dict(test.conversation)
        text = json.dumps(self.file.definition)
        for wanted, definition in self.file.subflows.items():
            sid = self._store(definition, f"subflow {wanted}")
            text = text.replace(wanted, sid)
        self.flow_sid = self._store(json.loads(text), "the flow")
        self.worker = threading.Thread(target=self._work, daemon=True)
        self.worker.start()
        try:
            if test.parameters is not None:
                ex = self.service.create_execution(
                    self.account,
                    self.flow_sid,
                    to=self.contact,
                    from_=self.to,
                    parameters=test.parameters,
                )
                self._seen(ex.sid)
            elif test.call is not None:
                answer = self.sim.start_call(self.account, self.flow_sid, self.contact, self.to)
                self.call_sid = str(answer["call_sid"])
                self._call(answer)
        except ServiceError as exc:
            raise DriverError(f"the flow would not start: {exc}") from None
        self._drain()

    def _store(self, definition: dict[str, Any], what: str) -> str:
        try:
            flow = self.service.create_flow(
                self.account, friendly_name=what, status="published", definition=definition
            )
        except ServiceError as exc:
            raise DriverError(f"{what} cannot be published: {exc}") from None
        return flow.sid

    # ------------------------------------------------------------------ the contact
    def send(self, text: str) -> None:
        try:
            if self.conversation is not None:
                c = self.conversation
                answer = self.sim.conversations.send_message(
                    self.account,
                    self.flow_sid,
                    c.get("sid", ""),
                    c.get("author", self.contact),
                    text,
                )
                c["sid"] = str(answer["conversation_sid"])
            else:
                answer = self.sim.send_message(
                    self.account, self.flow_sid, self.contact, self.to, text
                )
        except ServiceError as exc:
            raise DriverError(f"the message was refused: {exc}") from None
        self._seen(str(answer["execution_sid"]))
        self._drain()

    def press(self, digits: str) -> None:
        self._input(digits=digits)

    def speak(self, speech: str) -> None:
        self._input(speech=speech)

    def hangup(self) -> None:
        self._input(hangup=True)

    def _input(self, **kwargs: Any) -> None:
        if not self.call_sid:
            raise DriverError("there is no call: start the test with 'call: {}'")
        try:
            self._call(self.sim.call_input(self.account, self.call_sid, **kwargs))
        except ServiceError as exc:
            raise DriverError(f"the call refused the input: {exc}") from None
        self._drain()

    def _call(self, answer: dict[str, Any]) -> None:
        if answer.get("execution_sid"):
            self._seen(str(answer["execution_sid"]))
        for action in answer.get("actions", []):
            if action["kind"] in ("say", "dial"):
                self.heard.append(Output(action["kind"], str(action["text"])))

    def wait(self, seconds: float) -> None:
        until = self.env.now().timestamp() + seconds
        while True:
            due = self.service.next_timer_due()
            if due is None or due.timestamp() > until:
                break
            self.env.advance_to(due)
            self.service.fire_due_timers()
            self._drain()
        self.env.advance(max(0.0, until - self.env.now().timestamp()))
        self._drain()

    # ------------------------------------------------------------------ what happened
    def outputs(self) -> list[Output]:
        messages = self.sim.list_messages(self.account, self.flow_sid, "", limit=10000)
        sent = [Output("message", str(m["body"])) for m in messages if m["direction"] != "inbound"]
        return sent + self.heard

    def _last(self) -> str:
        if not self.executions:
            raise DriverError("no execution has started yet")
        return self.executions[-1]

    def context(self) -> dict[str, Any]:
        sid = self._last()
        return self.service.fetch_execution(self.account, self.flow_sid, sid).context

    def ended(self) -> bool:
        if not self.executions:
            return False
        sid = self.executions[-1]
        return self.service.fetch_execution(self.account, self.flow_sid, sid).status == "ended"

    def steps(self) -> list[tuple[str, str, str, dict[str, Any]]]:
        out: list[tuple[str, str, str, dict[str, Any]]] = []
        for sid in self.executions:
            token: str | None = None
            while True:
                page = self.service.list_steps(
                    self.account, self.flow_sid, sid, page_size=1000, page_token=token
                )
                for s in page.items:
                    if s.subflow_sid is None:
                        ctx = s.context if isinstance(s.context, dict) else {}
                        out.append((s.transitioned_from, s.name, s.transitioned_to, ctx))
                token = page.next_token
                if not token:
                    break
        return out

    def notes(self) -> list[str]:
        return [f"{n} (the widget took its failure path)" for n in self.unmocked]

    # ------------------------------------------------------------------ plumbing
    def _seen(self, execution_sid: str) -> None:
        if execution_sid and execution_sid not in self.executions:
            self.executions.append(execution_sid)

    def _drain(self) -> None:
        with self.outbox:
            for _ in range(100):
                if self.service.run_outbox() == 0:
                    return

    def _work(self) -> None:  # answers outbox jobs while a call webhook waits for them
        while not self.stop.is_set():
            self.service.wakeup.wait(0.02)
            self.service.wakeup.clear()
            try:
                with self.outbox:
                    self.service.run_outbox()
            except Exception:  # the database is closing; the test is over
                return

    def _mock_answer(self, job: dict[str, Any]) -> Event:
        payload = loads(job["payload"]) or {}
        payload.pop("_meta", None)
        request = effect_from_json(payload)
        assert isinstance(request, HttpRequest)
        mock = find_mock(self.mocks, request.method, request.url, self.used)
        if mock is None:
            error = f"no mock for {request.method.upper()} {request.url}"
            self.unmocked.append(error)
            return EffectResult(request.token, False, {"error": error})
        headers = {k.lower(): v for k, v in mock.headers.items()}
        headers.setdefault("content-type", mock.content_type)
        data = {
            "status_code": mock.status,
            "content_type": mock.content_type,
            "body": mock.body,
            "headers": headers,
        }
        return EffectResult(request.token, True, data)

    def close(self) -> None:
        self.stop.set()
        if self.worker is not None:
            self.worker.join(timeout=5)
        self.services.close()
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------- stored flows


def stored_flow(
    service: Callboard, account_sid: str, flow_sid: str
) -> tuple[int, dict[str, Any], dict[str, dict[str, Any]]]:
    """A stored flow's latest revision number, its definition (the draft) and the
    latest revisions of the subflows it names in the account. :class:`ServiceError`
    (NotFound) for a flow not in the account."""
    flow = service.fetch_flow(account_sid, flow_sid)
    definition = flow.definition or {}
    subflows: dict[str, dict[str, Any]] = {}
    for state in definition.get("states", []):
        sid = state.get("properties", {}).get("flow_sid") if isinstance(state, dict) else None
        if state.get("type") == "run-subflow" and isinstance(sid, str) and sid != flow_sid:
            try:
                subflows[sid] = service.fetch_flow(account_sid, sid).definition or {}
            except ServiceError:
                continue  # the widget takes its failure path, as on the server
    return flow.revision, definition, subflows
