"""A real server fires a real one-second Send & Wait For Reply timeout on its own."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

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
