"""Opening the configured database for a command.

Every command that uses the database says which one on stderr, in one line
(``callboard accounts: database sqlite:////home/ada/.local/share/callboard/callboard.db``),
before connecting, so a wrong folder or a hanging server is obvious. Commands that only
read (``accounts list``, ``keys list``, ``purge --dry-run``) never create a database: when
there is none they say so, and how to start one, and exit 1.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from callboard.api.services import Services
from callboard.channels.config import ChannelConfig
from callboard.commands.compose import build_services
from callboard.runtime.settings import Settings, SettingsError
from callboard.store.db import Database, DatabaseError

__all__ = ["NO_DATABASE_EXIT", "load_settings", "open_services", "shown_url"]

NO_DATABASE_EXIT = 1


def shown_url(url: str) -> str:
    """The URL as it may be printed (password hidden)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def _fail(command: str, message: str, code: int = 2) -> NoReturn:
    click.echo(f"callboard {command}: {message}", err=True)
    sys.exit(code)


def load_settings(command: str) -> Settings:
    """The settings from the environment, or a clear error and exit 2."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        _fail(command, str(exc))


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    path = parsed.database or ""
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path).expanduser()


def _missing(command: str, settings: Settings) -> NoReturn:
    _fail(
        command,
        f"there is no Callboard database at {shown_url(settings.database_url)} yet. "
        "`callboard serve` creates it (with a first account) on its first start; or point "
        "CALLBOARD_DATA_DIR / CALLBOARD_DATABASE_URL at an existing one.",
        NO_DATABASE_EXIT,
    )


def open_services(
    command: str,
    *,
    read_only: bool = False,
    settings: Settings | None = None,
    channel_config: ChannelConfig | None = None,
) -> Services:
    """The services on the configured database (schema created or upgraded; built by
    :func:`~callboard.commands.compose.build_services`), after one line on stderr naming
    the database. ``read_only``: never create a database (exit 1 with a hint when there
    is none). ``channel_config`` defaults to the environment's. Errors exit 2 with the
    message."""
    settings = settings if settings is not None else load_settings(command)
    url = settings.database_url
    click.echo(f"callboard {command}: database {shown_url(url)}", err=True)
    try:
        sqlite_file = _sqlite_file(url)
    except Exception as exc:
        _fail(command, f"cannot read database URL {shown_url(url)!r}: {exc}")
    if read_only and sqlite_file is not None and not sqlite_file.is_file():
        _missing(command, settings)
    try:
        if read_only:
            _require_schema(command, settings)
        return build_services(settings, channel_config=channel_config)
    except (DatabaseError, ValueError) as exc:
        _fail(command, str(exc))


def _require_schema(command: str, settings: Settings) -> None:
    """Exit 1 with a hint unless the database already holds Callboard's schema."""
    db = Database(settings.database_url)
    try:
        db.check()
        present = inspect(db.engine).has_table("alembic_version")
    finally:
        db.dispose()
    if not present:
        _missing(command, settings)
