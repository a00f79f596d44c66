"""The message resource :class:`~callboard.runtime.local.LocalRunner` (and the providers)
answer a :class:`~callboard.contract.io.SendMessage` with, and the segment count of a body.
:mod:`callboard.runtime.local` re-exports :func:`message_resource`.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from typing import Any

from callboard.contract.io import SendMessage

__all__ = ["message_resource", "segments"]

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
