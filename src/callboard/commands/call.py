"""``callboard call FLOW.json``: call a flow in the terminal, as Twilio Voice would."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from callboard.channels.call_driver import CallDriver, CallError, Heard
from callboard.channels.local_call import LocalCall
from callboard.channels.twiml_interpreter import Gather
from callboard.commands.chat import (
    ChatError,
    _flow_sid_for,
    check_flow,
    format_step,
    format_warning,
    load_flow_file,
    load_mocks,
    load_subflows,
)
from callboard.commands.terminal import terminal_session
from callboard.engine import Bundle, FlowRef, StepRecord
from callboard.engine.env import SystemEnv
from callboard.runtime.local import DEFAULT_CONTACT, DEFAULT_FLOW_ADDRESS, LocalRunner
from callboard.widgets.registry import WIDGETS

__all__ = ["COMMANDS", "call", "format_heard"]

HELP = """Call the flow in FLOW_FILE (a Studio flow definition JSON) from the terminal.

\b
The call starts an execution on the Trigger's incomingCall transition, with trigger.call
parameters like a real Twilio webhook (CallSid, From, To, CallStatus, Direction...).
The flow answers with TwiML, which is played the way Twilio would:
  <Say>       its words are printed on standard output
  <Play>      printed as  [play] URL
  <Gather>    asks for your input:  digits or speech>
  <Record>    asks for your message:  record>
  <Redirect>, Gather/Record/Dial actions: followed, like Twilio does
  <Dial>, <Enqueue>, <Pay>, <Connect>: printed; they succeed (the party answers, the
              queue bridges the call, the payment goes through)
  <Hangup>    or the end of the TwiML: the call ends (exit status 0)

\b
Input lines (at a Gather):
  1#          press keys 1 and #
  say: text   say "text" (speech recognition result)
  (empty)     stay silent (the Gather times out)
  /hangup     hang up (the flow gets the hang-up)
At a Record, a line stands for your recorded message (empty: silence).
End of input hangs up. Steps, warnings and notes go to standard error.

\b
HTTP (Make HTTP Request, Run Function, TwiML Redirect targets): real URLs, unless
--mock FILE is given (the same format as `callboard chat --mock`).
Works with piped input, e.g.:  printf '1\\nsay: yes\\n' | callboard call ivr.json
"""


def format_heard(item: Heard) -> tuple[str, bool]:
    """``(line, on_stdout)`` for one thing heard on the call."""
    if item.kind == "say":
        return item.text, True
    if item.kind in ("play", "dial", "enqueue", "pay", "connect", "hangup", "reject"):
        return f"[{item.kind}] {item.text}".rstrip(), True
    if item.kind == "gather":
        return f"  [gather] waiting for {item.text.replace(' ', ' or ')}", False
    return f"  [{item.kind}] {item.text}".rstrip(), False


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"callboard call: {message}", err=True)
    sys.exit(code)


@click.command("call", help=HELP, short_help="Call a flow in the terminal (voice simulator).")
@click.argument("flow_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--from", "from_", default=DEFAULT_CONTACT, show_default=True, help="The caller.")
@click.option(
    "--to", "to", default=DEFAULT_FLOW_ADDRESS, show_default=True, help="The flow's number."
)
@click.option(
    "--mock",
    "mock",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file answering HTTP requests instead of the network.",
)
@click.option(
    "--subflow", "subflows", multiple=True, metavar="[FW...=]FILE", help="A subflow. Repeatable."
)
@click.option("--force", is_flag=True, help="Run the flow even if it does not validate.")
@click.option("--quiet", "-q", is_flag=True, help="Do not show steps and notes on stderr.")
def call(
    flow_file: Path,
    from_: str,
    to: str,
    mock: Path | None,
    subflows: tuple[str, ...],
    force: bool,
    quiet: bool,
) -> None:
    try:
        definition = load_flow_file(flow_file)
        problems, _ = check_flow(definition)
        for problem in problems:
            click.echo(f"{flow_file}: {problem}", err=True)
        if problems and not force:
            _fail(f"{flow_file} is not a valid flow ({len(problems)} problem(s)); use --force")
        if definition.state(definition.initial_state) is None:
            _fail(f"{flow_file}: initial_state {definition.initial_state!r} names no widget")
        bundle = Bundle(
            FlowRef(_flow_sid_for(flow_file), 1, definition),
            load_subflows(subflows),
            widgets=WIDGETS,
        )
        mocks = load_mocks(mock) if mock is not None else None
    except ChatError as exc:
        _fail(str(exc))

    def note(text: str) -> None:
        if not quiet:
            click.echo(click.style(text, dim=True), err=True)

    def on_step(step: StepRecord) -> None:
        note(format_step(step, bundle.main.sid))
        for warning in step.warnings:
            note(format_warning(warning))

    def on_heard(item: Heard) -> None:
        line, out = format_heard(item)
        if out:
            click.echo(line)
        else:
            note(line)

    env = SystemEnv()
    local: LocalCall
    runner = LocalRunner(
        bundle,
        env,
        contact=from_,
        flow_address=to,
        on_step=on_step,
        on_warning=lambda w: note(format_warning(w)),
        on_notice=lambda t: note(f"  [note] {t}"),
        mocks=mocks,
        on_respond=lambda effect: local.respond(effect),
    )
    local = LocalCall(runner)
    driver = CallDriver(
        local.fetch,
        call_sid=env.sid("CA"),
        account_sid=runner.account_sid,
        from_=from_,
        to=to,
        status_url=local.url,
        on_heard=on_heard,
    )
    trigger = definition.state(definition.initial_state)
    if trigger is not None and trigger.next_for("incomingCall") is None:
        note("  [note] the Trigger's incomingCall is not connected: the call ends at once")
    with terminal_session("call", "call"), runner:
        driver.answer(local.url)
        while not driver.ended:
            waiting = driver.waiting
            if waiting is None:
                break
            prompt = "digits or speech> " if isinstance(waiting, Gather) else "record> "
            if sys.stdin.isatty():
                click.echo(prompt, nl=False, err=True)
            raw = sys.stdin.readline()
            text = raw.rstrip("\r\n")
            if raw == "" or text.strip().lower() in ("/hangup", "/quit", "/q"):
                driver.hangup()
                break
            try:
                if isinstance(waiting, Gather):
                    stripped = text.strip()
                    if stripped.lower().startswith("say:"):
                        driver.gather(speech=stripped[4:].strip() or None)
                    else:
                        driver.gather(digits=stripped or None)
                else:
                    driver.record(text.strip() or None)
            except CallError as exc:
                note(f"  [note] {exc}")
        if runner.state is not None and runner.state.status == "ended":
            note(f"  [end] execution ended: {runner.state.ended_reason or 'completed'}")


COMMANDS = [call]
