"""Server settings, read from the environment.

* ``CALLBOARD_DATABASE_URL`` — ``sqlite:///path/to/file.db`` or ``postgresql://user@host/db``
  (``postgresql+psycopg://`` is used underneath). Default: SQLite in the data folder.
* ``CALLBOARD_DATA_DIR`` — the data folder (default ``./data``); holds ``callboard.db``.
* ``CALLBOARD_PUBLIC_URL`` — the externally visible base URL (``https://cb.example.com``);
  default: taken from each request (``X-Forwarded-Proto`` / ``X-Forwarded-Host`` / ``Host``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "Settings", "SettingsError"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


class SettingsError(ValueError):
    """A setting that cannot be used (the message names the variable)."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    data_dir: Path
    public_url: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("CALLBOARD_DATA_DIR") or "data")
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
        return cls(database_url=url, data_dir=data_dir, public_url=public)
