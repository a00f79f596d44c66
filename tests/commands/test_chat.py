"""``callboard chat`` in-process (click's CliRunner); subprocess runs are in tests/golden."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from callboard.cli import cli
from callboard.commands import chat as chat_module
from callboard.contract.io import SendMessage
from tests.runtime.fake_widgets import flow, install, state

SUB_SID = "FW" + "9" * 32


@pytest.fixture(autouse=True)
def _fake_widgets(monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch)


def _write(tmp_path: Path, definition: Any, name: str = "flow.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(definition))
    return path


def _run(args: list[str], stdin: str = "") -> Result:
    return CliRunner().invoke(cli, ["chat", *args], input=stdin)


ASK_FLOW = flow(
    state("ask", "test-ask", reply="echo", timeout="late"),
    state("echo", "send-message", {"body": "you said {{widgets.ask.inbound.Body}}"}),
    state(
        "late",
        "send-message",
        {"body": "too late\nbye", "media_url": "https://m/a.png, https://m/b.png"},
    ),
)


def test_each_line_is_a_message_and_each_outbound_message_a_line(tmp_path: Path) -> None:
    result = _run([str(_write(tmp_path, ASK_FLOW))], "hi\nthere\nagain\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["you said there"]
    err = result.stderr
    assert "  [step] Trigger --incomingMessage--> ask (trigger)" in err
    assert "  [wait] ask waits for a reply (/timeout fires its timer)" in err
    assert "  [step] echo --sent--> Ended (send-message)" in err
    assert "[end] execution ended: completed" in err
    # "again" started a second execution, which is still waiting at end of input
    assert err.count("[step] Trigger --incomingMessage--> ask") == 2


def test_timeout_command_fires_the_pending_timer(tmp_path: Path) -> None:
    result = _run([str(_write(tmp_path, ASK_FLOW))], "hi\n/timeout\n/timeout\n")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["too late\\nbye https://m/a.png https://m/b.png"]
    assert "[step] ask --timeout--> late (test-ask)" in result.stderr
    assert "[note] no timer is pending" in result.stderr


def test_quit_stops_reading_and_commands_can_be_escaped(tmp_path: Path) -> None:
    result = _run([str(_write(tmp_path, ASK_FLOW))], "hi\n\n//slash\n/quit\nignored\n")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["you said /slash"]


def test_unknown_command_and_end_command(tmp_path: Path) -> None:
    result = _run([str(_write(tmp_path, ASK_FLOW))], "/what\n/end\nhi\n/end\n")
    assert result.exit_code == 0
    assert "unknown command /what; type //what to send it" in result.stderr
    assert "no execution is running" in result.stderr
    assert "[end] execution ended: ended" in result.stderr


def test_param_starts_on_incoming_request_before_reading_input(tmp_path: Path) -> None:
    definition = flow(
        state("hi", "send-message", {"body": "Hello {{flow.data.name}} {{flow.data.n}}"})
    )
    result = _run(
        [str(_write(tmp_path, definition)), "--param", "name=Ann", "--param", "n=a=b"], ""
    )
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["Hello Ann a=b"]
    assert "[step] Trigger --incomingRequest--> hi (trigger)" in result.stderr


def test_unconnected_trigger_event_gets_a_hint(tmp_path: Path) -> None:
    definition = flow(state("hi", "send-message", {"body": "x"}))
    definition["states"][0]["transitions"] = [
        {"event": "incomingMessage"},
        {"event": "incomingRequest", "next": "hi"},
    ]
    result = _run([str(_write(tmp_path, definition))], "hello\n")
    assert result.stdout == ""
    assert (
        "the Trigger's incomingMessage is not connected, so each execution ends at once; "
        "its incomingRequest is connected: start it with --param KEY=VALUE"
    ) in result.stderr


def test_from_and_to_and_quiet(tmp_path: Path) -> None:
    definition = flow(
        state(
            "hi", "send-message", {"body": "{{contact.channel.address}}>{{flow.channel.address}}"}
        )
    )
    result = _run(
        [str(_write(tmp_path, definition)), "--from", "+331", "--to", "+332", "-q"], "x\n"
    )
    assert result.stdout.splitlines() == ["+331>+332"]
    assert result.stderr == ""


def test_mock_file_answers_http(tmp_path: Path) -> None:
    definition = flow(
        state(
            "f",
            "test-fetch",
            {"url": "https://api.test/{{trigger.message.Body}}"},
            ok="say",
            fail="say",
        ),
        state(
            "say",
            "send-message",
            {"body": "{{widgets.f.status_code}}:{{widgets.f.body}}{{widgets.f.error}}"},
        ),
    )
    mock = _write(
        tmp_path, {"GET https://api.test/known": {"status": 200, "body": "yes"}}, "m.json"
    )
    result = _run([str(_write(tmp_path, definition)), "--mock", str(mock)], "known\nunknown\n")
    assert result.stdout.splitlines() == [
        "200:yes",
        ":no mock for GET https://api.test/unknown",
    ]


def test_subflow_option_forms(tmp_path: Path) -> None:
    sub = _write(tmp_path, {"initial_state": "Trigger", "states": []}, f"{SUB_SID}.json")
    main = _write(tmp_path, flow(state("hi", "send-message", {"body": "x"})))
    assert _run([str(main), "--subflow", str(sub)], "").exit_code == 2  # invalid subflow
    good = flow(state("hi", "send-message", {"body": "x"}))
    _write(tmp_path, good, f"{SUB_SID}.json")
    assert _run([str(main), "--subflow", str(sub)], "").exit_code == 0
    assert _run([str(main), "--subflow", f"{SUB_SID}={sub}"], "").exit_code == 0
    result = _run([str(main), "--subflow", f"{SUB_SID}={tmp_path / 'none.json'}"], "")
    assert result.exit_code == 2 and "cannot read subflow file" in result.stderr


def test_invalid_flow_is_refused_unless_forced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        chat_module, "check_flow", lambda d: (["#/states/1: bad thing"], ["#/states/0: odd"])
    )
    path = _write(tmp_path, flow(state("hi", "send-message", {"body": "ran"})))
    result = _run([str(path)], "x\n")
    assert result.exit_code == 2
    assert f"{path}: #/states/1: bad thing" in result.stderr
    assert "use --force" in result.stderr and result.stdout == ""
    assert f"{path}: warning: #/states/0: odd" in result.stderr
    forced = _run([str(path), "--force"], "x\n")
    assert forced.exit_code == 0 and forced.stdout == "ran\n"


@pytest.mark.parametrize(
    ("definition", "needle"),
    [
        ({"initial_state": "Nope", "states": []}, "names no widget"),
        ("not json", "not valid JSON"),
        ({"states": {}}, "'states' is required"),
    ],
)
def test_unusable_flows_exit_2_without_traceback(
    tmp_path: Path, definition: Any, needle: str
) -> None:
    path = tmp_path / "f.json"
    path.write_text(definition if isinstance(definition, str) else json.dumps(definition))
    result = _run([str(path), "--force"], "")
    assert result.exit_code == 2
    assert needle in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("extra", "mock", "needle"),
    [
        (["--param", "novalue"], None, "--param 'novalue': expected KEY=VALUE"),
        (["--param", "=v"], None, "expected KEY=VALUE"),
        ([], "[1]", "expected a JSON object mapping URLs"),
        ([], "{", "not valid JSON"),
        ([], '{"https://a": {"status": 7}}', "entry 'https://a': status must be"),
        (["--subflow", "plain.json"], None, "cannot tell the subflow's SID"),
        (["--mock", "missing.json"], None, "cannot read mock file missing.json"),
    ],
)
def test_bad_options_exit_2(
    tmp_path: Path, extra: list[str], mock: str | None, needle: str
) -> None:
    args = [str(_write(tmp_path, ASK_FLOW)), *extra]
    if mock is not None:
        (tmp_path / "m.json").write_text(mock)
        args += ["--mock", str(tmp_path / "m.json")]
    result = _run(args, "hi\n")
    assert result.exit_code == 2
    assert needle in result.stderr
    assert result.stdout == ""


def test_the_real_validator_refuses_an_unknown_widget_type(tmp_path: Path) -> None:
    path = _write(tmp_path, flow(state("x", "no-such-widget")))
    result = _run([str(path)], "hi\n")
    assert result.exit_code == 2
    assert f"{path}: #/states/1/type: does not have a value in the enumeration" in result.stderr


def test_a_crashing_widget_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    result = _run([str(_write(tmp_path, flow(state("b", "test-boom"))))], "x\n")
    assert result.exit_code == 1
    assert "internal error while running the flow: RuntimeError: widget exploded" in result.stderr
    assert "Traceback" not in result.output


def test_voice_widget_gets_a_clear_note(tmp_path: Path) -> None:
    result = _run([str(_write(tmp_path, flow(state("v", "test-voice"))))], "x\n")
    assert result.exit_code == 0
    assert "voice is not supported here" in result.stderr
    assert "[end] execution ended: failed" in result.stderr


def test_help_documents_the_commands() -> None:
    result = CliRunner().invoke(cli, ["chat", "--help"])
    assert result.exit_code == 0
    for word in (
        "/timeout",
        "/quit",
        "--mock",
        "--param",
        "--subflow",
        "--force",
        "incomingRequest",
    ):
        assert word in result.output


@pytest.mark.parametrize(
    ("body", "media", "line"),
    [
        ("plain", (), "plain"),
        ("two\nlines", (), "two\\nlines"),
        ("crlf\r\nend", (), "crlf\\nend"),
        ("back\\slash", (), "back\\\\slash"),
        ("", ("https://m/1",), "https://m/1"),
        ("pic", ("https://m/1", "https://m/2"), "pic https://m/1 https://m/2"),
    ],
)
def test_format_message(body: str, media: tuple[str, ...], line: str) -> None:
    assert chat_module.format_message(SendMessage("t", "+1", "+2", body, media)) == line


PARKING = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "studio-flows"
    / "twilio-professional-services__flex-project-template__infra-as-code_terraform_"
    "modules_park-interaction_flows_template_example_messaging_with_parking_flow.json"
)


def test_conversation_option_runs_from_incoming_conversation_message(tmp_path: Path) -> None:
    definition = {
        "initial_state": "Trigger",
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "transitions": [
                    {"event": "incomingMessage"},
                    {"event": "incomingCall"},
                    {"event": "incomingConversationMessage", "next": "ask"},
                    {"event": "incomingRequest"},
                ],
                "properties": {},
            },
            {
                "name": "ask",
                "type": "send-and-wait-for-reply",
                "transitions": [
                    {"event": "incomingMessage", "next": "hi"},
                    {"event": "timeout"},
                    {"event": "deliveryFailure"},
                ],
                "properties": {"body": "Hello {{trigger.conversation.Author}}"},
            },
            {
                "name": "hi",
                "type": "send-message",
                "transitions": [{"event": "sent"}, {"event": "failed"}],
                "properties": {
                    "body": "{{widgets.ask.inbound.Body}} in {{flow.channel.ConversationSid}}"
                },
            },
        ],
    }
    path = _write(tmp_path, definition)
    conversation = "CH" + "e" * 32
    result = _run([str(path), "--conversation", "--from", "ann"], "hi\nBob\n")
    assert result.exit_code == 0, result.output
    first, second = result.stdout.splitlines()
    assert first == "Hello ann" and second.startswith("Bob in CH")
    assert "Trigger --incomingConversationMessage--> ask" in result.stderr
    result = _run([str(path), "--conversation", "--from", conversation], "hi\nBob\n")
    assert result.stdout.splitlines() == ["Hello user", f"Bob in {conversation}"]
    plain = _run([str(path)], "hi\n")  # without --conversation: incomingMessage (unwired)
    assert plain.stdout == "" and "incomingMessage is not connected" in plain.stderr


@pytest.mark.skipif(not PARKING.is_file(), reason="../shared/studio-flows is absent")
def test_the_conversations_only_parking_flow_reaches_flex(tmp_path: Path) -> None:
    result = _run([str(PARKING), "--conversation", "--force"], "hi\nsales please\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("Thanks! Please wait while I locate a sales")
    assert "Flex task created: KD" in result.stderr
    assert "send_to_flex --callComplete--> Ended" in result.stderr
