"""Stored bytes per execution of a long flow with large Parameters (issue 17, item 9).

A REST-created execution with ~60 KB of ``Parameters`` runs a 200-step flow (Trigger →
199 Set Variables); before step contexts were stored as a base plus per-step patches,
every step kept a whole copy of the context (and Event Streams another one). Prints the
growth of the SQLite database (pages in use) per execution.

    .venv/bin/python benchmarks/step_storage.py [--executions 5] [--parameters-bytes 60000]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from callboard.channels.config import ChannelConfig
from callboard.commands.compose import build_services


def chain_flow(widgets: int) -> dict[str, Any]:
    """Trigger (REST) → ``widgets`` Set Variables in a row."""
    offset = {"x": 0, "y": 0}
    events = ("incomingMessage", "incomingCall", "incomingConversationMessage")
    trigger = [{"event": e} for e in events]
    trigger += [{"event": "incomingRequest", "next": "w0"}, {"event": "incomingParent"}]
    states: list[dict[str, Any]] = [
        {"name": "Trigger", "type": "trigger", "transitions": trigger, "properties": {}}
    ]
    for i in range(widgets):
        after = {"next": f"w{i + 1}"} if i + 1 < widgets else {}
        states.append(
            {
                "name": f"w{i}",
                "type": "set-variables",
                "transitions": [{"event": "next", **after}],
                "properties": {"variables": [{"key": f"v{i}", "value": str(i)}], "offset": offset},
            }
        )
    return {"description": "chain", "initial_state": "Trigger", "states": states}


def used_bytes(path: Path) -> int:
    """The database's pages in use (the WAL's view included)."""
    with sqlite3.connect(path) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    return int((pages - free) * size)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executions", type=int, default=5)
    parser.add_argument("--parameters-bytes", type=int, default=60_000)
    parser.add_argument("--widgets", type=int, default=199)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="callboard-steps-") as tmp:
        path = Path(tmp) / "steps.db"
        services = build_services(f"sqlite:///{path}", channel_config=ChannelConfig())
        try:
            cb = services.callboard
            account = cb.create_account("bench")
            flow = cb.create_flow(
                account.sid,
                friendly_name="chain",
                status="published",
                definition=chain_flow(args.widgets),
            )
            before = used_bytes(path)
            parameters = {"blob": "x" * args.parameters_bytes}
            for i in range(args.executions):
                made = cb.create_execution(
                    account.sid, flow.sid, to=f"+1555{i:07d}", from_="+1666", parameters=parameters
                )
                assert cb.fetch_execution(account.sid, flow.sid, made.sid).status == "ended"
            per = (used_bytes(path) - before) / args.executions
        finally:
            services.close()
    print(
        f"{args.widgets + 1}-step flow, {args.parameters_bytes:,} bytes of Parameters: "
        f"{per / 1024:,.0f} KiB stored per execution ({args.executions} executions, SQLite)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
