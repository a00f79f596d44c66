"""``callboard test --server``: the same test files against a running server's draft."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.e2e.server import running_server
from tests.flowtest.conftest import FILES, run_cli


def test_tests_run_against_a_stored_flows_draft(tmp_path: Path) -> None:
    with running_server(f"sqlite:///{tmp_path / 'e2e.db'}", tmp_path) as server:
        auth = (server.account_sid, server.auth_token)
        definition = (FILES / "menu.json").read_text()
        form = {"FriendlyName": "menu", "Status": "draft", "Definition": definition}
        flow = httpx.post(f"{server.url}/v2/Flows", data=form, auth=auth).json()["sid"]
        text = (FILES / "menu.test.yaml").read_text().replace("menu.json", flow)
        path = tmp_path / "menu.test.yaml"
        path.write_text(text)
        opts = ["--server", server.url, "--account", server.account_sid, "--token"]
        r = run_cli(str(path), *opts, server.auth_token)
        assert r.exit_code == 0, r.output
        assert "3 passed, 0 failed" in r.output
        path.write_text(text.replace("Support is closed", "Support is open"))
        r = run_cli(str(path), *opts, server.auth_token)
        assert r.exit_code == 1 and "the next <Say> differs" in r.output
        survey = json.loads((FILES / "survey.json").read_text())
        form = {"FriendlyName": "s", "Status": "draft", "Definition": json.dumps(survey)}
        flow = httpx.post(f"{server.url}/v2/Flows", data=form, auth=auth).json()["sid"]
        path.write_text(
            f"flow: {flow}\ntests:\n  - name: sms\n    steps:\n"
            "      - send: hi\n      - expect: Hi hi! What is your name?\n"
            "      - expect_end: false\n"
        )
        for _ in range(2):  # the first run leaves its execution waiting; the second ends it
            r = run_cli(str(path), *opts, server.auth_token)
            assert r.exit_code == 0, r.output
        r = run_cli(str(path), *opts, "wrong")
        assert r.exit_code == 2 and "answered 401" in r.output
