"""Units of work (:mod:`callboard.runtime.unit`): eager and deferred writes, lost races
computed again, and the fall-back to the writer's lock."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from callboard.runtime.unit import RACE_RETRIES, SNAPSHOT_TRIES, Writes, transact
from callboard.store.db import Database
from callboard.store.executions import StaleExecution


@pytest.fixture
def db(db_url: str) -> Database:
    database = Database(db_url)
    with database.write() as conn:
        conn.exec_driver_sql("CREATE TABLE kv (k VARCHAR(10) PRIMARY KEY, v INTEGER)")
    return database


def _put(k: str, v: int):  # type: ignore[no-untyped-def]
    return lambda c: c.execute(text("INSERT INTO kv (k, v) VALUES (:k, :v)"), {"k": k, "v": v})


def _rows(db: Database) -> list[tuple[str, int]]:
    with db.read() as conn:
        return [tuple(r) for r in conn.exec_driver_sql("SELECT k, v FROM kv ORDER BY k")]  # type: ignore[misc]


def test_eager_writes_are_done_at_once_deferred_ones_on_apply(db: Database) -> None:
    with db.write() as conn:
        eager = Writes(conn)
        eager.add(_put("a", 1))
        assert not eager.deferred and not eager  # nothing kept
        assert conn.exec_driver_sql("SELECT count(*) FROM kv").scalar_one() == 1
    later = Writes()
    later.add(_put("b", 2))
    assert later.deferred and later
    assert _rows(db) == [("a", 1)]
    with db.write() as conn:
        later.apply(conn)
    assert _rows(db) == [("a", 1), ("b", 2)] and not later


def test_a_lost_race_is_computed_again_on_a_newer_snapshot(db: Database) -> None:
    """The first try's write collides with a row another writer committed after the
    snapshot was read: the unit runs again and sees that row."""
    seen: list[int] = []

    def work(conn: Connection, writes: Writes) -> int:
        count = int(conn.exec_driver_sql("SELECT count(*) FROM kv").scalar_one())
        seen.append(count)
        if len(seen) == 1:  # another writer gets in between this read and our write
            with db.write() as other:
                _put("x", 0)(other)
        writes.add(_put("x" if len(seen) == 1 else "y", count))
        return count

    assert transact(db, work, snapshot=True) == 1
    assert seen == [0, 1]
    assert _rows(db) == [("x", 0), ("y", 1)]


@pytest.mark.parametrize("snapshot", [True, False])
def test_a_unit_that_keeps_losing_ends_with_the_error(db: Database, snapshot: bool) -> None:
    tries: list[bool] = []

    def work(conn: Connection, writes: Writes) -> None:
        tries.append(writes.deferred)
        raise StaleExecution("FN1")

    with pytest.raises(StaleExecution):
        transact(db, work, snapshot=snapshot)
    assert len(tries) == RACE_RETRIES
    # on SQLite the first tries compute on snapshots, the last ones in the writer's lock
    expected = [snapshot and db.is_sqlite and i < SNAPSHOT_TRIES for i in range(RACE_RETRIES)]
    assert tries == expected


def test_other_errors_are_not_retried(db: Database) -> None:
    tries: list[int] = []

    def work(conn: Connection, writes: Writes) -> None:
        tries.append(1)
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        transact(db, work, snapshot=True)
    assert tries == [1]


def test_a_failed_write_stores_none_of_the_units_writes(db: Database) -> None:
    with db.write() as conn:
        _put("dup", 0)(conn)

    def work(conn: Connection, writes: Writes) -> None:
        writes.add(_put("new", 1))
        writes.add(_put("dup", 1))  # collides: the whole unit is rolled back

    with pytest.raises(IntegrityError):
        transact(db, work, snapshot=True, retry=lambda exc: False)
    assert _rows(db) == [("dup", 0)]


def test_a_snapshot_unit_without_writes_opens_no_write_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")

    def no_write() -> None:
        raise AssertionError("a write transaction was opened")

    monkeypatch.setattr(db, "write", no_write)
    assert transact(db, lambda conn, writes: 7, snapshot=True) == 7
