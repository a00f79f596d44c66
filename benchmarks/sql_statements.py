"""SQL statements per request: one signed inbound SMS, one REST-created execution.

Runs the real ASGI app in-process (Starlette's TestClient) over a fresh SQLite database,
with the simulator channel (the account has no Twilio credentials). The flow is
Trigger → Set Variables → Split Based On → Send Message (the reply): an inbound SMS
starts an execution that runs all three widgets and ends in the same request; a REST
create does the same on ``incomingRequest``.

Every statement the database receives is counted twice over:

* ``sqlalchemy``: SQLAlchemy's ``before_cursor_execute`` (statements SQLAlchemy runs);
* ``driver``: sqlite3's trace callback on every pooled connection, which also sees the
  statements sent straight to the driver and the transaction control (BEGIN/COMMIT).

Also counted: the shell's modules (everything but the pure core: flow, engine, widgets)
whose code ran during the request, and their packages (a profiler hook).

A third request is the contact's reply to an execution waiting in a Send & Wait For
Reply (the execution is loaded — and on PostgreSQL locked — by each "execution read").
Each request is measured after a warm-up request of the same kind (caches filled, the
flow's definition parsed), as a steady server would see it. Also printed: how many times
the request read the ``flows`` row, locked/read the ``executions`` row, and read the
account's credentials.

    .venv/bin/python benchmarks/sql_statements.py [--json]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from starlette.testclient import TestClient

from callboard.api.signatures import sign
from harness import reply_flow

CORE = ("flow", "engine", "widgets")  # the pure core: not counted as the shell's modules


def ask_flow() -> dict[str, Any]:
    """Trigger → Send & Wait For Reply → Send Message: the reply to a waiting execution."""
    definition = reply_flow()
    offset = {"x": 0, "y": 0}
    definition["states"] = [
        definition["states"][0],
        {
            "name": "remember",
            "type": "send-and-wait-for-reply",
            "transitions": [
                {"event": "incomingMessage", "next": "reply"},
                {"event": "timeout"},
                {"event": "deliveryFailure"},
            ],
            "properties": {"body": "Your name?", "timeout": "600", "offset": offset},
        },
        {
            "name": "reply",
            "type": "send-message",
            "transitions": [{"event": "sent"}, {"event": "failed"}],
            "properties": {"body": "Thanks {{widgets.remember.inbound.Body}}", "offset": offset},
        },
    ]
    return definition


class Counter:
    def __init__(self) -> None:
        self.sqlalchemy: list[str] = []
        self.driver: list[str] = []
        self.modules: set[str] = set()
        self.on = False

    def count(self) -> dict[str, Any]:
        statements = [s for s in self.driver if s.split()[0].upper() not in ("BEGIN", "COMMIT")]
        upper = [" ".join(s.split()).upper() for s in statements]
        shell = sorted(m for m in self.modules if m.split(".")[1] not in CORE)
        return {
            "shell_modules": len(shell),
            "shell_packages": len({m.split(".")[1] for m in shell}),
            "_modules": shell,
            "sqlalchemy": len(self.sqlalchemy),
            "driver": len(self.driver),
            "driver_without_begin_commit": len(statements),
            "transactions": sum(1 for s in self.driver if s.split()[0].upper() == "BEGIN"),
            "flow_row_reads": sum(1 for s in upper if s.startswith("SELECT") and "FROM FLOWS" in s),
            "execution_reads": sum(
                1 for s in upper if s.startswith("SELECT") and "FROM EXECUTIONS" in s
            ),
            "credential_reads": sum(
                1
                for s in upper
                if s.startswith("SELECT")
                and "FROM ACCOUNTS" in s
                and ("TWILIO_AUTH_TOKEN" in s or "AUTH_TOKEN" in s)
            ),
        }

    @contextmanager
    def measuring(self) -> Iterator[None]:
        self.sqlalchemy.clear()
        self.driver.clear()
        self.modules.clear()
        self.on = True
        try:
            yield
        finally:
            self.on = False

    def profile(self, frame: Any, event: str, arg: Any) -> None:
        if self.on and event == "call":
            name = frame.f_globals.get("__name__", "")
            if name.startswith("callboard."):
                self.modules.add(name)


def engine_of(service: Any) -> Any:
    """The SQLAlchemy engine under the service (whatever the service's shape)."""
    for path in ("db.engine", "callboard.db.engine"):
        obj = service
        try:
            for part in path.split("."):
                obj = getattr(obj, part)
        except AttributeError:
            continue
        return obj
    raise SystemExit("cannot find the service's database engine")


def measure() -> dict[str, Any]:
    from callboard.api.app import create_app
    from callboard.runtime.settings import Settings

    try:  # after the shell's refactor: the one composition root
        from callboard.commands.compose import build_services
    except ImportError:  # before it
        build_services = None

    counter = Counter()
    # every thread started from now on (the test client's, the thread pool's) is profiled
    threading.setprofile(counter.profile)
    sys.setprofile(counter.profile)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/cb.db", data_dir=Path(tmp))
        if build_services is not None:
            services = build_services(settings)
            app = create_app(services, settings)
            service: Any = services.callboard
        else:
            from callboard.runtime.service import Callboard

            service = Callboard.open(settings.database_url)
            app = create_app(service, settings)
        engine = engine_of(service)

        @event.listens_for(engine, "before_cursor_execute")
        def _sa(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if counter.on:
                counter.sqlalchemy.append(statement)

        def trace(statement: str) -> None:
            if counter.on:
                counter.driver.append(statement)

        @event.listens_for(engine, "connect")
        def _connect(dbapi: Any, record: Any) -> None:
            if isinstance(dbapi, sqlite3.Connection):
                dbapi.set_trace_callback(trace)

        engine.dispose()  # every connection from now on is traced
        account = service.create_account("bench")
        with TestClient(app, base_url="http://testserver") as client:
            client.auth = (account.sid, account.auth_token)
            made = client.post(
                "/v2/Flows",
                data={
                    "FriendlyName": "bench",
                    "Status": "published",
                    "Definition": json.dumps(reply_flow()),
                },
            )
            made.raise_for_status()
            flow_sid = made.json()["sid"]
            asking = client.post(
                "/v2/Flows",
                data={
                    "FriendlyName": "ask",
                    "Status": "published",
                    "Definition": json.dumps(ask_flow()),
                },
            )
            asking.raise_for_status()

            def sms(n: int, contact: int | None = None, flow: str = flow_sid) -> None:
                path = f"/v1/Accounts/{account.sid}/Flows/{flow}"
                url = f"http://testserver{path}"
                params = {
                    "MessageSid": f"SM{n:032x}",
                    "AccountSid": account.sid,
                    "From": f"+1555000{contact if contact is not None else n:04d}",
                    "To": "+15559990000",
                    "Body": "hi",
                    "NumMedia": "0",
                }
                got = client.post(
                    path,
                    data=params,
                    headers={"X-Twilio-Signature": sign(url, params, account.auth_token)},
                    auth=None,
                )
                got.raise_for_status()

            def rest(n: int) -> None:
                got = client.post(
                    f"/v2/Flows/{flow_sid}/Executions",
                    data={"To": f"+1555100{n:04d}", "From": "+15559990000"},
                )
                got.raise_for_status()
                assert got.json()["status"] == "ended", got.json()

            sms(1)  # warm-up
            with counter.measuring():
                sms(2)
            inbound = counter.count()
            statements = {"inbound_sms": list(counter.driver)}
            rest(1)  # warm-up
            with counter.measuring():
                rest(2)
            created = counter.count()
            statements["rest_create"] = list(counter.driver)
            ask = asking.json()["sid"]
            sms(10, 10, ask)  # warm-up: starts an execution that waits
            sms(11, 10, ask)  # its reply
            sms(12, 12, ask)  # starts another one
            with counter.measuring():
                sms(13, 12, ask)  # the reply to a waiting execution
            reply = counter.count()
            statements["sms_reply"] = list(counter.driver)
        close = getattr(service, "close", None)
        if callable(close):
            close()
    sys.setprofile(None)
    threading.setprofile(None)  # type: ignore[arg-type]
    return {
        "inbound_sms": inbound,
        "sms_reply": reply,
        "rest_create": created,
        "_last": statements,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--show", action="store_true", help="print every statement")
    args = parser.parse_args(argv)
    found = measure()
    last = found.pop("_last")
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    for name, figures in found.items():
        print(f"{name}:")
        for key, value in figures.items():
            if not key.startswith("_"):
                print(f"  {key:30} {value}")
        if args.show:
            print(
                "  shell modules: "
                + ", ".join(m.removeprefix("callboard.") for m in figures["_modules"])
            )
    if args.show:
        for name, statements in last.items():
            print(f"{name} statements:")
            for s in statements:
                print("   ", " ".join(s.split())[:160])
    return 0


if __name__ == "__main__":
    sys.exit(main())
