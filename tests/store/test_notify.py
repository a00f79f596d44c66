"""LISTEN/NOTIFY across processes (store/notify.py): a committed run is announced to
every listener; a rolled-back one never is; SQLite announces nothing."""

from __future__ import annotations

import queue

import pytest

from callboard.store.db import Database
from callboard.store.notify import Listener, notify_run, parse


@pytest.mark.postgres
def test_a_listener_hears_committed_runs_only(postgres_url: str) -> None:
    db = Database(postgres_url)
    db.migrate()
    heard: queue.Queue[str] = queue.Queue()
    listener = Listener(db.url)
    listener.subscribe(heard.put)
    listener.start()
    try:
        assert heard.get(timeout=10) == ""  # connected: "look again"
        assert listener.connected.is_set()
        with pytest.raises(RuntimeError), db.write() as conn:
            notify_run(conn, "FW1", work=True)
            raise RuntimeError("rolled back")
        with db.write() as conn:
            notify_run(conn, "FW2", work=False)
        with db.write() as conn:
            notify_run(conn, "FW3", work=True)
        assert parse(heard.get(timeout=5)) == ("FW2", False)
        assert parse(heard.get(timeout=5)) == ("FW3", True)
        assert heard.empty()
    finally:
        listener.stop()
        db.dispose()


def test_sqlite_announces_nothing(tmp_path: object) -> None:
    db = Database(f"sqlite:///{tmp_path}/n.db")
    try:
        with db.write() as conn:
            notify_run(conn, "FW1", work=True)  # no error, nothing to do
    finally:
        db.dispose()
