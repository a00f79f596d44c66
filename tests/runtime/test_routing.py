"""THE inbound routing rule (runtime/routing.py), shared by the server and `chat`/`call`."""

from __future__ import annotations

from callboard.runtime.routing import Refuse, Resume, StartNew, route_call, route_message


def test_a_message_resumes_the_active_execution_else_starts_one() -> None:
    assert route_message("FN1") == Resume("FN1")
    assert route_message(None) == StartNew()


def test_a_call_is_refused_while_the_contact_is_busy_unless_concurrent() -> None:
    asked: list[bool] = []

    def active() -> str:
        asked.append(True)
        return "FN1"

    assert route_call(True, active) == StartNew(exclusive=False)
    assert asked == []  # concurrent calls never look for the active execution
    assert route_call(False, active) == Refuse("FN1")
    assert route_call(False, lambda: None) == StartNew(exclusive=True)
