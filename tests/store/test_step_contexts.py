"""Step contexts are stored once per run and as patches (migration 0950): what is read
back is exactly what was written; rows written before 0950 still read; a long run with
a large trigger does not store the trigger again at every step."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from callboard.store import tables as t
from callboard.store.db import Database
from callboard.store.step_contexts import apply_patch, make_patch, pack, unpack
from callboard.store.steps import ContextReader, insert_steps
from callboard.store.values import dumps


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return rng.choice([0, 1, 1.0, 2.5, -3])
    if kind == 1:
        return rng.choice([True, False, None])
    if kind in (2, 3, 4):
        return rng.choice(["", "a", "Ünïcode ✓", "x" * 50])
    if kind in (5, 6):
        return {
            f"k{rng.randrange(6)}": _random_json(rng, depth + 1) for _ in range(rng.randrange(5))
        }
    return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]


def test_patches_round_trip_exactly() -> None:
    rng = random.Random(7)
    for _ in range(500):
        a, b = _random_json(rng), _random_json(rng)
        base = a if isinstance(a, dict) else {"v": a}
        new = b if isinstance(b, dict) else {"v": b}
        patched = apply_patch(base, unpack(pack(make_patch(base, new))))
        assert dumps(patched) == dumps(new)
    assert make_patch({"a": 1}, {"a": True}) == {"s": {"a": True}}
    assert make_patch({"a": [1]}, {"a": [1.0]}) == {"s": {"a": [1.0]}}


@pytest.fixture
def db(tmp_path: Path) -> Any:
    database = Database(f"sqlite:///{tmp_path}/cb.db")
    database.migrate()
    now = datetime(2026, 12, 3)
    with database.write() as conn:
        conn.execute(
            t.accounts.insert(),
            {
                "sid": "AC1",
                "friendly_name": "a",
                "auth_token": "x",
                "date_created": now,
                "date_updated": now,
            },
        )
        conn.execute(
            t.flows.insert(),
            {
                "sid": "FW1",
                "account_sid": "AC1",
                "friendly_name": "f",
                "latest_revision": 1,
                "date_created": now,
            },
        )
        conn.execute(
            t.executions.insert(),
            {
                "sid": "FN1",
                "account_sid": "AC1",
                "flow_sid": "FW1",
                "flow_version": 1,
                "contact_channel_address": "+1",
                "flow_address": "+2",
                "status": "ended",
                "state": "{}",
                "initiated_by": "RQ1",
                "test_user": False,
                "date_created": now,
            },
        )
    yield database
    database.dispose()


def _row(seq: int, context: Any) -> dict[str, Any]:
    return {
        "sid": f"FT{seq}",
        "execution_sid": "FN1",
        "seq": seq,
        "name": f"w{seq}",
        "transitioned_from": "a",
        "transitioned_to": "b",
        "type": "set-variables",
        "subflow_sid": None,
        "parent_step_sid": None,
        "context": context,
        "warnings": None,
        "date_created": datetime(2026, 12, 3),
    }


def test_stored_steps_read_back_whole(db: Database) -> None:
    trigger = {"request": {"parameters": {"blob": "p" * 200_000}}}
    contexts = []
    for i in range(1, 201):  # a 200-step loop in one run, after a 200 kB trigger
        contexts.append(
            {
                "trigger": trigger,
                "flow": {"variables": {"i": i, "half": i // 2}},
                "widgets": {f"w{j}": {"n": j} for j in range(min(i, 20))},
            }
        )
    with db.write() as conn:
        insert_steps(conn, [_row(i + 1, c) for i, c in enumerate(contexts)])
        # a row written before 0950: JSON in the context column
        legacy = _row(201, None)
        legacy.update(context=dumps({"old": True}))
        conn.execute(t.steps.insert(), legacy)
    with db.read() as conn:
        rows = conn.execute(select(t.steps).order_by(t.steps.c.seq)).all()
        reader = ContextReader(conn)
        read = [reader.context(r) for r in rows]
        stored = conn.execute(
            select(
                func.sum(
                    func.length(t.steps.c.context)
                    + func.coalesce(func.length(t.steps.c.context_z), 0)
                )
            )
        ).scalar_one()
        fresh = ContextReader(conn).context(rows[150])  # a patched step alone
    assert [dumps(c) for c in read[:200]] == [dumps(c) for c in contexts]
    assert read[200] == {"old": True}
    assert dumps(fresh) == dumps(contexts[150])
    assert stored < 200_000  # whole copies would be 200 x 200 kB = 40 MB


def test_a_step_that_changes_nothing_refers_to_the_step_before(db: Database) -> None:
    first = {"trigger": {"n": 1}, "flow": {"variables": {}}}
    second = {"trigger": {"n": 1}, "flow": {"variables": {"a": "1"}}}
    third = {"trigger": {"n": 1}, "flow": {"variables": {"a": "1"}}}  # a Split, say
    fourth = {"trigger": {"n": 1}, "flow": {"variables": {"a": "1"}}}
    fifth = {"trigger": {"n": 1}, "flow": {"variables": {"a": 1}}}  # 1, not "1"
    sixth = {"trigger": {"n": 1}, "flow": {"variables": {"a": 1.0}}}  # 1.0, not 1
    contexts = [first, first, second, third, fourth, fifth, sixth]
    with db.write() as conn:
        insert_steps(conn, [_row(i + 1, c) for i, c in enumerate(contexts)])
    with db.read() as conn:
        rows = conn.execute(select(t.steps).order_by(t.steps.c.seq)).all()
        stored = [(r.context_base, bytes(r.context_z)) for r in rows]
        read = [ContextReader(conn).context(r) for r in rows]  # each alone
    assert stored[1] == (1, b"=") and stored[3] == (3, b"=") and stored[4] == (3, b"=")
    assert stored[5][0] == 1 and stored[6][0] == 1  # patches against the first
    assert [dumps(c) for c in read] == [dumps(c) for c in contexts]
