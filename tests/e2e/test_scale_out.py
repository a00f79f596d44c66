"""Scale-out on one PostgreSQL, with real processes: several ``callboard serve`` and
``callboard worker`` processes share a fresh database per test and keep every guarantee
of one process (docs/scaling.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from callboard.store import tables as t
from callboard.store.db import normalise_url
from tests.e2e.cluster import Proc, start_together, stop_all
from tests.e2e.durability import server_env
from tests.e2e.server import database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_three_servers_and_a_worker_started_together_on_an_empty_database(
    kind: str, tmp_path: Path
) -> None:
    with database(kind, tmp_path) as url:
        env = server_env(url, tmp_path, CALLBOARD_RETENTION_INTERVAL_SECONDS="0")
        procs = [Proc("serve", env, tmp_path, f"serve-{i}") for i in range(3)]
        procs.append(Proc("worker", env, tmp_path, "worker"))
        try:
            start_together(procs)
            engine = create_engine(normalise_url(url))
            try:
                with engine.connect() as conn:
                    assert conn.execute(select(func.count()).select_from(t.accounts)).scalar() == 1
            finally:
                engine.dispose()
            shown = [p.log().count("Created your first account") for p in procs]
            assert sum(shown) == 1, shown  # one server made it and showed it
        finally:
            stop_all(procs)
