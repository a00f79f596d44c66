"""Helpers for the durability end-to-end tests: a ``callboard serve`` process that can be
killed (SIGKILL) and started again on the same database, and a REST client."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.e2e import server
from tests.e2e.server import free_port


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "callboard.cli", *args]


def server_env(database_url: str, tmp: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "CALLBOARD_DATABASE_URL": database_url, "CALLBOARD_DATA_DIR": str(tmp)}
    env.pop("CALLBOARD_PUBLIC_URL", None)
    env.update(extra)
    return env


def create_account(env: dict[str, str]) -> tuple[str, str]:
    """A new account on the database ``env`` names (see :func:`server.create_account`)."""
    return server.create_account(env["CALLBOARD_DATABASE_URL"])


class Process:
    """One ``callboard serve`` on a fixed port; ``kill()`` is SIGKILL (no clean-up)."""

    def __init__(
        self, env: dict[str, str], tmp: Path, port: int | None = None, args: tuple[str, ...] = ()
    ) -> None:
        self.env = env
        # one server process unless the test asks for more (each process of `serve
        # --workers N` pays the whole start-up; test_serve_workers.py covers N > 1)
        self.args = args if "--workers" in args else (*args, "--workers", "1")
        self.tmp = tmp
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = (self.tmp / f"serve-{self.port}-{self.starts}.log").open("w")
        self.proc = subprocess.Popen(
            cli("serve", "--host", "127.0.0.1", "--port", str(self.port), *self.args),
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"callboard serve exited:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/callboard/v1/Health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"callboard serve did not answer:\n{self.log()}")
            time.sleep(0.1)

    def log(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-4000:]
            for p in sorted(self.tmp.glob(f"serve-{self.port}-*.log"))
        )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


ENDS_AT_ONCE: dict[str, Any] = {
    "description": "ends at once",
    "initial_state": "Trigger",
    "states": [
        {
            "name": "Trigger",
            "type": "trigger",
            "transitions": [
                {"event": "incomingMessage"},
                {"event": "incomingCall"},
                {"event": "incomingConversationMessage"},
                {"event": "incomingRequest"},
                {"event": "incomingParent"},
            ],
            "properties": {"offset": {"x": 0, "y": 0}},
        }
    ],
}
"""A flow whose every trigger ends the execution at once."""


def create_flow(client: httpx.Client, definition: dict[str, Any]) -> str:
    response = client.post(
        "/v2/Flows",
        data={
            "FriendlyName": "durability",
            "Status": "published",
            "Definition": json.dumps(definition),
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["sid"])


def ask_definition(timeout: str) -> dict[str, Any]:
    """REST or message → Send & Wait For Reply → a thank-you or a 'too slow' → end."""
    trigger = {
        "name": "Trigger",
        "type": "trigger",
        "transitions": [
            {"event": "incomingMessage", "next": "ask"},
            {"event": "incomingCall"},
            {"event": "incomingConversationMessage"},
            {"event": "incomingRequest", "next": "ask"},
            {"event": "incomingParent"},
        ],
        "properties": {"offset": {"x": 0, "y": 0}},
    }

    def state(name: str, wtype: str, props: dict[str, Any], **nexts: str) -> dict[str, Any]:
        return {
            "name": name,
            "type": wtype,
            "transitions": [{"event": e, **({"next": n} if n else {})} for e, n in nexts.items()],
            "properties": {**props, "offset": {"x": 0, "y": 0}},
        }

    return {
        "description": "durability",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            trigger,
            state(
                "ask",
                "send-and-wait-for-reply",
                {"body": "Name?", "timeout": timeout},
                incomingMessage="thanks",
                timeout="slow",
                deliveryFailure="",
            ),
            state(
                "thanks",
                "send-message",
                {"body": "Thanks {{widgets.ask.inbound.Body}}"},
                sent="",
                failed="",
            ),
            state("slow", "send-message", {"body": "Too slow"}, sent="", failed=""),
        ],
    }
