"""Crash safety with real processes: 1,000 conversations in flight, SIGKILL, restart.

A real ``callboard serve`` runs a Send & Wait For Reply flow (a 1-second timeout for
the contacts who never answer, an hour for the others). 1,000 executions are created
over REST; half the contacts reply. The server is killed with
SIGKILL while timers are firing and replies are arriving, replies keep arriving while it
is down (another Callboard process on the same database takes them, as a second server
behind a load balancer would), Twilio retries some webhooks, and the server starts again.
Then: every execution ends, none is lost or doubled, no reply is processed twice, and
each execution's steps, messages and context tell the same story.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from callboard.channels.config import ChannelConfig
from callboard.commands.compose import build_services
from callboard.runtime.service import Callboard
from callboard.store import tables as t
from tests.e2e.durability import Process, ask_definition, create_account, create_flow, server_env
from tests.e2e.server import database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

N = 1000
TIMEOUT_SECONDS = 1
FLOW_NUMBER = "+15550000000"


def _contact(i: int) -> str:
    return f"+1555{i:07d}"


def _reply(i: int) -> dict[str, str]:
    return {
        "MessageSid": f"SM{i:032x}",
        "From": _contact(i),
        "To": FLOW_NUMBER,
        "Body": f"name{i}",
    }


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_sigkill_mid_flight_loses_and_repeats_nothing(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as url:
        env = server_env(url, tmp_path, CALLBOARD_RETENTION_INTERVAL_SECONDS="0")
        account_sid, token = create_account(env)
        # two processes, as `serve` runs by default: a SIGKILL takes both mid-commit
        server = Process(env, tmp_path, args=("--workers", "2"))
        server.start()
        side = build_services(
            url, migrate=False, channel_config=ChannelConfig()
        ).callboard  # the replies' webhook handler
        try:
            with httpx.Client(base_url=server.url, auth=(account_sid, token), timeout=60) as client:
                # Contacts who answer talk to a flow that waits an hour; the others to
                # one that times out after 1 s (their timers fire across the crash).
                patient = create_flow(client, ask_definition(timeout="3600"))
                hasty = create_flow(client, ask_definition(timeout=str(TIMEOUT_SECONDS)))
                sids: dict[int, str] = {}
                lock = threading.Lock()

                def create(i: int) -> None:
                    flow = patient if i in repliers else hasty
                    r = client.post(
                        f"/v2/Flows/{flow}/Executions",
                        # From: the number the replies are sent To (one active execution
                        # per To/From combination, issue 13)
                        data={"To": _contact(i), "From": FLOW_NUMBER},
                    )
                    assert r.status_code == 201, r.text
                    with lock:
                        sids[i] = r.json()["sid"]

                repliers = {i for i in range(N) if i % 2 == 0}
                order = sorted(repliers)
                first, second = order[: len(order) // 2], order[len(order) // 2 :]
                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(create, order))
                    # The first replies arrive while the hasty conversations start and
                    # their timeouts begin to fire...
                    replying = pool.submit(
                        lambda: [
                            side.inbound_message(account_sid, patient, _reply(i))
                            for i in first[: len(first) // 2]
                        ]
                    )
                    list(pool.map(create, [i for i in range(N) if i not in repliers]))
                    replying.result()
            assert len(sids) == N
            server.kill()  # ...and the server dies at once, with timers pending
            with side.db.read() as conn:
                pending = conn.execute(select(func.count()).select_from(t.timers)).scalar_one()
            print(f"killed with {pending} timer(s) pending")
            for i in first[len(first) // 2 :]:
                side.inbound_message(account_sid, patient, _reply(i))
            server.start()  # the same database, a new process
            for i in second:
                side.inbound_message(account_sid, patient, _reply(i))
            # Twilio retries webhooks it did not see answered: each is processed once.
            retried = [side.inbound_message(account_sid, patient, _reply(i)) for i in first]
            assert all(r.duplicate for r in retried)

            deadline = time.monotonic() + 90
            active = -1
            while time.monotonic() < deadline:
                with side.db.read() as conn:
                    active = conn.execute(
                        select(func.count())
                        .select_from(t.executions)
                        .where(t.executions.c.status == "active")
                    ).scalar_one()
                if active == 0:
                    break
                time.sleep(0.25)
            assert active == 0, f"{active} execution(s) still active\n{server.log()}"
            _check_consistency(side, account_sid, {patient, hasty}, sids, repliers)
        finally:
            server.stop()
            side.close()


def _check_consistency(
    service: Callboard, account_sid: str, flows: set[str], sids: dict[int, str], repliers: set[int]
) -> None:
    with service.db.read() as conn:
        executions = conn.execute(
            select(
                t.executions.c.sid, t.executions.c.flow_sid, t.executions.c.contact_channel_address
            )
        ).all()
        steps: dict[str, list[tuple[int, str, str]]] = {}
        for row in conn.execute(
            select(
                t.steps.c.execution_sid, t.steps.c.seq, t.steps.c.name, t.steps.c.transitioned_to
            )
        ):
            steps.setdefault(row.execution_sid, []).append((row.seq, row.name, row.transitioned_to))
        bodies: dict[str, list[str]] = {}
        for row in conn.execute(
            select(t.messages.c.execution_sid, t.messages.c.body).order_by(
                t.messages.c.date_created
            )
        ):
            bodies.setdefault(row.execution_sid, []).append(row.body)
        leftovers = conn.execute(select(func.count()).select_from(t.timers)).scalar_one()
        processed = conn.execute(
            select(func.count()).select_from(t.processed_requests)
        ).scalar_one()
        notes = conn.execute(select(func.count()).select_from(t.notifications)).scalar_one()
    assert len(executions) == N  # none lost, none started twice
    assert {r.contact_channel_address for r in executions} == {_contact(i) for i in range(N)}
    assert {r.flow_sid for r in executions} == flows
    assert leftovers == 0
    assert processed == len(repliers) and notes == 0  # each reply once, none ignored
    flow_of = {r.sid: r.flow_sid for r in executions}
    for i, sid in sids.items():
        seqs = sorted(steps[sid])
        assert [s[0] for s in seqs] == [1, 2, 3], (i, seqs)
        assert seqs[-1][2] == "Ended"
        names = [s[1] for s in seqs]
        if i in repliers:
            assert names == ["incomingRequest", "incomingMessage", "sent"], (i, names)
            assert bodies[sid] == ["Name?", f"Thanks name{i}"]
            context = service.fetch_execution(account_sid, flow_of[sid], sid).context
            assert context["widgets"]["ask"]["inbound"]["Body"] == f"name{i}"
        else:
            assert names == ["incomingRequest", "timeout", "sent"], (i, names)
            assert bodies[sid] == ["Name?", "Too slow"]
