"""The cross-process lock (store/locks.py): one holder at a time, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

from callboard.store.db import Database
from callboard.store.locks import RETENTION, STARTUP


def test_try_lock_is_refused_while_another_connection_holds_it(db_url: str) -> None:
    first, second = Database(db_url), Database(db_url)  # two engines: as two processes
    try:
        with first.lock(RETENTION, wait=False) as got:
            assert got
            with second.lock(RETENTION, wait=False) as other:
                assert not other
            with second.lock(STARTUP, wait=False) as unrelated:
                assert unrelated  # another key is free
        with second.lock(RETENTION, wait=False) as again:
            assert again  # released at the end of the block
    finally:
        first.dispose()
        second.dispose()


def test_a_waiting_lock_waits_for_the_holder(db_url: str) -> None:
    first, second = Database(db_url), Database(db_url)
    order: list[str] = []
    try:
        with first.lock(STARTUP):

            def waiter() -> None:
                with second.lock(STARTUP):
                    order.append("second")

            thread = threading.Thread(target=waiter)
            thread.start()
            thread.join(0.5)
            assert thread.is_alive()  # still waiting
            order.append("first done")
        thread.join(10)
        assert order == ["first done", "second"]
    finally:
        first.dispose()
        second.dispose()
