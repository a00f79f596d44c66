"""Make Outgoing Call (v1, legacy): old flows keep it; Studio creates v2 for new widgets.

Same properties, events and behaviour as :mod:`callboard.widgets.make_outgoing_call_v2`
(the v1-only events some sources mention are unverified, so none are invented here).
"""

from __future__ import annotations

from callboard.widgets.make_outgoing_call_v2 import MakeOutgoingCall

__all__ = ["WIDGET", "MakeOutgoingCallV1"]


class MakeOutgoingCallV1(MakeOutgoingCall):
    type = "make-outgoing-call-v1"
    label = "Make Outgoing Call (v1)"
    description = "Legacy version of Make Outgoing Call; behaves like the current one."


WIDGET = MakeOutgoingCallV1()
