"""``callboard users …``: the people of an account and their roles (issue 14).

Roles: viewer, editor, admin, owner (see ``callboard users --help``). The commands work
on the database ``callboard serve`` uses (``CALLBOARD_DATABASE_URL``) and are recorded
in the account's audit log with the actor ``cli``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import NoReturn, TypeVar

import click

from callboard.commands.accounts import open_services
from callboard.runtime.records import NotFound, ServiceError
from callboard.runtime.roles import ROLES
from callboard.runtime.team import Team

__all__ = ["COMMANDS", "first_owner_message", "users"]

T = TypeVar("T")

HELP = """Manage the people of an account: add, list, set-role, remove, reset-password.

\b
Roles, weakest first:
  viewer  reads flows, revisions, executions and their steps
  editor  also creates flows, saves drafts, restores revisions, runs the simulator
  admin   also publishes, deletes flows, manages API keys, sinks, test users,
          and the team's viewers and editors
  owner   also manages admins and owners (an account keeps at least one owner)

People log in to the editor with their email and password."""


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"callboard users: {message}", err=True)
    sys.exit(code)


def _run(account_sid: str, action: Callable[[Team], T]) -> T:
    """Runs ``action`` on the account's team; a clear message and exit 2 on errors."""
    services = open_services("users")
    try:
        try:
            services.callboard.fetch_account(account_sid)
        except NotFound:
            _fail(f"no account {account_sid} (`callboard accounts list` shows them)")
        try:
            return action(services.team)
        except ServiceError as exc:
            _fail(exc.message)
    finally:
        services.close()


@click.group("users", help=HELP)
def users() -> None:
    pass


@users.command("add")
@click.argument("account_sid")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True, help="The user's role.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (one line)."
)
@click.option("--json", "as_json", is_flag=True, help='Print {"sid","email","role","password"}.')
def add(account_sid: str, email: str, role: str, password_stdin: bool, as_json: bool) -> None:
    """Add a user. Without --password-stdin a password is generated and printed once."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    if password_stdin and not password:
        _fail("no password on standard input")
    created = _run(account_sid, lambda team: team.add_user(account_sid, email, role, password))
    body: dict[str, str] = {
        "sid": created.user.sid,
        "email": created.user.email,
        "role": created.user.role,
    }
    if created.password is not None:
        body["password"] = created.password
    if as_json:
        click.echo(json.dumps(body))
        return
    click.echo(f"Added {created.user.email} ({created.user.role}), {created.user.sid}")
    if created.password is not None:
        click.echo(f"Password (shown once): {created.password}")


@users.command("list")
@click.argument("account_sid")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def list_(account_sid: str, as_json: bool) -> None:
    """List the account's users (email, role, SID)."""
    found = _run(account_sid, lambda team: team.list_users(account_sid))
    rows = [
        {
            "sid": u.sid,
            "email": u.email,
            "role": u.role,
            "status": "active" if u.has_password else "invited",
        }
        for u in found
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo(f"No users yet: `callboard users add {account_sid} EMAIL --role owner`.")
    for row in rows:
        click.echo(f"{row['email']:<40} {row['role']:<7} {row['sid']}  {row['status']}")


@users.command("set-role")
@click.argument("account_sid")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
def set_role(account_sid: str, email: str, role: str) -> None:
    """Change a user's role (their browser sessions end)."""
    user = _run(account_sid, lambda team: team.set_role(account_sid, email, role))
    click.echo(f"{user.email} is now {user.role}")


@users.command("remove")
@click.argument("account_sid")
@click.argument("email")
def remove(account_sid: str, email: str) -> None:
    """Remove a user (their browser sessions end at once)."""
    _run(account_sid, lambda team: team.remove_user(account_sid, email))
    click.echo(f"Removed {email.strip().lower()}")


@users.command("reset-password")
@click.argument("account_sid")
@click.argument("email")
def reset_password(account_sid: str, email: str) -> None:
    """Give a user a new generated password (printed once); their sessions end."""
    password = _run(account_sid, lambda team: team.reset_password(account_sid, email))
    click.echo(f"New password for {email.strip().lower()} (shown once): {password}")


COMMANDS = [users]


def first_owner_message(team: Team, account_sid: str, base: str) -> str | None:
    """On a server without users: an owner (``CALLBOARD_OWNER_EMAIL``, default
    ``admin@localhost``) with a generated password, and what to print (once)."""
    import os

    email = os.environ.get("CALLBOARD_OWNER_EMAIL", "").strip() or "admin@localhost"
    try:
        created = team.first_owner(account_sid, email)
    except ServiceError as exc:
        _fail(f"cannot create the first owner {email!r}: {exc.message}")
    if created is None or created.password is None:
        return None
    return "\n".join(
        [
            "",
            "  Created the owner of the editor (the password is shown once; "
            "`callboard users reset-password` makes a new one):",
            f"    Email:    {created.user.email}",
            f"    Password: {created.password}",
            f"  Log in at {base}/ with them; invite the rest of the team from its Team page.",
            "",
        ]
    )
