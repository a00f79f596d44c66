"""Synchronous code on the event loop (:mod:`callboard.store.suspend`): its waits suspend
it and let the loop run other tasks; errors, cancellation and context variables behave
as in a thread; the loop's reads reuse one connection; submitted writes on the loop
commit together and are answered once committed."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from callboard.store.db import Database
from callboard.store.suspend import Completion, current_loop, offload, run_on_loop
from tests.loops import run_async

_VAR: contextvars.ContextVar[str] = contextvars.ContextVar("test_suspend", default="unset")


def test_a_wait_suspends_and_the_loop_runs_other_tasks() -> None:
    order: list[str] = []

    def waiting(done: Completion) -> str:
        order.append("waiting")
        done.wait()  # would block the loop's thread if it did not suspend
        order.append("resumed")
        return "answer"

    async def main() -> str:
        inner: list[Completion] = []

        def make_and_wait() -> str:
            inner.append(Completion())  # made in the loop's greenlet: a suspension
            return waiting(inner[0])

        task = asyncio.create_task(run_on_loop(make_and_wait))
        await asyncio.sleep(0)
        order.append("other task ran")
        threading.Timer(0.05, inner[0].set).start()  # set from another thread
        return await asyncio.wait_for(task, 5)

    assert run_async(main()) == "answer"
    assert order == ["waiting", "other task ran", "resumed"]


def test_errors_come_out_and_offload_runs_in_a_thread() -> None:
    loop_thread: list[int] = []

    def blocking() -> int:
        assert current_loop() is None  # a thread-pool thread: a plain blocking call
        assert _VAR.get() == "set in the greenlet"  # its context, not the task's
        return threading.get_ident()

    def on_loop() -> int:
        assert current_loop() is not None
        loop_thread.append(threading.get_ident())
        _VAR.set("set in the greenlet")
        return offload(blocking)

    def failing() -> None:
        raise ValueError("boom")

    async def main() -> int:
        with pytest.raises(ValueError, match="boom"):
            await run_on_loop(failing)
        return await run_on_loop(on_loop)

    worker = run_async(main())
    assert worker != loop_thread[0]
    assert current_loop() is None
    assert offload(lambda: 7) == 7  # not on a loop: at once


def test_context_variables_are_copied_in_and_not_leaked_out() -> None:
    def inside() -> str:
        seen = _VAR.get()
        _VAR.set("changed inside")
        return seen

    async def main() -> tuple[str, str]:
        _VAR.set("caller's")
        seen = await run_on_loop(inside)
        return seen, _VAR.get()

    assert run_async(main()) == ("caller's", "caller's")


def test_cancelling_the_task_raises_in_the_waiting_code_and_a_late_set_is_harmless() -> None:
    seen: list[str] = []
    holder: list[Completion] = []

    def waiting() -> None:
        holder.append(Completion())
        try:
            holder[0].wait()
        except asyncio.CancelledError:
            seen.append("cancelled inside")
            raise

    async def main() -> None:
        task = asyncio.create_task(run_on_loop(waiting))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        holder[0].set()  # the committer finishing later: nothing to resume
        await asyncio.sleep(0.01)

    run_async(main())
    assert seen == ["cancelled inside"]
    Completion.set_all(holder)  # the loop is closed now: still harmless


def _db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path}/s.db")
    with db.write() as conn:
        conn.execute(text("CREATE TABLE t (k TEXT PRIMARY KEY)"))
    return db


def test_the_loops_reads_reuse_one_connection_and_nested_reads_get_another(
    tmp_path: Path,
) -> None:
    db = _db(tmp_path)

    def raw(conn: object) -> object:
        return conn.connection.driver_connection  # type: ignore[attr-defined]

    def reads() -> tuple[object, object, object, bool]:
        with db.read() as a:
            first = raw(a)
            with db.read() as nested:
                inner = raw(nested)
        with db.read() as b:
            second = raw(b)
            fresh = b.execute(text("SELECT count(*) FROM t")).scalar() == 1
        return first, inner, second, fresh

    async def main() -> tuple[object, object, object, bool]:
        await run_on_loop(lambda: offload(lambda: _insert(db, "a")))
        return await run_on_loop(reads)

    try:
        first, inner, second, fresh = run_async(main())
        assert first is second  # kept between reads
        assert inner is not first  # never two readers on one connection
        assert fresh  # each read is a new snapshot: it sees the commit before it
        with db.read() as conn:  # off the loop: the pool, as before
            assert raw(conn) is not first
    finally:
        db.dispose()


def _insert(db: Database, key: str) -> None:
    with db.write() as conn:
        conn.execute(text("INSERT INTO t VALUES (:k)"), {"k": key})


def test_writes_submitted_on_the_loop_commit_together_and_fail_alone(tmp_path: Path) -> None:
    db = _db(tmp_path)
    _insert(db, "taken")

    def unit(key: str) -> str:
        try:
            db.apply(lambda conn: conn.execute(text("INSERT INTO t VALUES (:k)"), {"k": key}))
        except IntegrityError:
            return "collided"
        with db.read() as conn:  # answered only once committed: visible at once
            found = conn.execute(text("SELECT k FROM t WHERE k = :k"), {"k": key}).scalar()
        return "stored" if found == key else "missing"

    async def main() -> list[str]:
        keys = [f"k{i}" for i in range(30)] + ["taken"]
        return list(await asyncio.gather(*(run_on_loop(unit, key) for key in keys)))

    try:
        outcomes = run_async(main())
        assert outcomes == ["stored"] * 30 + ["collided"]
        with db.read() as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 31
    finally:
        db.dispose()
