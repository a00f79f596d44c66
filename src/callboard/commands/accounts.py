"""``callboard accounts …`` and ``callboard keys …``: accounts and API credentials.

They work on the database named by ``CALLBOARD_DATABASE_URL`` (default: the SQLite file
in ``CALLBOARD_DATA_DIR``, the user data folder), the same one ``callboard serve``
uses, and name it on stderr; ``accounts list`` and ``keys list`` never create one.
"""

from __future__ import annotations

import json
import sys
from typing import NoReturn

import click

from callboard.api.services import Services
from callboard.channels.config import ChannelConfig
from callboard.commands import database
from callboard.runtime.records import Account, NotFound
from callboard.runtime.service import Callboard

__all__ = ["COMMANDS", "accounts", "keys", "open_service", "open_services"]

DB_HELP = (
    "\n\nThe database is CALLBOARD_DATABASE_URL (sqlite:///path/to/file.db or "
    "postgresql://user@host/db), by default callboard.db in CALLBOARD_DATA_DIR (the user data "
    "folder, e.g. ~/.local/share/callboard). Every command names it on stderr."
)


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"callboard: {message}", err=True)
    sys.exit(code)


def open_services(command: str = "accounts", *, read_only: bool = False) -> Services:
    """The services on the configured database (see :mod:`callboard.commands.database`);
    the account commands never talk to Twilio, so the channels get the default config."""
    return database.open_services(command, read_only=read_only, channel_config=ChannelConfig())


def open_service(command: str = "accounts", *, read_only: bool = False) -> Callboard:
    """The runtime service on the configured database (see :func:`open_services`)."""
    return open_services(command, read_only=read_only).callboard


def _account_json(account: Account) -> dict[str, str]:
    return {
        "account_sid": account.sid,
        "auth_token": account.auth_token,
        "friendly_name": account.friendly_name,
        "status": account.status,
    }


@click.group("accounts", help="Create and list accounts; rotate their Auth Tokens." + DB_HELP)
def accounts() -> None:
    pass


@accounts.command("create")
@click.option("--friendly-name", "friendly_name", help="A name for the account.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object (account_sid, auth_token)."
)
def create(friendly_name: str | None, as_json: bool) -> None:
    """Create an account and print its Account SID and Auth Token."""
    service = open_service()
    try:
        account = service.create_account(friendly_name)
    finally:
        service.close()
    if as_json:
        click.echo(json.dumps(_account_json(account)))
        return
    click.echo(f"Account SID: {account.sid}")
    click.echo(f"Auth Token:  {account.auth_token}")
    click.echo(f"Name:        {account.friendly_name}")


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (tokens included).")
def list_(as_json: bool) -> None:
    """List every account (SID, name, status; --json adds the Auth Tokens)."""
    service = open_service(read_only=True)
    try:
        found = service.list_accounts()
    finally:
        service.close()
    if as_json:
        click.echo(json.dumps([_account_json(a) for a in found]))
        return
    if not found:
        click.echo("No accounts yet: `callboard accounts create` makes one.")
    for account in found:
        click.echo(f"{account.sid}  {account.status:<8}  {account.friendly_name}")


@accounts.command("rotate-token")
@click.argument("account_sid")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def rotate_token(account_sid: str, as_json: bool) -> None:
    """Give ACCOUNT_SID a new Auth Token (the old one stops working at once)."""
    service = open_service()
    try:
        account = service.rotate_auth_token(account_sid.strip())
    except NotFound:
        _fail(f"no account {account_sid} (`callboard accounts list` shows them)")
    finally:
        service.close()
    if as_json:
        click.echo(json.dumps(_account_json(account)))
        return
    click.echo(f"Account SID: {account.sid}")
    click.echo(f"Auth Token:  {account.auth_token}  (new)")


@click.group(
    "keys", help="API keys: an SK… SID and a secret, usable instead of the Auth Token." + DB_HELP
)
def keys() -> None:
    pass


@keys.command("create")
@click.argument("account_sid")
@click.option("--friendly-name", "friendly_name", help="A name for the key.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (sid, secret).")
def keys_create(account_sid: str, friendly_name: str | None, as_json: bool) -> None:
    """Create an API key for ACCOUNT_SID. The secret is shown once: store it now."""
    service = open_service("keys")
    try:
        created = service.create_api_key(account_sid.strip(), friendly_name)
    except NotFound:
        _fail(f"no account {account_sid} (`callboard accounts list` shows them)")
    finally:
        service.close()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "sid": created.key.sid,
                    "secret": created.secret,
                    "account_sid": created.key.account_sid,
                    "friendly_name": created.key.friendly_name,
                }
            )
        )
        return
    click.echo(f"API Key SID: {created.key.sid}")
    click.echo(f"Secret:      {created.secret}")
    click.echo("The secret is shown only now; Callboard keeps only a hash of it.")
    click.echo(
        f"twilio-python: Client('{created.key.sid}', '<secret>', '{created.key.account_sid}')"
    )


@keys.command("list")
@click.argument("account_sid")
def keys_list(account_sid: str) -> None:
    """List ACCOUNT_SID's API keys (secrets are never shown again)."""
    service = open_service("keys", read_only=True)
    try:
        found = service.list_api_keys(account_sid.strip())
    finally:
        service.close()
    for key in found:
        click.echo(f"{key.sid}  {key.friendly_name}")


@keys.command("delete")
@click.argument("account_sid")
@click.argument("key_sid")
def keys_delete(account_sid: str, key_sid: str) -> None:
    """Delete an API key; it stops working at once."""
    service = open_service("keys")
    try:
        service.delete_api_key(account_sid.strip(), key_sid.strip())
    except NotFound:
        _fail(f"no API key {key_sid} in account {account_sid}")
    finally:
        service.close()
    click.echo(f"Deleted {key_sid}")


COMMANDS = [accounts, keys]
