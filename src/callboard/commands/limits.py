"""``callboard accounts set-limit``: the REST rate limit of an account (issue 13).

The command joins the ``accounts`` group of :mod:`callboard.commands.accounts`.
"""

from __future__ import annotations

import click

from callboard.commands.accounts import _fail, accounts, open_service
from callboard.runtime.rate_limit import TWILIO_REST_LIMIT, rest_rate_limit, set_rest_rate_limit
from callboard.runtime.records import NotFound

__all__ = ["COMMANDS", "set_limit"]

HELP = f"""Limit the executions ACCOUNT_SID's flows may be given through the REST API.

\b
Twilio allows {TWILIO_REST_LIMIT} REST-created executions per second per flow and answers
429 (code 20429, "Too Many Requests") past that. Callboard has no limit by default;
with this setting, POST /v2/Flows/{{FW}}/Executions answers the same 429 when a flow of
the account had that many REST-created executions in the last second. Executions
started by messages and calls are not limited.

\b
  callboard accounts set-limit AC...                # Twilio's: {TWILIO_REST_LIMIT}/s per flow
  callboard accounts set-limit AC... --per-second 5 # another limit
  callboard accounts set-limit AC... --off          # no limit (the default)
  callboard accounts set-limit AC... --show         # print the current setting
"""


@accounts.command("set-limit", help=HELP, short_help="Set its REST rate limit (429).")
@click.argument("account_sid")
@click.option(
    "--per-second",
    "per_second",
    type=click.IntRange(min=1),
    help=f"REST-created executions allowed per second per flow (default {TWILIO_REST_LIMIT}).",
)
@click.option("--off", is_flag=True, help="Remove the limit.")
@click.option("--show", is_flag=True, help="Print the current setting; change nothing.")
def set_limit(account_sid: str, per_second: int | None, off: bool, show: bool) -> None:
    if sum((per_second is not None, off, show)) > 1:
        _fail("give one of --per-second, --off or --show")
    sid = account_sid.strip()
    service = open_service()
    try:
        if show:
            service.fetch_account(sid)
            current = rest_rate_limit(service.db, sid)
        else:
            current = None if off else (per_second or TWILIO_REST_LIMIT)
            if not set_rest_rate_limit(service.db, sid, current, service.env.now()):
                _fail(f"no account {account_sid} (`callboard accounts list` shows them)")
    except NotFound:
        _fail(f"no account {account_sid} (`callboard accounts list` shows them)")
    finally:
        service.close()
    if current is None:
        click.echo(f"{sid}: no REST rate limit")
    else:
        click.echo(f"{sid}: at most {current} REST-created executions per second per flow")


COMMANDS: list[click.Command] = []  # registered on the accounts group above
