"""A real server fires a real one-second Send & Wait For Reply timeout on its own."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from callboard.channels.config import ChannelConfig
from callboard.commands.compose import build_services
from tests.e2e.durability import Process, ask_definition, create_account, create_flow, server_env
from tests.e2e.server import database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_one_second_timeout_fires_end_to_end(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as url:
        env = server_env(url, tmp_path)
        account_sid, token = create_account(env)
        server = Process(env, tmp_path)
        server.start()
        try:
            with httpx.Client(base_url=server.url, auth=(account_sid, token), timeout=30) as c:
                flow = create_flow(c, ask_definition(timeout="1"))
                created = c.post(
                    f"/v2/Flows/{flow}/Executions", data={"To": "+1555", "From": "+1666"}
                )
                assert created.status_code == 201, created.text
                ex = created.json()["sid"]
                steps_url = f"/v2/Flows/{flow}/Executions/{ex}/Steps"
                names: list[str] = []
                deadline = time.monotonic() + 30  # generous: only the order is asserted
                while time.monotonic() < deadline:
                    steps = c.get(steps_url).json()["steps"]
                    names = sorted(s["name"] for s in steps)
                    if "timeout" in names:
                        break
                    time.sleep(0.1)
                assert sorted(names) == sorted(["incomingRequest", "timeout", "sent"]), server.log()
                execution = c.get(f"/v2/Flows/{flow}/Executions/{ex}").json()
                assert execution["status"] == "ended"
                context = c.get(f"/v2/Flows/{flow}/Executions/{ex}/Context").json()["context"]
                assert context["widgets"]["slow"]["outbound"]["Body"] == "Too slow"
        finally:
            server.stop()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_server_and_a_worker_share_the_timers_and_fire_each_once(
    kind: str, tmp_path: Path
) -> None:
    import subprocess

    from sqlalchemy import func, select

    from callboard.store import tables as t
    from tests.e2e.durability import cli

    with database(kind, tmp_path) as url:
        env = server_env(url, tmp_path, CALLBOARD_RETENTION_INTERVAL_SECONDS="0")
        account_sid, token = create_account(env)
        server = Process(env, tmp_path)
        server.start()
        worker_log = (tmp_path / "worker.log").open("w")
        worker = subprocess.Popen(cli("worker"), env=env, stdout=worker_log, stderr=worker_log)
        try:
            with httpx.Client(base_url=server.url, auth=(account_sid, token), timeout=30) as c:
                flow = create_flow(c, ask_definition(timeout="1"))
                for i in range(60):
                    r = c.post(f"/v2/Flows/{flow}/Executions", data={"To": f"+1{i}", "From": "+2"})
                    assert r.status_code == 201, r.text
            side = build_services(url, migrate=False, channel_config=ChannelConfig()).callboard
            try:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    with side.db.read() as conn:
                        active = conn.execute(
                            select(func.count())
                            .select_from(t.executions)
                            .where(t.executions.c.status == "active")
                        ).scalar_one()
                    if active == 0:
                        break
                    time.sleep(0.2)
                with side.db.read() as conn:
                    per_execution = conn.execute(
                        select(t.steps.c.execution_sid, func.count()).group_by(
                            t.steps.c.execution_sid
                        )
                    ).all()
                    timeouts = conn.execute(
                        select(func.count()).select_from(t.steps).where(t.steps.c.name == "timeout")
                    ).scalar_one()
            finally:
                side.close()
            assert active == 0, server.log()
            assert len(per_execution) == 60 and {n for _, n in per_execution} == {3}
            assert timeouts == 60  # each fired once, by the server or the worker
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            worker_log.close()
            server.stop()
