"""Roles (issue 14), weakest first: ``viewer`` < ``editor`` < ``admin`` < ``owner``.

* viewer — reads flows, revisions, executions, steps, contexts; changes nothing;
* editor — also creates flows, saves drafts, restores revisions, runs the simulator;
* admin — also publishes, deletes flows, manages API keys, sinks, test users, and the
  viewers and editors of the team;
* owner — also manages admins and owners (an account keeps at least one owner).
"""

from __future__ import annotations

from typing import Literal

__all__ = ["ROLES", "Role", "allows", "is_role", "lowest"]

Role = Literal["viewer", "editor", "admin", "owner"]
ROLES: tuple[Role, ...] = ("viewer", "editor", "admin", "owner")


def is_role(value: object) -> bool:
    return isinstance(value, str) and value in ROLES


def allows(role: str, required: str) -> bool:
    """True when ``role`` is ``required`` or stronger (an unknown role allows nothing)."""
    if role not in ROLES or required not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(required)


def lowest(*roles: str) -> str:
    """The weakest of ``roles``."""
    return min(roles, key=lambda r: ROLES.index(r) if r in ROLES else -1)
