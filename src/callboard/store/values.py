"""How values are stored: times as naive UTC (the one helper pair every module uses), JSON
as compact text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, overload

__all__ = ["aware", "dumps", "from_db_time", "loads", "to_db_time"]


def to_db_time(when: datetime) -> datetime:
    """Aware → naive UTC (what the columns hold); a naive time is taken as UTC already."""
    if when.tzinfo is None:
        return when
    return when.astimezone(UTC).replace(tzinfo=None)


@overload
def from_db_time(when: datetime) -> datetime: ...
@overload
def from_db_time(when: None) -> None: ...
def from_db_time(when: datetime | None) -> datetime | None:
    """A column's naive UTC time → aware UTC (None stays None)."""
    if when is None:
        return None
    return aware(when)


def aware(when: datetime) -> datetime:
    """Any time → aware UTC (a naive one is taken as UTC)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | None) -> Any:
    return json.loads(text) if text else None
