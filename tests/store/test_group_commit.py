"""Group commit (SQLite): concurrent writers share one COMMIT; one writer's error rolls
back only its own changes; a write returns only once its changes are committed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from callboard.store.db import Database


def _db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path}/gc.db")
    with db.write() as conn:
        conn.execute(text("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)"))
    return db


def test_concurrent_writers_share_commits_and_fail_alone(tmp_path: Path) -> None:
    db = _db(tmp_path)
    commits: list[int] = []
    from sqlalchemy import event

    event.listen(db.engine, "commit", lambda conn: commits.append(1))
    outcomes: dict[int, str] = {}
    seen_committed: dict[int, bool] = {}
    start = threading.Barrier(40)

    def writer(i: int) -> None:
        start.wait()
        try:
            with db.write() as conn:
                conn.execute(text("INSERT INTO t VALUES (:k, :v)"), {"k": f"k{i}", "v": i})
                if i % 5 == 0:  # a second row, then a collision: all of i's rows go
                    conn.execute(text("INSERT INTO t VALUES (:k, 0)"), {"k": f"x{i}"})
                    conn.execute(text("INSERT INTO t VALUES (:k, 0)"), {"k": f"k{i}"})
            outcomes[i] = "ok"
            with db.engine.connect() as other:  # another connection sees it at once
                seen_committed[i] = (
                    other.execute(text("SELECT v FROM t WHERE k = :k"), {"k": f"k{i}"}).scalar()
                    == i
                )
        except IntegrityError:
            outcomes[i] = "integrity"

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(40)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    try:
        assert {i for i, o in outcomes.items() if o == "integrity"} == set(range(0, 40, 5))
        assert all(seen_committed[i] for i, o in outcomes.items() if o == "ok")
        with db.read() as conn:
            keys = set(conn.execute(text("SELECT k FROM t")).scalars())
        assert keys == {f"k{i}" for i in range(40) if i % 5}
        assert len(commits) < 40  # some writers shared a COMMIT
    finally:
        db.dispose()


def test_a_write_inside_a_write_is_part_of_it(tmp_path: Path) -> None:
    db = _db(tmp_path)
    try:
        with pytest.raises(RuntimeError), db.write() as outer:
            outer.execute(text("INSERT INTO t VALUES ('a', 1)"))
            with db.write() as inner:
                inner.execute(text("INSERT INTO t VALUES ('b', 2)"))
            raise RuntimeError("the outer block fails")
        with db.write() as conn:
            conn.execute(text("INSERT INTO t VALUES ('c', 3)"))
        with db.read() as conn:
            assert set(conn.execute(text("SELECT k FROM t")).scalars()) == {"c"}
    finally:
        db.dispose()


def test_a_write_inside_a_write_through_a_second_database_fails_instead_of_hanging(
    tmp_path: Path,
) -> None:
    """Two Database objects on one file in one thread: the inner write would wait for
    the outer one's kernel lock for ever; it fails at once, and the outer one commits."""
    outer = _db(tmp_path)
    inner = Database(f"sqlite:///{tmp_path}/gc.db")
    with outer.write() as conn:
        conn.execute(text("INSERT INTO t VALUES ('a', 1)"))
        with pytest.raises(RuntimeError, match="second Database"), inner.write() as conn2:
            conn2.execute(text("INSERT INTO t VALUES ('b', 2)"))
    with inner.write() as conn2:  # afterwards: the file lock is free again
        conn2.execute(text("INSERT INTO t VALUES ('c', 3)"))
    with outer.read() as conn:
        assert sorted(conn.execute(text("SELECT k FROM t")).scalars()) == ["a", "c"]


def _insert(k: str, v: int):  # type: ignore[no-untyped-def]
    return lambda conn: conn.execute(text("INSERT INTO t VALUES (:k, :v)"), {"k": k, "v": v})


def test_submitted_writes_share_commits_and_fail_alone(tmp_path: Path) -> None:
    """Writes computed beforehand go to one committer thread: queued together they
    share a COMMIT; one that fails rolls back alone; each submit returns once its
    batch committed."""
    db = _db(tmp_path)
    commits: list[int] = []
    from sqlalchemy import event

    event.listen(db.engine, "commit", lambda conn: commits.append(1))
    outcomes: dict[int, str] = {}
    start = threading.Barrier(40)

    def writer(i: int) -> None:
        start.wait()

        def write(conn):  # type: ignore[no-untyped-def]
            _insert(f"k{i}", i)(conn)
            if i % 5 == 0:  # a second row, then a collision: all of i's rows go
                _insert(f"x{i}", 0)(conn)
                _insert(f"k{i}", 0)(conn)

        try:
            db.apply(write)
            with db.engine.connect() as other:  # committed when apply returns
                found = other.execute(text("SELECT v FROM t WHERE k = :k"), {"k": f"k{i}"})
                outcomes[i] = "ok" if found.scalar() == i else "not committed"
        except IntegrityError:
            outcomes[i] = "integrity"

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(40)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    try:
        assert {i for i, o in outcomes.items() if o == "integrity"} == set(range(0, 40, 5))
        assert {o for i, o in outcomes.items() if i % 5} == {"ok"}
        with db.read() as conn:
            keys = set(conn.execute(text("SELECT k FROM t")).scalars())
        assert keys == {f"k{i}" for i in range(40) if i % 5}
        assert len(commits) < 40  # some writes shared a COMMIT
    finally:
        db.dispose()


def test_a_submitted_write_inside_a_write_is_part_of_it(tmp_path: Path) -> None:
    db = _db(tmp_path)
    try:
        with pytest.raises(RuntimeError, match="outer"), db.write() as conn:
            conn.execute(text("INSERT INTO t VALUES ('a', 1)"))
            db.apply(_insert("b", 2))  # would wait for the outer write for ever otherwise
            raise RuntimeError("the outer block fails")
        db.apply(_insert("c", 3))
        with db.read() as conn:
            assert set(conn.execute(text("SELECT k FROM t")).scalars()) == {"c"}
    finally:
        db.dispose()


def test_a_failed_commit_fails_every_submitted_write_of_its_batch(tmp_path: Path) -> None:
    """A deferred foreign key is only checked at COMMIT: the batch's COMMIT fails, and
    so does every write of that batch (nothing of it is stored)."""
    db = Database(f"sqlite:///{tmp_path}/fk.db")
    with db.write() as conn:
        conn.execute(text("CREATE TABLE p (k TEXT PRIMARY KEY)"))
        conn.execute(
            text(
                "CREATE TABLE c (k TEXT PRIMARY KEY, p TEXT REFERENCES p(k) "
                "DEFERRABLE INITIALLY DEFERRED)"
            )
        )
    try:
        with pytest.raises(IntegrityError):
            db.apply(lambda conn: conn.execute(text("INSERT INTO c VALUES ('x', 'missing')")))
        db.apply(lambda conn: conn.execute(text("INSERT INTO p VALUES ('ok')")))
        with db.read() as conn:
            assert list(conn.execute(text("SELECT k FROM c")).scalars()) == []
            assert list(conn.execute(text("SELECT k FROM p")).scalars()) == ["ok"]
    finally:
        db.dispose()
