"""Scale-out on one PostgreSQL, with real processes: several ``callboard serve`` and
``callboard worker`` processes share a fresh database per test and keep every guarantee
of one process (docs/scaling.md)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, func, select, text

from callboard.channels.call_driver import CallDriver
from callboard.store import tables as t
from callboard.store.db import normalise_url
from tests.e2e.cluster import Proc, start_together, stop_all
from tests.e2e.durability import ask_definition, create_account, create_flow, server_env
from tests.e2e.server import database
from tests.e2e.test_channels import ivr_flow
from tests.e2e.twilio_standin import StandIn, twilio_standin

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

FLOW_NUMBER = "+15550000000"


@dataclass
class Cluster:
    url: str
    env: dict[str, str]
    servers: list[Proc]
    workers: list[Proc]
    account_sid: str
    token: str
    engine: Engine

    def client(self, i: int) -> httpx.Client:
        return httpx.Client(
            base_url=self.servers[i].url, auth=(self.account_sid, self.token), timeout=60
        )

    def count(self, table: Any, *where: Any) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar())

    def wait_for(self, what: str, check: Any, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                logs = "\n".join(p.log()[-3000:] for p in self.servers + self.workers)
                raise AssertionError(f"timed out waiting for {what}\n{logs}")
            time.sleep(0.1)


@contextmanager
def cluster(tmp: Path, servers: int = 2, workers: int = 2, **extra: str) -> Iterator[Cluster]:
    """``servers`` × ``callboard serve`` + ``workers`` × ``callboard worker`` on a fresh
    PostgreSQL database, started together."""
    with database("postgresql", tmp) as url:
        env = server_env(
            url,
            tmp,
            CALLBOARD_RETENTION_INTERVAL_SECONDS="0",
            CALLBOARD_SKIP_SIGNATURE_CHECK="1",
            **extra,
        )
        account_sid, token = create_account(env)
        procs = [Proc("serve", env, tmp, f"serve-{i}") for i in range(servers)]
        procs += [Proc("worker", env, tmp, f"worker-{i}") for i in range(workers)]
        engine = create_engine(normalise_url(url))
        try:
            start_together(procs)
            yield Cluster(url, env, procs[:servers], procs[servers:], account_sid, token, engine)
        finally:
            stop_all(procs)
            engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_three_servers_and_a_worker_started_together_on_an_empty_database(
    kind: str, tmp_path: Path
) -> None:
    with database(kind, tmp_path) as url:
        env = server_env(url, tmp_path, CALLBOARD_RETENTION_INTERVAL_SECONDS="0")
        procs = [Proc("serve", env, tmp_path, f"serve-{i}") for i in range(3)]
        procs.append(Proc("worker", env, tmp_path, "worker"))
        try:
            start_together(procs)
            engine = create_engine(normalise_url(url))
            try:
                with engine.connect() as conn:
                    assert conn.execute(select(func.count()).select_from(t.accounts)).scalar() == 1
            finally:
                engine.dispose()
            shown = [p.log().count("Created your first account") for p in procs]
            assert sum(shown) == 1, shown  # one server made it and showed it
        finally:
            stop_all(procs)


def _ping_pong() -> dict[str, Any]:
    """An incoming message starts it; it then waits for the next message, for ever,
    alternating between two Send & Wait For Reply widgets."""
    flow = ask_definition("3600")
    ask, thanks = flow["states"][1], flow["states"][2]
    ask["transitions"][0]["next"] = "ask2"
    ask2 = json.loads(json.dumps(ask))
    ask2["name"] = "ask2"
    ask2["transitions"][0]["next"] = "ask"
    flow["states"][2:] = [ask2, thanks, flow["states"][3]]
    return flow


@pytest.mark.postgres
def test_two_servers_and_two_workers_keep_the_guarantees_of_one(tmp_path: Path) -> None:
    """One cluster (a fresh database), four guarantees in turn: an event stream on A
    sees B's executions; same-contact messages split across the servers make one
    execution; a call's TwiML call-backs may reach either server; 1,000 timers due
    within a second fire once each across the workers."""
    with (
        twilio_standin() as standin,
        cluster(tmp_path) as c,
        c.client(0) as a,
        c.client(1) as b,
    ):
        _event_stream_sees_the_other_server(c, a, b)
        _same_contact_messages_make_one_execution(c, a, b)
        _call_backs_alternate_between_servers(c, a, standin)
        _a_thousand_timers_fire_once(c, a, b)


def _call_backs_alternate_between_servers(c: Cluster, a: httpx.Client, standin: StandIn) -> None:
    """Every request of the call goes to the other server than the one before (a load
    balancer without affinity): the IVR still runs, through a TwiML Redirect and back."""
    servers = [p.url for p in c.servers]
    flow_holder: dict[str, str] = {}

    def hook(base: str) -> str:
        return f"{base}/v1/Accounts/{c.account_sid}/Flows/{flow_holder['sid']}"

    def outside(form: dict[str, str]) -> str:
        back = hook(servers[0]) + "?FlowEvent=return&Place=outside"
        return (
            "<Response><Say>You are outside</Say>"
            f"<Redirect>{back.replace('&', '&amp;')}</Redirect></Response>"
        )

    standin.twiml["/twiml/outside"] = outside
    flow_holder["sid"] = create_flow(a, ivr_flow(f"{standin.url}/twiml/outside"))
    hops: list[str] = []

    def fetch(url: str, method: str, params: dict[str, str]) -> str:
        for base in servers:  # to the other server than the last request went to
            if url.startswith(base):
                url = servers[len(hops) % 2] + url[len(base) :]
                hops.append(url)
        if method == "GET":
            r = httpx.get(url, params=params, timeout=30)
        else:
            r = httpx.post(url, data=params, timeout=30)
        assert r.status_code == 200, (url, r.text)
        return r.text

    call = CallDriver(
        fetch,
        call_sid="CA" + "9" * 32,
        account_sid=c.account_sid,
        from_="+15554440001",
        to="+15550001000",
        status_url=hook(servers[1]),
    )
    heard = call.answer(hook(servers[0]))
    assert [h.text for h in heard if h.kind == "say"][:1] == ["Welcome to Callboard"]
    heard = call.gather(digits="4")
    said = [h.text for h in heard if h.kind == "say"]
    assert said == ["You are outside", "Back from outside", "Goodbye"], said
    assert call.ended
    assert {h.split("/v1/")[0] for h in hops} == set(servers)  # both servers took part
    c.wait_for(
        "the call's execution to end",
        lambda: c.count(t.executions, t.executions.c.status == "ended") == 1,
    )
    with c.engine.begin() as conn:
        conn.execute(t.executions.delete())


def _event_stream_sees_the_other_server(c: Cluster, a: httpx.Client, b: httpx.Client) -> None:
    flow = create_flow(a, ask_definition("3600"))
    seen: list[str] = []
    connected = threading.Event()

    def follow() -> None:
        with a.stream("GET", f"/callboard/v1/Flows/{flow}/Events/Stream") as stream:
            for line in stream.iter_lines():
                connected.set()
                if line.startswith("data: "):
                    seen.append(line)
                if len(seen) >= 2:
                    return

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    assert connected.wait(10)
    created = b.post(
        f"/v2/Flows/{flow}/Executions", data={"To": "+15551234567", "From": FLOW_NUMBER}
    )
    assert created.status_code == 201
    sid = created.json()["sid"]
    reader.join(20)
    assert len(seen) >= 2, seen  # execution.started, step.ended… from server B
    assert all(sid in line for line in seen)
    with c.engine.begin() as conn:  # out of the way of the counts below
        conn.execute(t.executions.delete())


def _same_contact_messages_make_one_execution(c: Cluster, a: httpx.Client, b: httpx.Client) -> None:
    n = 16
    flow = create_flow(a, _ping_pong())
    barrier = threading.Barrier(n)

    def send(i: int) -> int:
        form = {"MessageSid": f"SM{i:032x}", "From": "+15551110000", "To": FLOW_NUMBER}
        barrier.wait()
        client = a if i % 2 else b
        return client.post(
            f"/v1/Accounts/{c.account_sid}/Flows/{flow}", data={**form, "Body": f"m{i}"}
        ).status_code

    with ThreadPoolExecutor(n) as pool:
        assert list(pool.map(send, range(n))) == [200] * n
    assert c.count(t.executions) == 1
    assert c.count(t.processed_requests) == n  # every message was processed, once
    # each message is one step: the start (Trigger → ask), then one per reply
    assert c.count(t.steps) == n
    assert c.count(t.steps, t.steps.c.name == "incomingMessage") == n
    with c.engine.begin() as conn:
        conn.execute(t.executions.delete())


def _a_thousand_timers_fire_once(c: Cluster, a: httpx.Client, b: httpx.Client) -> None:
    n = 1000
    flow = create_flow(a, ask_definition("3600"))

    def create(i: int) -> None:
        client = a if i % 2 else b
        r = client.post(
            f"/v2/Flows/{flow}/Executions", data={"To": f"+1555{i:07d}", "From": FLOW_NUMBER}
        )
        assert r.status_code == 201, r.text

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(n)))
    assert c.count(t.timers) == n
    with c.engine.begin() as conn:  # all due within the next second (naive UTC)
        conn.execute(
            text(
                "UPDATE timers SET due_at = (now() AT TIME ZONE 'utc') + "
                "interval '1 second' * (0.5 + (id % 1000) / 1000.0)"
            )
        )
    c.wait_for("every timer to fire", lambda: c.count(t.timers) == 0)
    c.wait_for(
        "every execution to end",
        lambda: c.count(t.executions, t.executions.c.status == "ended") == n,
    )
    assert c.count(t.steps, t.steps.c.transitioned_to == "slow") == n  # each fired once
    assert c.count(t.messages, t.messages.c.body == "Too slow") == n


def _reply_flow() -> dict[str, Any]:
    """An incoming message → one reply through Twilio → end."""
    flow = ask_definition("3600")
    trigger = flow["states"][0]
    for transition in trigger["transitions"]:
        transition.pop("next", None)
    trigger["transitions"][0]["next"] = "thanks"
    thanks = flow["states"][2]
    thanks["properties"]["body"] = "Reply {{trigger.message.Body}}"
    flow["states"] = [trigger, thanks]
    return flow


def _twilio_env(standin: StandIn) -> dict[str, str]:
    return {
        "CALLBOARD_TWILIO_ACCOUNT_SID": "AC" + "7" * 32,
        "CALLBOARD_TWILIO_AUTH_TOKEN": "token",
        "CALLBOARD_TWILIO_API_URL": standin.url,
        "CALLBOARD_OUTBOX_LEASE_SECONDS": "4",  # a dead server's jobs are taken over soon
    }


def _sms(c: Cluster, flow: str, i: int) -> dict[str, str]:
    return {
        "MessageSid": f"SM{i:032x}",
        "From": f"+1555{i:07d}",
        "To": FLOW_NUMBER,
        "Body": f"m{i}",
    }


def _post(client: httpx.Client, c: Cluster, flow: str, i: int) -> bool:
    try:
        r = client.post(f"/v1/Accounts/{c.account_sid}/Flows/{flow}", data=_sms(c, flow, i))
    except httpx.HTTPError:
        return False
    return r.status_code == 200


@pytest.mark.postgres
def test_sigkill_of_a_server_mid_burst_loses_and_doubles_nothing(tmp_path: Path) -> None:
    n = 200
    with twilio_standin() as standin:
        standin.delay = 0.05  # each send in flight a while: the kill falls among them
        with cluster(tmp_path, **_twilio_env(standin)) as c, c.client(0) as a, c.client(1) as b:
            flow = create_flow(b, _reply_flow())
            killed = threading.Event()

            def send(i: int) -> None:
                if i % 2 and not killed.is_set() and _post(a, c, flow, i):
                    return
                # server A is gone (or this one went to B): the load balancer sends it to
                # B; Twilio's retries of what A had half-done are answered once
                assert _post(b, c, flow, i) or _post(b, c, flow, i), i

            with ThreadPoolExecutor(8) as pool:
                futures = [pool.submit(send, i) for i in range(n)]
                c.wait_for("a third of the burst", lambda: len(standin.sent()) >= n // 3)
                c.servers[0].kill()  # SIGKILL: no clean-up, leases left running
                killed.set()
                for f in futures:
                    f.result()
            c.wait_for(
                "every reply",
                lambda: (
                    c.count(t.outbox, t.outbox.c.status != "done") == 0
                    and c.count(t.executions, t.executions.c.status == "ended") == n
                ),
                timeout=90,
            )
            per_contact = Counter(form["To"] for form in standin.sent())
            assert len(per_contact) == n, f"lost: {n - len(per_contact)}"  # 0 lost
            doubled = {to: k for to, k in per_contact.items() if k > 1}
            assert not doubled, f"doubled: {doubled}"  # 0 doubled
            assert c.count(t.executions) == n


@pytest.mark.postgres
def test_sigterm_drains_requests_and_releases_leases(tmp_path: Path) -> None:
    n = 40
    with twilio_standin() as standin:
        standin.delay = 0.3  # sends are slow: the server holds leases when it is stopped
        env = {**_twilio_env(standin), "CALLBOARD_OUTBOX_LEASE_SECONDS": "600"}
        with cluster(tmp_path, servers=1, workers=0, **env) as c, c.client(0) as a:
            flow = create_flow(a, _reply_flow())
            with ThreadPoolExecutor(8) as pool:
                answered = list(pool.map(lambda i: _post(a, c, flow, i), range(n)))
                assert all(answered)
            c.wait_for("the first sends", lambda: len(standin.sent()) >= 2)
            server = c.servers[0]
            # SIGTERM: uvicorn drains, the lifespan stops the background work, then it
            # exits by the signal it caught (-15)
            assert server.stop() in (0, -15), server.log()
            assert "Finished server process" in server.log()
            running = c.count(t.outbox, t.outbox.c.status == "running")
            assert running == 0  # released, not left to a 10-minute lease
            worker = Proc("worker", c.env, tmp_path, "worker-after")
            try:
                start_together([worker])
                c.wait_for(
                    "every reply", lambda: c.count(t.outbox, t.outbox.c.status != "done") == 0
                )
            finally:
                worker.stop()
            per_contact = Counter(form["To"] for form in standin.sent())
            assert len(per_contact) == n and set(per_contact.values()) == {1}
