"""Events are recorded in the transaction of the change they describe (SQLite and
PostgreSQL): every committed change is announced, a rolled-back one never is."""

from __future__ import annotations

import json
from typing import Any

import pytest

from callboard.channels.config import ChannelConfig
from callboard.commands.compose import build_services
from callboard.contract.io import InboundMessage
from callboard.engine.env import FakeEnv
from callboard.events.batches import read_events
from callboard.events.envelope import EXECUTION_ENDED, EXECUTION_STARTED, STEP_ENDED
from callboard.runtime.records import Account
from callboard.runtime.service import Callboard
from callboard.store.event_tables import events
from tests.events.conftest import ask_definition, two_step_flow


def recorded(service: Callboard, execution_sid: str | None = None) -> list[dict[str, Any]]:
    where = [] if execution_sid is None else [events.c.execution_sid == execution_sid]
    with service.db.read() as conn:
        return [json.loads(e.payload) for e in read_events(conn, *where)]


def steps_of(service: Callboard, account: Account, flow_sid: str, ex_sid: str) -> list[Any]:
    return service.list_steps(account.sid, flow_sid, ex_sid).items


def test_an_execution_that_ends_at_once_announces_start_steps_and_end(
    service: Callboard, account: Account
) -> None:
    flow = service.create_flow(
        account.sid, friendly_name="f", status="published", definition=two_step_flow()
    )
    ex = service.create_execution(account.sid, flow.sid, to="+15550001", from_="+15550002")
    got = recorded(service, ex.sid)
    steps = steps_of(service, account, flow.sid, ex.sid)
    assert [e["type"] for e in got] == [EXECUTION_STARTED] + [STEP_ENDED] * len(steps) + [
        EXECUTION_ENDED
    ]
    assert len({e["id"] for e in got}) == len(got)
    for e in got:
        assert e["specversion"] == "1.0"
        assert e["datacontenttype"] == "application/json"
        assert e["id"].startswith("EZ") and len(e["id"]) == 34
        assert e["time"].endswith("Z") and len(e["time"]) == 24  # milliseconds
        assert e["dataschema"].startswith("https://events-schemas.twilio.com/Studio.")
    start, end = got[0]["data"], got[-1]["data"]
    assert start == {
        "execution_sid": ex.sid,
        "account_sid": account.sid,
        "flow_sid": flow.sid,
        "contact_channel_address": "+15550001",
        "status": "active",
        "date_created": start["date_created"],
        "date_updated": start["date_updated"],
        "started_by": ex.initiated_by,
        "flow_revision": 1,
    }
    assert end["status"] == "ended" and end["ended_reason"] == "FLOW_END"
    assert end["started_by"] == ex.initiated_by
    step_data = [e["data"] for e in got[1:-1]]
    assert [d["step_sid"] for d in step_data] == [s.sid for s in steps]
    assert [(d["transitioned_from"], d["transitioned_to"]) for d in step_data] == [
        (s.transitioned_from, s.transitioned_to) for s in steps
    ]
    for d in step_data:
        assert d["execution_sid"] == ex.sid and d["flow_sid"] == flow.sid
        assert {"name", "parent_step_sid", "date_created", "account_sid"} <= set(d)


def test_a_waiting_execution_announces_its_end_when_a_later_event_ends_it(
    service: Callboard, account: Account
) -> None:
    flow = service.create_flow(
        account.sid, friendly_name="f", status="published", definition=ask_definition()
    )
    ex = service.create_execution(account.sid, flow.sid, to="+15550001", from_="+15550002")
    first = recorded(service, ex.sid)
    assert first[0]["type"] == EXECUTION_STARTED
    assert EXECUTION_ENDED not in [e["type"] for e in first]
    service.run_event(ex.sid, InboundMessage({"Body": "Ada", "From": "+15550001"}))
    later = recorded(service, ex.sid)[len(first) :]
    assert [e["type"] for e in later][-1] == EXECUTION_ENDED
    assert STEP_ENDED in [e["type"] for e in later]
    assert EXECUTION_STARTED not in [e["type"] for e in later]
    steps = steps_of(service, account, flow.sid, ex.sid)
    assert sum(e["type"] == STEP_ENDED for e in recorded(service, ex.sid)) == len(steps)


def test_ending_by_rest_is_announced_with_its_reason(service: Callboard, account: Account) -> None:
    flow = service.create_flow(
        account.sid, friendly_name="f", status="published", definition=ask_definition()
    )
    ex = service.create_execution(account.sid, flow.sid, to="+15550001", from_="+15550002")
    service.end_execution(account.sid, flow.sid, ex.sid)
    last = recorded(service, ex.sid)[-1]
    assert last["type"] == EXECUTION_ENDED
    assert last["data"]["ended_reason"] == "ENDED_BY_API"
    assert last["data"]["status"] == "ended"


def test_an_event_for_an_ended_execution_announces_nothing(
    service: Callboard, account: Account
) -> None:
    flow = service.create_flow(
        account.sid, friendly_name="f", status="published", definition=two_step_flow()
    )
    ex = service.create_execution(account.sid, flow.sid, to="+15550001", from_="+15550002")
    before = len(recorded(service))
    result = service.run_event(ex.sid, InboundMessage({"Body": "x"}))
    assert not result.accepted
    assert len(recorded(service)) == before


class Boom(Exception):
    pass


def test_a_rolled_back_change_is_never_announced(service: Callboard, account: Account) -> None:
    flow = service.create_flow(
        account.sid, friendly_name="f", status="published", definition=ask_definition()
    )
    ex = service.create_execution(account.sid, flow.sid, to="+15550001", from_="+15550002")
    before = recorded(service)
    with pytest.raises(Boom), service.db.write() as conn:
        result = service.executor.run_event_in(
            conn, ex.sid, InboundMessage({"Body": "Ada", "From": "+15550001"})
        )
        assert result.accepted and result.status == "ended"
        assert len(read_events(conn)) > len(before)  # recorded inside the transaction...
        raise Boom
    assert recorded(service) == before  # ...and gone with it
    assert service.fetch_execution(account.sid, flow.sid, ex.sid).status == "active"


def test_recording_does_not_draw_sids_from_the_environment(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Golden tests rely on deterministic SIDs: the same run with recording switched off
    must hand out exactly the same SIDs."""
    import callboard.commands.compose as compose_module

    def run(name: str) -> list[str]:
        env = FakeEnv()
        svc = build_services(
            f"sqlite:///{tmp_path / name}", env=env, channel_config=ChannelConfig()
        ).callboard
        try:
            acct = svc.create_account("a")
            flow = svc.create_flow(
                acct.sid, friendly_name="f", status="published", definition=two_step_flow()
            )
            ex = svc.create_execution(acct.sid, flow.sid, to="+1", from_="+2")
            steps = svc.list_steps(acct.sid, flow.sid, ex.sid).items
            return [ex.sid, *(s.sid for s in steps), env.sid("XX")]
        finally:
            svc.close()

    with_events = run("a.db")
    monkeypatch.setattr(compose_module, "run_recorder", lambda *a, **k: lambda conn: 0)
    assert run("b.db") == with_events
