"""SIDs: a two-letter prefix and 32 hex digits (``FW…``, ``FN…``, ``AC…``). The one place
their pattern is written."""

from __future__ import annotations

import re

__all__ = ["SID_HEX", "is_sid", "sid_pattern", "sid_regex"]

SID_HEX = "[0-9a-fA-F]{32}"


def sid_pattern(prefix: str) -> str:
    """The anchored pattern of a SID with ``prefix`` (as OpenAPI schemas write it)."""
    return f"^{prefix}{SID_HEX}$"


def sid_regex(prefix: str) -> re.Pattern[str]:
    return re.compile(sid_pattern(prefix))


def is_sid(value: object, prefix: str) -> bool:
    return isinstance(value, str) and re.fullmatch(prefix + SID_HEX, value) is not None
