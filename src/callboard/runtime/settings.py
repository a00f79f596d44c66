"""Server settings, read from the environment.

* ``CALLBOARD_DATABASE_URL`` — ``sqlite:///path/to/file.db`` or ``postgresql://user@host/db``
  (``postgresql+psycopg://`` is used underneath). Default: SQLite in the data folder.
* ``CALLBOARD_DATA_DIR`` — the data folder; holds ``callboard.db``. Default: the
  platform's user data folder (``platformdirs``: ``~/.local/share/callboard`` on Linux,
  ``~/Library/Application Support/callboard`` on macOS), so every command uses the same
  database wherever it is run from (``./run`` sets it to the checkout's ``./data``).
* ``CALLBOARD_PUBLIC_URL`` — the externally visible base URL (``https://cb.example.com``);
  default: taken from each request (``X-Forwarded-Proto`` / ``X-Forwarded-Host`` / ``Host``).
* ``CALLBOARD_RETENTION_DAYS_AFTER_END`` — delete an execution and its steps this many
  days after it ended (default 30; Studio's documented rule).
* ``CALLBOARD_STUCK_EXECUTION_DAYS`` — an execution not ended this many days after it was
  created is ended and deleted (default 60).
* ``CALLBOARD_RETENTION_INTERVAL_SECONDS`` — how often the server and ``callboard worker``
  run retention (default 3600; 0 turns the background job off).
* ``CALLBOARD_HEALTH_MAX_LAG_SECONDS`` — ``GET /callboard/v1/Health`` answers 503 when
  background work (timers, outbox, event deliveries) is later than this (default 60).
* ``CALLBOARD_REQUEST_THREADS`` — how many requests one server process works on at once
  in its thread pool (default: 4 on SQLite, 40 on PostgreSQL). The engine's work holds
  Python's GIL, so on SQLite, whose reads are local, more threads only take turns and
  make each request wait longer; PostgreSQL's round trips leave threads waiting, so more
  of them keep the process busy.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from callboard.runtime.retention import RetentionPolicy

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "Settings", "SettingsError", "default_data_dir"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_RETENTION_DAYS_AFTER_END = 30.0
DEFAULT_STUCK_EXECUTION_DAYS = 60.0
DEFAULT_RETENTION_INTERVAL = 3600.0
DEFAULT_OUTBOX_LEASE = 60.0  # a claimed outbox job not finished by then is taken over
DEFAULT_HEALTH_MAX_LAG = 60.0
SQLITE_REQUEST_THREADS = 4
POSTGRESQL_REQUEST_THREADS = 40


def default_data_dir() -> Path:
    """The data folder when ``CALLBOARD_DATA_DIR`` is not set: the user data folder."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("callboard", appauthor=False))


class SettingsError(ValueError):
    """A setting that cannot be used (the message names the variable)."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    data_dir: Path
    public_url: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    retention_days_after_end: float = DEFAULT_RETENTION_DAYS_AFTER_END
    stuck_execution_days: float = DEFAULT_STUCK_EXECUTION_DAYS
    retention_interval: float = DEFAULT_RETENTION_INTERVAL
    health_max_lag: float = DEFAULT_HEALTH_MAX_LAG
    outbox_lease_seconds: float = DEFAULT_OUTBOX_LEASE  # issue 12: takeover after a crash
    request_threads: int | None = None  # None: by database (see request_thread_count)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        given = (env.get("CALLBOARD_DATA_DIR") or "").strip()
        data_dir = Path(given).expanduser().absolute() if given else default_data_dir()
        url = (env.get("CALLBOARD_DATABASE_URL") or "").strip()
        if not url:
            url = f"sqlite:///{data_dir / 'callboard.db'}"
        elif not url.startswith(("sqlite:", "postgresql:", "postgresql+", "postgres:")):
            raise SettingsError(
                f"CALLBOARD_DATABASE_URL={url!r}: expected sqlite:///path/to/file.db "
                "or postgresql://user:password@host/database"
            )
        public = (env.get("CALLBOARD_PUBLIC_URL") or "").strip().rstrip("/") or None
        if public is not None and not public.startswith(("http://", "https://")):
            raise SettingsError(
                f"CALLBOARD_PUBLIC_URL={public!r}: expected an http:// or https:// URL"
            )
        return cls(
            database_url=url,
            data_dir=data_dir,
            public_url=public,
            retention_days_after_end=_number(
                env, "CALLBOARD_RETENTION_DAYS_AFTER_END", DEFAULT_RETENTION_DAYS_AFTER_END
            ),
            stuck_execution_days=_number(
                env, "CALLBOARD_STUCK_EXECUTION_DAYS", DEFAULT_STUCK_EXECUTION_DAYS
            ),
            retention_interval=_number(
                env, "CALLBOARD_RETENTION_INTERVAL_SECONDS", DEFAULT_RETENTION_INTERVAL, zero=True
            ),
            health_max_lag=_number(env, "CALLBOARD_HEALTH_MAX_LAG_SECONDS", DEFAULT_HEALTH_MAX_LAG),
            outbox_lease_seconds=_number(
                env, "CALLBOARD_OUTBOX_LEASE_SECONDS", DEFAULT_OUTBOX_LEASE
            ),
            request_threads=_whole(env, "CALLBOARD_REQUEST_THREADS"),
        )

    def request_thread_count(self) -> int:
        """Requests one process works on at once (``CALLBOARD_REQUEST_THREADS``)."""
        if self.request_threads is not None:
            return self.request_threads
        sqlite = self.database_url.startswith("sqlite:")
        return SQLITE_REQUEST_THREADS if sqlite else POSTGRESQL_REQUEST_THREADS

    def retention_policy(self) -> RetentionPolicy:
        from callboard.runtime.retention import RetentionPolicy

        return RetentionPolicy(self.retention_days_after_end, self.stuck_execution_days)


def _whole(env: Mapping[str, str], name: str) -> int | None:
    text = (env.get(name) or "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 1000:
        raise SettingsError(f"{name}={text!r}: expected a whole number from 1 to 1000")
    return int(text)


def _number(env: Mapping[str, str], name: str, default: float, *, zero: bool = False) -> float:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value > 0 or (zero and value == 0)) or value != value or value == float("inf"):
        wanted = "a number of 0 or more" if zero else "a positive number"
        raise SettingsError(f"{name}={text!r}: expected {wanted}")
    return value
