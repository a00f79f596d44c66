"""Issue 13: one active execution per flow for the same To/From combination (Studio's
Execution page), not per contact alone. SQLite and PostgreSQL (``db_url``)."""

from __future__ import annotations

from typing import Any

import pytest

from callboard.runtime.records import Account, Conflict
from callboard.runtime.service import Callboard
from tests.runtime.conftest import ask_flow


def _flow(service: Callboard, account: Account) -> str:
    return service.create_flow(
        account.sid, friendly_name="f", status="published", definition=ask_flow()
    ).sid


def _sms(sid: str, body: str, to: str, **extra: str) -> dict[str, Any]:
    return {"MessageSid": sid, "From": "+15550001", "To": to, "Body": body, **extra}


def test_the_same_contact_from_two_numbers_gets_two_executions(
    service: Callboard, account: Account
) -> None:
    flow_sid = _flow(service, account)
    a = service.create_execution(account.sid, flow_sid, to="+15550001", from_="+15559001")
    b = service.create_execution(account.sid, flow_sid, to="+15550001", from_="+15559002")
    assert a.status == b.status == "active" and a.sid != b.sid
    with pytest.raises(Conflict) as caught:  # the same To/From again: 409 naming it
        service.create_execution(account.sid, flow_sid, to="+15550001", from_="+15559002")
    assert caught.value.details == {"conflicting_execution_sid": b.sid}
    assert "To/From" in caught.value.message
    # a reply goes to the execution of the number it was sent to
    reply = service.inbound_message(account.sid, flow_sid, _sms("SM1", "Bea", "+15559002"))
    assert (reply.execution_sid, reply.started) == (b.sid, False)
    assert service.fetch_execution(account.sid, flow_sid, a.sid).status == "active"
    assert service.fetch_execution(account.sid, flow_sid, b.sid).status == "ended"
    reply = service.inbound_message(account.sid, flow_sid, _sms("SM2", "Al", "+15559001"))
    assert (reply.execution_sid, reply.started) == (a.sid, False)
    # a message to a third number starts its own execution
    third = service.inbound_message(account.sid, flow_sid, _sms("SM3", "hi", "+15559003"))
    assert third.started and third.execution_sid not in (a.sid, b.sid)


def test_a_reply_to_a_messaging_service_execution_finds_it(
    service: Callboard, account: Account
) -> None:
    """Started by REST from a Messaging Service SID: the contact's reply arrives To one
    of the service's numbers, with the service's SID beside it."""
    flow_sid = _flow(service, account)
    mg = "MG" + "a" * 32
    ex = service.create_execution(account.sid, flow_sid, to="+15550001", from_=mg)
    reply = service.inbound_message(
        account.sid, flow_sid, _sms("SM1", "Ada", "+15559009", MessagingServiceSid=mg)
    )
    assert (reply.execution_sid, reply.started) == (ex.sid, False)
    assert service.fetch_execution(account.sid, flow_sid, ex.sid).status == "ended"
