"""Logging set-up for ``serve`` and ``worker``: plain text or JSON lines.

``--log-format json`` writes one JSON object per line (``time``, ``level``, ``logger``,
``message``, and when known ``request_sid`` — the request being answered, also sent as
``Twilio-Request-Id`` — ``execution_sid`` and ``flow_sid``: taken from the record's
``extra`` or, failing that, from the first ``FN…``/``FW…`` SID in the message).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from callboard.api.metrics import request_sid

__all__ = ["LOG_FORMATS", "JsonFormatter", "configure_logging"]

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(levelname)s: %(name)s: %(message)s"
_SIDS = {
    "execution_sid": re.compile(r"\bFN[0-9a-f]{32}\b"),
    "flow_sid": re.compile(r"\bFW[0-9a-f]{32}\b"),
}
_QUIET = {"alembic": logging.WARNING, "httpx": logging.WARNING}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": message,
        }
        sid = getattr(record, "request_sid", None) or request_sid.get()
        if sid:
            entry["request_sid"] = sid
        for key, pattern in _SIDS.items():
            value = getattr(record, key, None)
            if value is None:
                found = pattern.search(message)
                value = found.group(0) if found else None
            if value:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str) -> dict[str, Any] | None:
    """Set up the root logger; returns the ``log_config`` to give uvicorn (None: use
    the root logger's handler, so its access and error logs are JSON too)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name, level in _QUIET.items():
        logging.getLogger(name).setLevel(level)
    if log_format != "json":
        import uvicorn.config

        return dict(uvicorn.config.LOGGING_CONFIG)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    return None
