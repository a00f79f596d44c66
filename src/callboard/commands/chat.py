"""``callboard chat FLOW.json``: talk to a flow in the terminal as an SMS contact."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import click

from callboard.commands.terminal import terminal_session
from callboard.contract.io import SendMessage
from callboard.engine import Bundle, FlowRef, StepRecord, StepWarning
from callboard.engine.env import SystemEnv
from callboard.flow.model import FlowDefinition, FlowFormatError, load_flow
from callboard.runtime.local import (
    DEFAULT_CONTACT,
    DEFAULT_FLOW_ADDRESS,
    LocalRunner,
    MockError,
    MockTable,
)
from callboard.store.sids import SID_HEX
from callboard.validation.definition import validate_flow
from callboard.widgets.registry import WIDGETS

__all__ = ["COMMANDS", "chat", "format_message", "load_flow_file"]

FLOW_SID = re.compile("FW" + SID_HEX)

HELP = """Talk to the flow in FLOW_FILE (a Studio flow definition JSON) as an SMS contact.

\b
Each line you type on standard input is an inbound message from you (--from) to the
flow's number (--to). The first line starts an execution on the Trigger's
incomingMessage transition, with trigger.message parameters like a real Twilio webhook
(Body, From, To, MessageSid, NumMedia, AccountSid...). Later lines are replies to the
running execution. Once the execution has ended, the next line starts a new one.

\b
Every message the flow sends is printed on its own line on standard output: the body
(line breaks written as \\n) followed by its media URLs. Steps, warnings and notes go to
standard error (dimmed on a terminal):
  [step] Trigger --incomingMessage--> ask (trigger)

\b
Lines starting with / are commands:
  /timeout   fire the pending timer now (e.g. Send & Wait For Reply's timeout)
  /end       end the running execution (like REST Status=ended)
  /quit      leave (end of input does the same; exit status 0)
  //text     send "/text" as a message

\b
--conversation: you write in a Twilio Conversation instead (as --from, the author): the
first line starts an execution on incomingConversationMessage (trigger.conversation:
ConversationSid, Author, Body, MessageSid...); the flow's messages are posted to it.

\b
--param KEY=VALUE (repeatable) starts an execution at once on incomingRequest, as the
REST API does, with those Parameters (flow.data.KEY), before any input is read.

\b
HTTP: Make HTTP Request and Run Function call real URLs, unless --mock FILE is given:
a JSON object mapping "URL" or "METHOD URL" (a trailing * matches a prefix) to a
response {"status": 200, "content_type": "application/json", "body": ...}; body is a
string or any JSON value. With --mock, a request with no entry fails (no network).

\b
Subflows: --subflow FILE (the flow SID FW... is taken from the file name) or
--subflow FW...=FILE, repeatable.

\b
The flow is validated first; an invalid flow is refused (exit status 2) unless --force.
Works with piped input, e.g.:  printf 'hi\\nyes\\n' | callboard chat flow.json
"""


class ChatError(Exception):
    """A problem with the command's inputs (exit status 2)."""


def load_flow_file(path: Path, what: str = "flow") -> FlowDefinition:
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ChatError(f"cannot read {what} file {path}: {exc.strerror or exc}") from None
    try:
        return load_flow(text, source=str(path))
    except FlowFormatError as exc:
        if exc.path != "#":
            raise ChatError(f"{path}: {exc.path}: {exc.message}") from None
        if str(path) in exc.message:
            raise ChatError(exc.message) from None
        raise ChatError(f"{path}: {exc.message}") from None


def check_flow(definition: FlowDefinition) -> tuple[list[str], list[str]]:
    """The validator's (:mod:`callboard.validation.definition`) errors and warnings, as text."""
    try:
        report = validate_flow(definition.raw)
    except Exception as exc:  # a validator bug must not hide the flow
        return [f"the validator failed: {type(exc).__name__}: {exc}"], []
    return [str(p) for p in report.errors], [str(p) for p in report.warnings]


def validation_problems(definition: FlowDefinition) -> list[str]:
    """The validator's errors (a flow with any is refused unless --force)."""
    return check_flow(definition)[0]


def _flow_sid_for(path: Path) -> str:
    found = FLOW_SID.search(path.stem)
    if found:
        return "FW" + found.group(0)[2:].lower()
    return "FW" + hashlib.md5(str(path.resolve()).encode()).hexdigest()


def load_subflows(specs: tuple[str, ...]) -> dict[str, FlowRef]:
    out: dict[str, FlowRef] = {}
    for spec in specs:
        sid_text, sep, file_text = spec.partition("=")
        if sep and FLOW_SID.fullmatch(sid_text.strip()):
            sid, path = sid_text.strip(), Path(file_text)
        else:
            path = Path(spec)
            found = FLOW_SID.search(path.stem)
            if not found:
                raise ChatError(
                    f"--subflow {spec}: cannot tell the subflow's SID; name the file "
                    "after it (FW<32 hex>.json) or write FW...=FILE"
                )
            sid = found.group(0)
        definition = load_flow_file(path, "subflow")
        problems = validation_problems(definition)
        if problems:
            raise ChatError(f"subflow {path} is invalid:\n  " + "\n  ".join(problems))
        out[sid] = FlowRef(sid, 1, definition)
    return out


def load_mocks(path: Path) -> MockTable:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ChatError(f"cannot read mock file {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ChatError(f"{path}: not valid JSON: {exc}") from None
    try:
        return MockTable.from_json(data, str(path))
    except MockError as exc:
        raise ChatError(str(exc)) from None


def parse_params(items: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ChatError(f"--param {item!r}: expected KEY=VALUE")
        params[key.strip()] = value
    return params


def format_message(effect: SendMessage) -> str:
    """One outbound message as one line: the body (newlines as \\n), then media URLs."""
    body = effect.body.replace("\\", "\\\\").replace("\r\n", "\\n")
    body = body.replace("\n", "\\n").replace("\r", "\\n")
    return " ".join(p for p in (body, *effect.media_urls) if p)


def format_step(step: StepRecord, main_sid: str) -> str:
    where = "" if step.flow_sid == main_sid else f" [subflow {step.flow_sid}]"
    return (
        f"  [step] {step.transitioned_from} --{step.name}--> {step.transitioned_to}"
        f" ({step.type}){where}"
    )


def format_warning(warning: StepWarning) -> str:
    who = f" ({warning.widget})" if warning.widget else ""
    return f"  [warning {warning.code}] {warning.message}{who}"


class _Session:
    """Reads the contact's lines and commands; ``note`` shows remarks on stderr."""

    def __init__(
        self, runner: LocalRunner, note: Callable[[str], None], extra: dict[str, str]
    ) -> None:
        self.runner = runner
        self.note = note
        self.extra = extra  # added to every inbound message (a conversation's Author)
        self._reported_end = 0  # the execution (count) whose end was reported

    def after_input(self) -> None:
        r = self.runner
        state = r.state
        if state is None:
            return
        if state.status == "ended":
            if self._reported_end != r.executions:
                self.note(f"  [end] execution ended: {state.ended_reason or 'completed'}")
                self._reported_end = r.executions
            return
        waiting = state.waiting
        widget = waiting.widget if waiting else "?"
        what = r.waiting_for
        if what == "reply":
            extra = " (/timeout fires its timer)" if r.timers else ""
            self.note(f"  [wait] {widget} waits for a reply{extra}")
        elif what == "timer":
            self.note(f"  [wait] {widget} waits for a timer (/timeout fires it)")
        else:
            self.note(f"  [wait] {widget} waits for an event the terminal cannot send")

    def line(self, text: str) -> bool:
        """Handle one input line; False to stop."""
        if text.startswith("//"):
            text = text[1:]
        elif text.startswith("/"):
            command = text.strip().lower()
            if command in ("/quit", "/exit", "/q"):
                return False
            if command == "/timeout":
                if not self.runner.fire_timeout():
                    self.note("  [note] no timer is pending")
            elif command == "/end":
                if not self.runner.end("ended"):
                    self.note("  [note] no execution is running")
            else:
                self.note(f"  [note] unknown command {text.strip()}; type /{text} to send it")
                return True
            self.after_input()
            return True
        if not text.strip():
            return True
        self.runner.message(text, self.extra)
        self.after_input()
        return True


def _trigger_hint(definition: FlowDefinition, rest: bool, conversation: bool = False) -> str:
    """A note when the Trigger transition this session uses is not connected."""
    trigger = definition.state(definition.initial_state)
    if trigger is None:
        return ""
    event = "incomingRequest" if rest else "incomingMessage"
    if conversation and not rest:
        event = "incomingConversationMessage"
    if trigger.next_for(event) is not None:
        return ""
    other = "incomingMessage" if rest else "incomingRequest"
    how = "send a message instead" if rest else "start it with --param KEY=VALUE"
    extra = f"; its {other} is connected: {how}" if trigger.next_for(other) else ""
    return f"the Trigger's {event} is not connected, so each execution ends at once{extra}"


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"callboard chat: {message}", err=True)
    sys.exit(code)


@click.command("chat", help=HELP, short_help="Talk to a flow in the terminal as an SMS contact.")
@click.argument("flow_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--from",
    "from_",
    default=DEFAULT_CONTACT,
    show_default=True,
    help="Your address: the contact (From of your messages).",
)
@click.option(
    "--to",
    "to",
    default=DEFAULT_FLOW_ADDRESS,
    show_default=True,
    help="The flow's address (To of your messages, From of the flow's).",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="REST Parameter; starts the flow on incomingRequest at once. Repeatable.",
)
@click.option(
    "--mock",
    "mock",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file answering HTTP/Function requests instead of the network.",
)
@click.option(
    "--subflow",
    "subflows",
    multiple=True,
    metavar="[FW...=]FILE",
    help="A subflow definition for Run Subflow widgets. Repeatable.",
)
@click.option(
    "--conversation",
    "conversation",
    is_flag=True,
    help="Write in a Twilio Conversation (incomingConversationMessage) as --from.",
)
@click.option("--force", is_flag=True, help="Run the flow even if it does not validate.")
@click.option("--quiet", "-q", is_flag=True, help="Do not show steps and notes on stderr.")
def chat(
    flow_file: Path,
    from_: str,
    to: str,
    params: tuple[str, ...],
    mock: Path | None,
    subflows: tuple[str, ...],
    conversation: bool,
    force: bool,
    quiet: bool,
) -> None:
    try:
        definition = load_flow_file(flow_file)
        problems, warnings = check_flow(definition)
        if not quiet:
            for warning in warnings:
                click.echo(click.style(f"{flow_file}: warning: {warning}", dim=True), err=True)
        for problem in problems:
            click.echo(f"{flow_file}: {problem}", err=True)
        if problems and not force:
            _fail(
                f"{flow_file} is not a valid flow ({len(problems)} problem(s)); "
                "use --force to run it anyway"
            )
        if definition.state(definition.initial_state) is None:
            _fail(f"{flow_file}: initial_state {definition.initial_state!r} names no widget")
        rest = parse_params(params)
        bundle = Bundle(
            FlowRef(_flow_sid_for(flow_file), 1, definition),
            load_subflows(subflows),
            widgets=WIDGETS,
        )
        mocks = load_mocks(mock) if mock is not None else None
    except ChatError as exc:
        _fail(str(exc))

    out = sys.stdout

    def on_message(effect: SendMessage) -> None:
        click.echo(format_message(effect), file=out)

    def note(text: str) -> None:
        if not quiet:
            click.echo(click.style(text, dim=True), err=True)

    def on_step(step: StepRecord) -> None:
        note(format_step(step, bundle.main.sid))
        for warning in step.warnings:
            note(format_warning(warning))

    env = SystemEnv()
    contact, extra = from_, {}
    if conversation:  # the contact is the Conversation; --from writes in it
        contact = from_ if from_.startswith("CH") else env.sid("CH")
        author = "user" if from_.startswith("CH") else from_
        extra = {"Author": author, "From": author}
    runner = LocalRunner(
        bundle,
        env,
        contact=contact,
        flow_address=to,
        on_message=on_message,
        on_step=on_step,
        on_warning=lambda w: note(format_warning(w)),
        on_notice=lambda t: note(f"  [note] {t}"),
        mocks=mocks,
    )
    session = _Session(runner, note, extra)
    with terminal_session("chat", "flow"), runner:
        if sys.stdin.isatty() and not quiet:
            note(
                f"Chatting with {flow_file} as {from_} "
                + (f"in conversation {contact}. " if conversation else f"(flow number {to}). ")
                + "Type messages; /timeout fires a timer, /quit leaves."
            )
        hint = _trigger_hint(definition, bool(params), conversation)
        if hint:
            note(f"  [note] {hint}")
        if params:
            runner.start_request(rest)
            session.after_input()
        while True:
            raw = sys.stdin.readline()
            if raw == "":
                break
            if not session.line(raw.rstrip("\r\n")):
                break


COMMANDS = [chat]
