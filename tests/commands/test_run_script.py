"""``./run`` for terminal commands: Python only (no editor build, so no Node.js), paths
relative to the caller's folder, and the checkout's ``./data``."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = ("bash", "env", "cat", "sha256sum", "cut", "dirname")


def _bootstrap_is_a_no_op() -> bool:
    """./run must not re-install here (it would swap the test tools out of .venv)."""
    stamp = REPO / ".venv" / ".callboard-installed"
    if not stamp.is_file():
        return False
    want = hashlib.sha256(
        (REPO / "pyproject.toml").read_bytes() + (REPO / "requirements-dev.lock").read_bytes()
    ).hexdigest()
    return stamp.read_text().strip() == want


def test_run_a_terminal_command_from_elsewhere_without_node(tmp_path: Path) -> None:
    if not _bootstrap_is_a_no_op():
        pytest.skip(".venv is not the current dev install (./scripts/bootstrap dev)")
    tools = tmp_path / "bin"  # a PATH with the shell tools ./run needs, and no node/npm
    tools.mkdir()
    for name in TOOLS:
        found = shutil.which(name)
        assert found is not None, name
        (tools / name).symlink_to(found)
    here = tmp_path / "elsewhere"
    here.mkdir()
    flow = {
        "description": "d",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "transitions": [],
                "properties": {"offset": {"x": 0, "y": 0}},
            }
        ],
    }
    (here / "flow.json").write_text(json.dumps(flow))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLBOARD_")}
    env["PATH"] = str(tools)
    done = subprocess.run(
        [str(REPO / "run"), "flows", "validate", "flow.json"],
        cwd=here,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "npm" not in done.stderr and "building the web editor" not in done.stderr
    listed = subprocess.run(
        [str(REPO / "run"), "accounts", "list"],
        cwd=here,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert f"database sqlite:///{REPO / 'data' / 'callboard.db'}" in listed.stderr
    assert not (here / "data").exists()
