"""Send to Flex on the twilio channel names a workflow only; Flex's Interactions API needs
its TaskRouter workspace too: the account's only workspace, else the one holding the
workflow (twilio-python against the Twilio stand-in)."""

from __future__ import annotations

import pytest

from callboard.channels.twilio_provider import TwilioChannel, TwilioError
from tests.e2e.twilio_standin import twilio_standin

AC = "AC" + "7" * 32
WW = "WW" + "1" * 32
WS1, WS2 = "WS" + "1" * 32, "WS" + "2" * 32


def test_the_only_workspace_is_asked_once() -> None:
    with twilio_standin() as standin:
        standin.workspaces = {WS1: set()}
        channel = TwilioChannel(AC, "token", standin.url)
        assert channel.workspace_of(WW) == WS1
        assert channel.workspace_of(WW) == WS1
        assert [p for p, _ in standin.requests] == ["/v1/Workspaces"]  # remembered


def test_the_workspace_holding_the_workflow_among_several() -> None:
    with twilio_standin() as standin:
        standin.workspaces = {WS1: set(), WS2: {WW}}
        channel = TwilioChannel(AC, "token", standin.url)
        assert channel.workspace_of(WW) == WS2
        with pytest.raises(TwilioError) as refused:
            channel.workspace_of("WW" + "9" * 32)
        assert refused.value.status == 404


def test_an_interaction_gets_the_workspace() -> None:
    with twilio_standin() as standin:
        channel = TwilioChannel(AC, "token", standin.url)
        routing = {"properties": {"workflow_sid": WW, "task_channel_unique_name": "chat"}}
        made = channel.flex_interaction({"type": "web", "initiated_by": "customer"}, routing)
        assert made["sid"].startswith("KD")
        assert made["routing"]["properties"]["workspace_sid"] == "WS" + "6" * 32
