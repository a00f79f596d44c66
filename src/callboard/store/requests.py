"""The SQL of the ``processed_requests`` table: the answer stored for each webhook
request processed (its idempotency key), so a repeated request gets the same answer.

An answer (JSON text) that opens with the execution SID its row already holds
(``{"execution_sid":"FN…"…``, as every message webhook's does) is stored without it:
``result`` is then ``@`` and the text after the SID — or, when that text is one of the
usual endings (:data:`_ENDINGS`: started/accepted, no TwiML, the status, no warnings),
``@`` and its number. Reading puts the row's ``execution_sid`` back, giving the very
text written. Answers stored before (JSON objects: ``{`` first) and any other answer
are kept as they are."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete

from callboard.store import tables as t
from callboard.store.driver import fetch_row, insert_sql, run

__all__ = ["prune_requests", "remember_request", "stored_answer"]

_p = t.processed_requests


_ANSWER = "SELECT result, execution_sid FROM processed_requests WHERE key = ?"
_REMEMBER = insert_sql(
    "processed_requests", ("key", "account_sid", "result", "date_created", "execution_sid")
)


def stored_answer(conn: Connection, key: str) -> str | None:
    """The JSON answer stored for ``key`` (None: not seen before)."""
    found = fetch_row(conn, _ANSWER, (key,))  # every webhook asks: straight to the driver
    if found is None or found[0] is None:
        return None
    result, execution_sid = str(found[0]), found[1]
    if result[:1] != _SHORT:
        return result
    sid = "null" if execution_sid is None else f'"{execution_sid}"'  # (never None)
    rest = result[1:]
    return _OPENING + sid + (_ENDINGS[int(rest)] if rest[:1].isdigit() else rest)


def remember_request(
    conn: Connection,
    key: str,
    account_sid: str | None,
    answer: str,
    execution_sid: str | None,
    now: datetime,
) -> None:
    """Store the answer of ``key`` (a concurrent twin makes this raise IntegrityError)."""
    run(conn, _REMEMBER, (key, account_sid, _stored(answer, execution_sid), now, execution_sid))


_SHORT = "@"  # the answer opens with its row's execution SID, left out
_OPENING = '{"execution_sid":'
_NO_TWIML = r'"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"'
# What usually follows the SID, by number (stored: never change or reorder one, only
# add new ones at the end). After the SID comes "," or "}", never a digit.
_ENDINGS = tuple(
    f',"started":{started},"accepted":{accepted},"twiml":{_NO_TWIML},'
    f'"status":{status},"warnings":[]}}'
    for started in ("true", "false")
    for accepted in ("true", "false")
    for status in ('"ended"', '"active"', "null")
)
_ENDING_NUMBER = {ending: str(n) for n, ending in enumerate(_ENDINGS)}


def _stored(answer: str, execution_sid: str | None) -> str:
    """What ``result`` holds for ``answer`` (see the module docstring)."""
    if execution_sid is not None and answer.startswith(_OPENING):
        opening = f'{_OPENING}"{execution_sid}"'
        if answer.startswith(opening):
            rest = answer[len(opening) :]
            return _SHORT + _ENDING_NUMBER.get(rest, rest)
    return answer


def prune_requests(conn: Connection, cutoff: datetime) -> None:
    """Delete the processed requests that belong to no execution, made at or before ``cutoff``."""
    conn.execute(delete(_p).where(t.REQUEST_WITHOUT_EXECUTION, _p.c.date_created <= cutoff))
