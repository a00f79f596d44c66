"""Pure-engine throughput: steps per second on a 20-widget, Liquid-heavy flow.

The flow is generated here: Set Variables with several Liquid values, Split Based On
with Liquid inputs and values, Send Message with templated bodies, and a loop with a
counter (about 300 steps per execution). It runs through ``callboard.engine.advance``
with a deterministic :class:`~callboard.engine.env.FakeEnv`; every effect is answered
in-process (a message resource for each Send Message), so nothing but the engine, the
widgets and Liquid is measured. One process, one core.

    .venv/bin/python benchmarks/engine_steps.py [--runs 7] [--executions 20] [--profile]
    .venv/bin/python benchmarks/engine_steps.py --scenario reply [--executions 2000]

``--scenario reply`` runs instead the flow of ``benchmarks/throughput.py`` (Trigger → Set
Variables with three Liquid values → Split Based On → Send Message, 4 steps) from an
inbound SMS, answering its one Send Message, and prints microseconds of CPU per execution.

Prints the rates of several timed runs after a warm-up, by wall clock and by CPU time of
this process (steps per CPU-second of one core: what the bar is judged on, since a busy
shared machine slows the wall clock). The bar is 20,000 steps/s.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from typing import Any

from callboard.contract.io import EffectResult, Event, SendMessage, Start
from callboard.engine import Bundle, FlowRef, advance
from callboard.engine.env import FakeEnv
from callboard.flow.model import FlowDefinition
from callboard.widgets.registry import WIDGETS
from harness import reply_flow

BAR = 20_000
LOOPS = 30


def _kv(**values: str) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in values.items()]


def _state(
    name: str, wtype: str, transitions: list[dict[str, Any]], **props: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "type": wtype,
        "transitions": transitions,
        "properties": {"offset": {"x": 0, "y": 0}, **props},
    }


def _match(nxt: str, operator: str, subject: str, value: str) -> dict[str, Any]:
    return {
        "event": "match",
        "next": nxt,
        "conditions": [
            {"friendly_name": operator, "arguments": [subject], "type": operator, "value": value}
        ],
    }


def _send(name: str, nxt: str | None, body: str) -> dict[str, Any]:
    sent: dict[str, Any] = {"event": "sent", **({"next": nxt} if nxt else {})}
    return _state(
        name,
        "send-message",
        [sent, {"event": "failed"}],
        body=body,
        **{"from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}"},
    )


def build_flow() -> dict[str, Any]:
    """The 20-widget benchmark flow (a Studio flow definition)."""
    i = "{{flow.variables.i}}"
    states = [
        _state(
            "Trigger",
            "trigger",
            [{"event": "incomingMessage"}, {"event": "incomingRequest", "next": "init"}],
        ),
        _state(
            "init",
            "set-variables",
            [{"event": "next", "next": "check_loop"}],
            variables=_kv(
                i="0",
                total="0",
                name="{{flow.data.name | strip | capitalize}}",
                greeting=(
                    "Hello {{flow.data.name | strip | capitalize}} from {{flow.channel.address}}"
                ),
                limit="{{flow.data.limit | default: 30 | plus: 0}}",
            ),
        ),
        _state(
            "check_loop",
            "split-based-on",
            [
                {"event": "noMatch", "next": "finish"},
                _match(
                    "step",
                    "less_than",
                    "{{flow.variables.i | plus: 0}}",
                    "{{flow.variables.limit}}",
                ),
            ],
            input="{{flow.variables.i | plus: 0}}",
        ),
        _state(
            "step",
            "set-variables",
            [{"event": "next", "next": "route_mod"}],
            variables=_kv(
                i="{{flow.variables.i | plus: 1}}",
                total="{{flow.variables.total | plus: flow.variables.i}}",
                label=(
                    "{% assign n = flow.variables.i | plus: 1 %}"
                    "{% if n > 10 %}big{% else %}small{% endif %}-{{n}}"
                ),
            ),
        ),
        _state(
            "route_mod",
            "split-based-on",
            [
                {"event": "noMatch", "next": "calc"},
                _match("msg_fizz", "equal_to", "{{flow.variables.i | modulo: 3}}", "0"),
                _match("msg_one", "equal_to", "{{flow.variables.i | modulo: 3}}", "1"),
            ],
            input="{{flow.variables.i | modulo: 3}}",
        ),
        _send(
            "msg_fizz",
            "calc",
            "Hi {{flow.variables.name}}, "
            + i
            + " is divisible by 3 (total {{flow.variables.total}}).",
        ),
        _send(
            "msg_one",
            "calc",
            "{{flow.variables.greeting}}: step " + i + " of {{flow.variables.limit}}",
        ),
        _state(
            "calc",
            "set-variables",
            [{"event": "next", "next": "parity"}],
            variables=_kv(
                squared="{{flow.variables.i | times: flow.variables.i}}",
                parity=(
                    "{% assign m = flow.variables.i | modulo: 2 %}"
                    "{% if m == 0 %}even{% else %}odd{% endif %}"
                ),
                shout="{{flow.variables.name | upcase | append: '!'}}",
            ),
        ),
        _state(
            "parity",
            "split-based-on",
            [
                {"event": "noMatch", "next": "odd_vars"},
                _match("even_vars", "equal_to", "{{flow.variables.parity}}", "even"),
            ],
            input="{{flow.variables.parity}}",
        ),
        _state(
            "even_vars",
            "set-variables",
            [{"event": "next", "next": "summary"}],
            variables=_kv(evens="{{flow.variables.evens | default: 0 | plus: 1}}", last="even"),
        ),
        _state(
            "odd_vars",
            "set-variables",
            [{"event": "next", "next": "summary"}],
            variables=_kv(odds="{{flow.variables.odds | default: 0 | plus: 1}}", last="odd"),
        ),
        _state(
            "summary",
            "split-based-on",
            [
                {"event": "noMatch", "next": "check_big"},
                _match("format", "contains", "{{flow.variables.label}}", "big"),
            ],
            input="{{flow.variables.label}}",
        ),
        _state(
            "format",
            "set-variables",
            [{"event": "next", "next": "check_big"}],
            variables=_kv(
                line="{{flow.variables.label | replace: '-', ' #' | prepend: 'Item '}}",
                words="{{flow.variables.greeting | split: ' ' | size}}",
            ),
        ),
        _state(
            "check_big",
            "split-based-on",
            [
                {"event": "noMatch", "next": "check_loop"},
                _match(
                    "big_msg", "greater_than", "{{flow.variables.squared}}", "{{ 20 | times: 20 }}"
                ),
            ],
            input="{{flow.variables.squared}}",
        ),
        _send("big_msg", "mark", "{{flow.variables.line}}: {{flow.variables.squared}} > 400"),
        _state(
            "mark",
            "set-variables",
            [{"event": "next", "next": "check_loop"}],
            variables=_kv(bigs="{{flow.variables.bigs | default: 0 | plus: 1}}"),
        ),
        _state(
            "finish",
            "set-variables",
            [{"event": "next", "next": "final_split"}],
            variables=_kv(
                result="{{flow.variables.evens}}/{{flow.variables.odds}}/{{flow.variables.bigs}}",
                average="{{flow.variables.total | divided_by: flow.variables.i}}",
            ),
        ),
        _state(
            "final_split",
            "split-based-on",
            [
                {"event": "noMatch", "next": "report"},
                _match("bye", "matches_any_of", "{{flow.variables.last}}", "even,odd"),
            ],
            input="{{flow.variables.last}}",
        ),
        _send("bye", "report", "Bye {{flow.variables.shout}} ({{flow.variables.result}})"),
        _send(
            "report", None, "Total {{flow.variables.total}}, average {{flow.variables.average}}."
        ),
    ]
    assert len(states) == 20
    return {
        "description": "benchmark: 20 widgets, Liquid-heavy, loop with a counter",
        "initial_state": "Trigger",
        "states": states,
        "flags": {"allow_concurrent_calls": True},
    }


def run_execution(bundle: Bundle, env: FakeEnv, n: int) -> int:
    """Run one execution to its end; returns the number of steps."""
    event: Event | None = Start(
        "incomingRequest",
        f"FN{n:032x}",
        bundle.main.sid,
        "+15550001111",
        "+15550002222",
        {},
        {"name": " ada ", "limit": str(LOOPS)},
    )
    state = None
    steps = 0
    while event is not None:
        result = advance(bundle, state, event, env)
        state = result.state
        steps += len(result.steps)
        event = None
        for effect in result.effects:
            if isinstance(effect, SendMessage):
                event = EffectResult(
                    effect.token,
                    True,
                    {"Sid": env.sid("SM"), "Status": "sent", "Body": effect.body, "To": effect.to},
                )
    if state is None or state.status != "ended" or state.ended_reason != "completed":
        reason = state.ended_reason if state is not None else "no state"
        raise SystemExit(f"the benchmark flow did not complete ({reason}): a widget is missing?")
    return steps


def run_reply(bundle: Bundle, env: FakeEnv, n: int) -> int:
    """One execution of the throughput flow from an inbound SMS; returns its steps."""
    sender = f"+1555{n:07d}"
    data = {
        "MessageSid": f"SM{n:032x}",
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+15559990000",
        "Body": "I am new here" if n % 2 else "hello again",
        "NumMedia": "0",
    }
    event: Event | None = Start(
        "incomingMessage", f"FN{n:032x}", bundle.main.sid, sender, "+15559990000", data, {}
    )
    state = None
    steps = 0
    while event is not None:
        result = advance(bundle, state, event, env)
        state = result.state
        steps += len(result.steps)
        event = None
        for effect in result.effects:
            if isinstance(effect, SendMessage):
                event = EffectResult(effect.token, True, {"Sid": env.sid("SM"), "Status": "sent"})
    if state is None or state.status != "ended" or state.ended_reason != "completed":
        raise SystemExit("the throughput flow did not complete")
    return steps


def measure(
    bundle: Bundle, executions: int, runner: Any = run_execution
) -> tuple[int, float, float]:
    """Steps run, wall-clock seconds and CPU seconds (this process) for ``executions``."""
    env = FakeEnv()
    wall, cpu = time.perf_counter(), time.process_time()
    steps = sum(runner(bundle, env, n) for n in range(executions))
    return steps, time.perf_counter() - wall, time.process_time() - cpu


def main_reply(args: argparse.Namespace) -> int:
    """The ``reply`` scenario: CPU microseconds per execution of the throughput flow."""
    bundle = Bundle(
        FlowRef("FW" + "0" * 32, 1, FlowDefinition.from_json(reply_flow())), widgets=WIDGETS
    )
    measure(bundle, 50, run_reply)  # warm-up
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        measure(bundle, args.executions, run_reply)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    per_run: list[float] = []
    for _ in range(args.runs):
        _, _, cpu = measure(bundle, args.executions, run_reply)
        per_run.append(cpu / args.executions * 1e6)
    print(f"reply flow (4 steps), {args.executions} executions per run, {args.runs} runs")
    print(
        f"CPU per execution: min {min(per_run):.1f}  median {statistics.median(per_run):.1f}  "
        f"max {max(per_run):.1f} us"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs (median reported)")
    parser.add_argument("--executions", type=int, default=20, help="executions per run")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one run")
    parser.add_argument(
        "--scenario",
        choices=("loop", "reply"),
        default="loop",
        help="loop: the 20-widget flow (steps/s); reply: the throughput flow (us/execution)",
    )
    args = parser.parse_args(argv)
    if args.scenario == "reply":
        if args.executions == 20:
            args.executions = 2000
        return main_reply(args)

    bundle = Bundle(
        FlowRef("FW" + "0" * 32, 1, FlowDefinition.from_json(build_flow())), widgets=WIDGETS
    )
    measure(bundle, 3)  # warm-up: imports, compiled-template caches
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        measure(bundle, args.executions)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    wall_rates: list[float] = []
    cpu_rates: list[float] = []
    steps_per_run = 0
    for _ in range(args.runs):
        steps, wall, cpu = measure(bundle, args.executions)
        steps_per_run = steps
        wall_rates.append(steps / wall)
        cpu_rates.append(steps / cpu)
    print(
        f"{steps_per_run // args.executions} steps per execution, "
        f"{args.executions} executions per run, {args.runs} runs"
    )
    for label, rates in (("wall clock", wall_rates), ("CPU time", cpu_rates)):
        print(
            f"{label:>10}: min {min(rates):,.0f}  median {statistics.median(rates):,.0f}  "
            f"max {max(rates):,.0f} steps/s"
        )
    median = statistics.median(cpu_rates)
    print(f"bar {BAR:,} steps/s (CPU-time median): {'PASS' if median >= BAR else 'BELOW'}")
    return 0 if median >= BAR else 1


if __name__ == "__main__":
    sys.exit(main())
