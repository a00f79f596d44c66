"""The numbers a simulated conversation uses when none is given: the contact's and the
flow's (the simulator channel, ``callboard chat``/``call``)."""

from __future__ import annotations

__all__ = ["DEFAULT_CONTACT", "DEFAULT_FLOW_ADDRESS"]

DEFAULT_CONTACT = "+15550001111"
DEFAULT_FLOW_ADDRESS = "+15550002222"
