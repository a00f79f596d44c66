"""The message resource :class:`~callboard.runtime.local.LocalRunner` (and the providers)
answer a :class:`~callboard.contract.io.SendMessage` with, and the segment count of a body.
:func:`simulated_send` is the simulator's answer to a send, refusals included.
:mod:`callboard.runtime.local` re-exports both.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from typing import Any

from callboard.contract.io import EffectResult, SendMessage

__all__ = [
    "EMPTY_BODY_ERROR",
    "conversation_message_resource",
    "message_resource",
    "segments",
    "simulated_send",
]

EMPTY_BODY_ERROR = (21602, "Message body is required.")
"""What Twilio's Messages API answers (400) to a message with no body, no media and no
content template; the simulator refuses such a message the same way."""

# --------------------------------------------------------------------------- messages


def segments(body: str) -> int:
    gsm = all(ord(c) < 128 for c in body)
    single, multi = (160, 153) if gsm else (70, 67)
    if len(body) <= single:
        return 1
    return -(-len(body) // multi)


def message_resource(
    effect: SendMessage, sid: str, account_sid: str, now: datetime
) -> dict[str, Any]:
    """The message resource a provider would answer for ``effect`` (status ``sent``)."""
    stamp = format_datetime(now, usegmt=True) if now.tzinfo else now.isoformat()
    return {
        "Sid": sid,
        "AccountSid": account_sid,
        "MessagingServiceSid": effect.from_ if effect.from_.startswith("MG") else None,
        "Status": "sent",
        "Direction": "outbound-api",
        "To": effect.to,
        "From": effect.from_,
        "Body": effect.body,
        "NumMedia": str(len(effect.media_urls)),
        "NumSegments": str(segments(effect.body)),
        "ApiVersion": "2010-04-01",
        "DateCreated": stamp,
        "DateUpdated": stamp,
        "DateSent": stamp,
        "ErrorCode": None,
        "ErrorMessage": None,
        "Price": None,
        "PriceUnit": "USD",
        "Uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
    }


def conversation_message_resource(
    effect: SendMessage, sid: str, account_sid: str, now: datetime
) -> dict[str, Any]:
    """The Conversations API's message resource for a message posted to
    ``effect.conversation_sid`` (as twilio-python's names come out: ``Sid`` ``IM…``,
    ``ConversationSid``, ``Author``, ``Body``...)."""
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "Sid": sid,
        "AccountSid": account_sid,
        "ConversationSid": effect.conversation_sid,
        "Author": effect.author,
        "Body": effect.body,
        "Media": [{"url": u} for u in effect.media_urls] or None,
        "Attributes": effect.attributes or "{}",
        "ParticipantSid": None,
        "Index": None,
        "Status": "sent",
        "To": effect.to,
        "From": effect.author,
        "DateCreated": stamp,
        "DateUpdated": stamp,
        "Url": f"https://conversations.twilio.com/v1/Conversations/{effect.conversation_sid}"
        f"/Messages/{sid}",
    }


def simulated_send(effect: SendMessage, sid: str, account_sid: str, now: datetime) -> EffectResult:
    """The simulator channel's answer to ``effect``: accepted (status ``sent``, with the
    message resource), or refused as Twilio refuses it -- a message with nothing to send
    (an empty or blank body, no media, no content template) fails with 21602, so the
    widget takes ``failed`` / ``deliveryFailure`` as it would against Twilio."""
    if not effect.body.strip() and not effect.media_urls and not effect.content_sid:
        code, message = EMPTY_BODY_ERROR
        return EffectResult(
            effect.token,
            False,
            {
                "Sid": None,
                "Status": "failed",
                "To": effect.to,
                "From": effect.from_,
                "Body": effect.body,
                "ErrorCode": code,
                "ErrorMessage": message,
                "error": f"Twilio answered 400: {message}",
            },
        )
    if effect.conversation_sid:
        data = conversation_message_resource(effect, sid, account_sid, now)
        return EffectResult(effect.token, True, data)
    return EffectResult(effect.token, True, message_resource(effect, sid, account_sid, now))
