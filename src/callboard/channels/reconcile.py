"""Reconciling an interrupted send with the provider (issue 12), for the outbox's
:data:`~callboard.runtime.ports.OutboxReconciler` port.

A server killed between the provider accepting a message (or a call) and the commit
that marks its outbox job done leaves the job ``running``; when its lease runs out
another process claims it. Before sending again, it asks:

* **Twilio** (through twilio-python, on ``CALLBOARD_TWILIO_API_URL`` when set): the
  Messages list by To, From and DateSent at or after the interrupted attempt's start,
  matched on the body (the whole content for a Content API send: To and From only); for
  a message posted to a Conversation, that Conversation's latest messages, matched on
  author, body and creation time;
  the Calls list by To and From, created at or after it. Found: the job's result is
  that resource (its SID goes on the ``messages`` row / a ``calls`` row is written) and
  nothing is sent again.
* **the simulator channel**: its own record — the ``calls`` row the job wrote for the
  execution's wait (messages on the simulator are sent inside the run's transaction and
  never interrupted).

The window that remains: a message matching To, From and body sent by *another* send
in the same seconds would be taken for this one (the flow then records that one's SID),
and a provider that accepts a request but lists it only later would be missed (the
message then goes out twice). See docs/scaling.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callboard.channels.router import ChannelRouter
from callboard.contract.io import EffectResult, Event, PlaceCall, SendMessage, effect_from_json
from callboard.runtime.ports import OutboxReconciler
from callboard.store.calls import call_for_token
from callboard.store.messages import update_message
from callboard.store.values import loads

__all__ = ["reconcilers"]


def reconcilers(router: ChannelRouter) -> dict[str, OutboxReconciler]:
    """The outbox's reconcilers for the job kinds the channels send."""

    def find_message(job: dict[str, Any], since: datetime) -> Event | None:
        payload = loads(job["payload"]) or {}
        meta = payload.pop("_meta", {}) or {}
        effect = effect_from_json(payload)
        assert isinstance(effect, SendMessage)
        creds = router.read_credentials(str(job.get("account_sid") or ""))
        if creds is None:
            return None  # the simulator sends in the run's transaction: nothing to find
        twilio = router.twilio(creds)
        if effect.conversation_sid:  # posted to a Conversation: its messages
            found = twilio.find_conversation_message(
                effect.conversation_sid, author=effect.author, body=effect.body, since=since
            )
            if found is not None:
                found.setdefault("Status", "sent")
        else:
            body = None if effect.content_sid else effect.body
            found = twilio.find_message(to=effect.to, from_=effect.from_, body=body, since=since)
        if found is None:
            return None
        if meta.get("sid") and found.get("Sid"):
            values = {"sid": str(found["Sid"]), "status": str(found.get("Status") or "queued")}
            with router.db.write() as conn:
                update_message(conn, str(meta["sid"]), values)
        return EffectResult(effect.token, True, found)

    def find_call(job: dict[str, Any], since: datetime) -> Event | None:
        effect = effect_from_json({k: v for k, v in (loads(job["payload"]) or {}).items()})
        assert isinstance(effect, PlaceCall)
        execution_sid = str(job["execution_sid"])
        with router.db.read() as conn:
            row = call_for_token(conn, execution_sid, effect.token)
        if row is not None:  # recorded before the crash (the simulator's, or Twilio's)
            data = {"Sid": row.sid, "CallSid": row.sid, "To": row.to_address}
            data.update({"From": row.from_address, "Status": row.status})
            return EffectResult(effect.token, True, data)
        account_sid = str(job.get("account_sid") or "")
        creds = router.read_credentials(account_sid)
        if creds is None:
            return None
        found = router.twilio(creds).find_call(to=effect.to, from_=effect.from_, since=since)
        if found is None or not found.get("Sid"):
            return None
        flow_sid = str(job.get("flow_sid") or "")
        router.record_outbound_call(
            str(found["Sid"]), account_sid, flow_sid, execution_sid, effect, "twilio"
        )
        return EffectResult(effect.token, True, found)

    return {"send_message": find_message, "place_call": find_call}
