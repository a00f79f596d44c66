"""Golden conversations: each tests/golden/*.txt transcript is replayed through the local
runner (in memory) and through the durable path (the composition root's services on a
real SQLite database, :mod:`tests.golden.durable`), and the conversation each produces
must match the file exactly.

Transcript lines:
  ``> text``   the contact sends ``text`` (everything after "> ")
  ``< text``   the flow sends ``text`` (formatted as ``callboard chat`` prints it)
  ``! timeout`` the pending timer fires
  ``# flow: F`` / ``# mock: F`` / ``# subflow: FW...=F`` / ``# param: k=v`` set-up
  (files under tests/golden/flows); any other ``#`` line is a comment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from callboard.commands.chat import format_message
from callboard.contract.io import SendMessage
from callboard.engine import Bundle, FlowRef
from callboard.engine.env import FakeEnv
from callboard.flow.model import load_flow
from callboard.runtime.local import LocalRunner, MockTable
from callboard.validation.definition import validate_flow
from callboard.widgets.registry import WIDGETS
from tests.golden.durable import replay_durable

HERE = Path(__file__).resolve().parent
FLOWS = HERE / "flows"
REPO = HERE.parents[1]
SHARED_FLOWS = REPO / ".." / "shared" / "studio-flows"
MAIN_SID = "FW" + "f" * 32


@dataclass
class Script:
    flow: str = ""
    mock: str = ""
    subflows: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)  # the conversation: >, <, ! lines


def parse(path: Path) -> Script:
    script = Script()
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.startswith("#"):
            key, sep, value = raw[1:].partition(":")
            key, value = key.strip(), value.strip()
            if not sep:
                continue
            if key == "flow":
                script.flow = value
            elif key == "mock":
                script.mock = value
            elif key == "subflow":
                sid, _, file = value.partition("=")
                script.subflows[sid.strip()] = file.strip()
            elif key == "param":
                k, _, v = value.partition("=")
                script.params[k.strip()] = v
            continue
        if raw.strip() == "":
            continue
        assert raw[:2] in ("> ", "< ") or raw == "! timeout", f"{path.name}: bad line {raw!r}"
        script.lines.append(raw)
    assert script.flow, f"{path.name}: no '# flow:' line"
    return script


def mock_table(script: Script) -> MockTable:
    if script.mock:
        return MockTable.from_json(json.loads((FLOWS / script.mock).read_text()))
    return MockTable()  # never the network in tests


def replay(script: Script) -> list[str]:
    """Run the script's inputs; return the conversation that actually happened."""
    main = load_flow((FLOWS / script.flow).read_bytes())
    subflows = {
        sid: FlowRef(sid, 1, load_flow((FLOWS / file).read_bytes()))
        for sid, file in script.subflows.items()
    }
    mocks = mock_table(script)
    out: list[str] = []

    def on_message(effect: SendMessage) -> None:
        out.append("< " + format_message(effect))

    runner = LocalRunner(
        Bundle(FlowRef(MAIN_SID, 1, main), subflows, widgets=WIDGETS),
        FakeEnv(),
        on_message=on_message,
        mocks=mocks,
    )
    if script.params:
        runner.start_request(script.params)
    for line in script.lines:
        if line.startswith("< "):
            continue
        out.append(line)
        if line.startswith("> "):
            runner.message(line[2:])
        elif not runner.fire_timeout():
            out.append("! (no timer was pending)")
    return out


TRANSCRIPTS = sorted(HERE.glob("*.txt"))


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_golden_conversation(path: Path) -> None:
    script = parse(path)
    assert "\n".join(replay(script)) == "\n".join(script.lines)


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_golden_conversation_through_the_durable_path(path: Path, tmp_path: Path) -> None:
    script = parse(path)
    happened = replay_durable(
        FLOWS,
        script.flow,
        script.subflows,
        script.params,
        script.lines,
        mock_table(script),
        tmp_path / "golden.db",
        format_message,
    )
    assert "\n".join(happened) == "\n".join(script.lines)


def test_transcripts_cover_every_golden_flow() -> None:
    used = {parse(p).flow for p in TRANSCRIPTS}
    used |= {f for p in TRANSCRIPTS for f in parse(p).subflows.values()}
    flows = {p.name for p in FLOWS.glob("*.json") if not p.name.endswith(".mock.json")}
    assert flows <= used


GOLDEN_FLOWS = sorted(p for p in FLOWS.glob("*.json") if not p.name.endswith(".mock.json"))


@pytest.mark.parametrize("path", GOLDEN_FLOWS, ids=[p.stem for p in GOLDEN_FLOWS])
def test_golden_flows_are_valid_studio_definitions(path: Path) -> None:
    report = validate_flow(json.loads(path.read_text(encoding="utf-8")))
    assert [str(p) for p in report.errors + report.warnings] == []


def test_a_wrong_transcript_fails() -> None:
    """The comparison is exact: one changed character in an expected line is caught."""
    script = parse(HERE / "survey_happy.txt")
    script.lines[1] = script.lines[1].replace("us?", "us!")
    assert script.lines[1].endswith("us!")
    assert replay(script) != script.lines


# --------------------------------------------------------------------- the real CLI


def _chat(args: list[str], stdin: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "callboard.cli", "chat", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=REPO,
    )


def test_chat_subprocess_requestbin_flow(tmp_path: Path) -> None:
    flow = SHARED_FLOWS / "prebrov__twilio-studio-requestbin__studio-flow.json"
    if not flow.is_file():
        pytest.skip("../shared/studio-flows is not available")
    mock = tmp_path / "mock.json"
    mock.write_text(
        json.dumps(
            {
                "POST https://you_callback.ngrok.io/callback": {
                    "status": 200,
                    "content_type": "application/json",
                    "body": {"message": "got it"},
                }
            }
        )
    )
    result = _chat(
        [
            str(flow),
            "--param",
            "samplegiven=yes",
            "--param",
            "campaignname=spring",
            "--mock",
            str(mock),
        ],
        "Ada\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Hi, how may I address you?",
        'Pleasure to meet you, Ada. HTTP response from callback was: "got it"',
    ]
    assert "Trace" not in result.stderr
    assert "[step] Trigger --incomingRequest--> intro (trigger)" in result.stderr
    assert "[step] callback --success--> ack (make-http-request)" in result.stderr


def test_chat_subprocess_golden_flow_with_timeout_and_pending_wait_at_eof() -> None:
    result = _chat([str(FLOWS / "survey.json")], "hi\n/timeout\nagain\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Hi! On a scale of 1 to 5, how likely are you to recommend us?",
        "No answer? No problem. Text us any time.",
        "Hi! On a scale of 1 to 5, how likely are you to recommend us?",
    ]
    assert "[step] ask_rating --timeout--> no_reply (send-and-wait-for-reply)" in result.stderr


def test_chat_subprocess_bad_input_exits_2() -> None:
    result = _chat(["nope.json"], "")
    assert result.returncode == 2
    assert "callboard chat: cannot read flow file nope.json" in result.stderr
    assert "Traceback" not in result.stderr
