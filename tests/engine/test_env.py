"""SystemEnv and FakeEnv: the clocks and SID generators given to the engine."""

from __future__ import annotations

import os
import re
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from callboard.engine.env import DEFAULT_FAKE_TIME, FakeEnv, RandomHex, SystemEnv, random_hex

SID = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$")


def test_system_env_gives_aware_utc_time_and_random_hex_sids() -> None:
    env = SystemEnv()
    now = env.now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)
    sids = {env.sid("FN") for _ in range(50)}
    assert len(sids) == 50
    assert all(SID.match(s) and s.startswith("FN") for s in sids)


def test_random_hex_is_unique_across_reads_threads_and_a_forked_child() -> None:
    source = RandomHex()
    os.register_at_fork(after_in_child=source.forget)  # as random_hex()'s own does
    seen: list[str] = []
    lock = threading.Lock()

    def draw() -> None:
        got = [source.next() for _ in range(RandomHex.PER_READ)]
        with lock:
            seen.extend(got)

    threads = [threading.Thread(target=draw) for _ in range(4)]  # 4 reads' worth
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(seen) == len(set(seen)) == 4 * RandomHex.PER_READ
    assert all(re.fullmatch(r"[0-9a-f]{32}", h) for h in seen)
    seen.append(source.next())  # a read begun: the child must not go on with it
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: what it draws next is its own, not the parent's next
        os.write(write, source.next().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 32).decode()
    os.close(read)
    os.close(write)
    assert child != source.next() and child not in seen
    assert re.fullmatch(r"[0-9a-f]{32}", random_hex()) and random_hex() != random_hex()


def test_fake_env_is_deterministic() -> None:
    a, b = FakeEnv(), FakeEnv()
    assert [a.sid("FT"), a.sid("SM")] == [b.sid("FT"), b.sid("SM")]
    assert FakeEnv().sid("FN") == "FN" + "0" * 31 + "1"
    assert all(SID.match(FakeEnv(first_sid=n).sid("AC")) for n in (1, 2**64))
    assert a.now() == DEFAULT_FAKE_TIME == a.now()


def test_fake_clock_moves_only_forward() -> None:
    env = FakeEnv()
    env.advance(30)
    assert env.now() == DEFAULT_FAKE_TIME + timedelta(seconds=30)
    env.advance_to(DEFAULT_FAKE_TIME)  # earlier: ignored
    assert env.now() == DEFAULT_FAKE_TIME + timedelta(seconds=30)
    later = datetime(2027, 1, 1, 9, tzinfo=timezone(timedelta(hours=2)))
    env.advance_to(later)
    assert env.now() == later and env.now().tzinfo == UTC
    with pytest.raises(ValueError):
        env.advance(-1)


def test_fake_env_refuses_naive_start() -> None:
    with pytest.raises(ValueError):
        FakeEnv(datetime(2026, 1, 1))
