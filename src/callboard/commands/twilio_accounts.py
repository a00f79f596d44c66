"""``callboard accounts set-twilio``: the Twilio account a Callboard account uses.

The command joins the ``accounts`` group of :mod:`callboard.commands.accounts`.
"""

from __future__ import annotations

import click

from callboard.commands.accounts import _fail, accounts, open_services
from callboard.store.sids import sid_regex

__all__ = ["COMMANDS", "set_twilio"]

_AC = sid_regex("AC")

HELP = """Set the Twilio account ACCOUNT_SID's flows send and receive through.

\b
With credentials, the account is on the twilio channel: messages go out through
Twilio's Messages API, calls through its Calls API, and webhooks from Twilio are checked
against this Auth Token (X-Twilio-Signature). --clear removes them: the account then
uses the server-wide CALLBOARD_TWILIO_ACCOUNT_SID / CALLBOARD_TWILIO_AUTH_TOKEN when set,
else the simulator channel (no Twilio; webhooks signed with its own Auth Token).
"""


@accounts.command("set-twilio", help=HELP, short_help="Set the Twilio account it uses.")
@click.argument("account_sid")
@click.option("--twilio-account-sid", "twilio_sid", help="The Twilio Account SID (AC...).")
@click.option("--twilio-auth-token", "twilio_token", help="That Twilio account's Auth Token.")
@click.option("--clear", is_flag=True, help="Remove the Twilio credentials.")
def set_twilio(
    account_sid: str, twilio_sid: str | None, twilio_token: str | None, clear: bool
) -> None:
    if clear:
        if twilio_sid or twilio_token:
            _fail("--clear takes no credentials")
        sid = token = None
    else:
        sid, token = (twilio_sid or "").strip(), (twilio_token or "").strip()
        if not sid or not token:
            _fail("give --twilio-account-sid and --twilio-auth-token (or --clear)")
        if not _AC.match(sid):
            _fail(f"--twilio-account-sid {sid!r}: expected AC followed by 32 hex digits")
    services = open_services()
    try:
        if not services.channels.router.set_twilio_credentials(account_sid.strip(), sid, token):
            _fail(f"no account {account_sid} (`callboard accounts list` shows them)")
    finally:
        services.close()
    if clear:
        click.echo(f"{account_sid}: Twilio credentials removed")
    else:
        click.echo(f"{account_sid}: uses Twilio account {sid}")


COMMANDS: list[click.Command] = []  # registered on the accounts group above
