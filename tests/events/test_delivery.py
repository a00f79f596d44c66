"""Fan-out, retries with back-off, giving up, leases and isolation (SQLite and
PostgreSQL), on a fake clock with recording senders."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from callboard.events.batches import read_events
from callboard.events.delivery import DeliveryConfig, EventDelivery
from callboard.events.envelope import EXECUTION_ENDED, EXECUTION_STARTED, STEP_ENDED
from callboard.events.service import EventStreams, Sink
from callboard.runtime.records import Account
from callboard.runtime.service import Callboard
from callboard.store.event_tables import event_deliveries, events
from callboard.store.queue import backoff_seconds
from tests.events.conftest import Clock, Senders, two_step_flow

ALL = [(EXECUTION_STARTED, 2), (STEP_ENDED, 2), (EXECUTION_ENDED, 2)]


def sink(streams: EventStreams, account: Account, name: str, batch: bool = False) -> Sink:
    return streams.create_sink(
        account.sid,
        description=name,
        sink_type="webhook",
        configuration={"destination": f"http://{name}.test/hook", "batch_events": batch},
    )


def run_flow(service: Callboard, account: Account, to: str = "+15550001") -> str:
    flow = service.create_flow(
        account.sid, friendly_name="f", status="published", definition=two_step_flow()
    )
    return service.create_execution(account.sid, flow.sid, to=to, from_="+15550002").sid


def recorded_ids(service: Callboard, account: Account) -> set[str]:
    with service.db.read() as conn:
        return {e.sid for e in read_events(conn, events.c.account_sid == account.sid)}


def test_every_event_reaches_a_subscribed_sink(
    service: Callboard,
    account: Account,
    streams: EventStreams,
    delivery: EventDelivery,
    senders: Senders,
) -> None:
    s = sink(streams, account, "a")
    streams.create_subscription(account.sid, description="all", sink_sid=s.sid, types=ALL)
    run_flow(service, account)
    assert delivery.run_once() > 0
    got = senders["http://a.test/hook"].received
    assert {e["id"] for e in got} == recorded_ids(service, account)
    assert streams.fetch_sink(account.sid, s.sid).status == "active"
    with service.db.read() as conn:  # delivered rows are gone
        assert conn.execute(select(event_deliveries.c.id)).first() is None


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        ([(STEP_ENDED, 2)], {STEP_ENDED}),
        ([(EXECUTION_STARTED, 1), (EXECUTION_ENDED, 2)], {EXECUTION_STARTED, EXECUTION_ENDED}),
        (ALL, {EXECUTION_STARTED, STEP_ENDED, EXECUTION_ENDED}),
    ],
)
def test_subscriptions_filter_by_type(
    service: Callboard,
    account: Account,
    streams: EventStreams,
    delivery: EventDelivery,
    senders: Senders,
    types: list[tuple[str, int]],
    expected: set[str],
) -> None:
    s = sink(streams, account, "a")
    streams.create_subscription(account.sid, description="some", sink_sid=s.sid, types=types)
    run_flow(service, account)
    delivery.run_once()
    assert {e["type"] for e in senders["http://a.test/hook"].received} == expected


def test_one_account_never_receives_another_accounts_events(
    service: Callboard,
    account: Account,
    other: Account,
    streams: EventStreams,
    delivery: EventDelivery,
    senders: Senders,
) -> None:
    mine = sink(streams, account, "mine")
    theirs = sink(streams, other, "theirs")
    streams.create_subscription(account.sid, description="m", sink_sid=mine.sid, types=ALL)
    streams.create_subscription(other.sid, description="t", sink_sid=theirs.sid, types=ALL)
    run_flow(service, account)
    delivery.run_once()
    assert senders["http://theirs.test/hook"].received == []
    assert {e["data"]["account_sid"] for e in senders["http://mine.test/hook"].received} == {
        account.sid
    }
    run_flow(service, other)
    delivery.run_once()
    assert {e["data"]["account_sid"] for e in senders["http://theirs.test/hook"].received} == {
        other.sid
    }


def test_two_subscriptions_to_one_sink_deliver_each_event_once(
    service: Callboard,
    account: Account,
    streams: EventStreams,
    delivery: EventDelivery,
    senders: Senders,
) -> None:
    s = sink(streams, account, "a")
    streams.create_subscription(account.sid, description="1", sink_sid=s.sid, types=ALL)
    streams.create_subscription(
        account.sid, description="2", sink_sid=s.sid, types=[(STEP_ENDED, 2)]
    )
    run_flow(service, account)
    delivery.run_once()
    ids = [e["id"] for e in senders["http://a.test/hook"].received]
    assert len(ids) == len(set(ids)) == len(recorded_ids(service, account))


def test_a_failing_sink_is_retried_with_backoff_and_gets_everything_after_recovering(
    service: Callboard,
    account: Account,
    streams: EventStreams,
    delivery: EventDelivery,
    senders: Senders,
    clock: Clock,
) -> None:
    s = sink(streams, account, "a")
    streams.create_subscription(account.sid, description="all", sink_sid=s.sid, types=ALL)
    receiver = senders["http://a.test/hook"]
    receiver.failing = True
    run_flow(service, account)
    delivery.run_once()
    assert receiver.calls == 1  # circuit breaker: one request, not one per event
    waits = []
    for _ in range(5):
        with service.db.read() as conn:
            due = conn.execute(select(event_deliveries.c.next_attempt_at)).scalars().all()
        waits.append((min(due) - clock.now.replace(tzinfo=None)).total_seconds())
        assert delivery.run_once() == 0  # nothing is due before the back-off ends
        clock.advance(waits[-1])
        delivery.run_once()
    assert all(w > 0 for w in waits)
    assert waits[-1] > waits[0] * 4  # exponential
    assert streams.fetch_sink(account.sid, s.sid).status == "initialized"
    receiver.failing = False
    clock.advance(1000)
    delivery.run_once()
    assert {e["id"] for e in receiver.received} == recorded_ids(service, account)
    assert streams.fetch_sink(account.sid, s.sid).status == "active"


def test_after_the_max_retry_age_deliveries_are_recorded_as_failed(
    service: Callboard,
    account: Account,
    streams: EventStreams,
    delivery: EventDelivery,
    senders: Senders,
    clock: Clock,
) -> None:
    s = sink(streams, account, "a")
    streams.create_subscription(account.sid, description="all", sink_sid=s.sid, types=ALL)
    receiver = senders["http://a.test/hook"]
    receiver.failing = True
    run_flow(service, account)
    delivery.run_once()
    clock.advance(delivery.config.max_retry_seconds - 10)
    delivery.run_once()
    assert streams.list_failures(account.sid, s.sid).items == []  # not yet
    clock.advance(delivery.config.max_backoff + 20)
    delivery.run_once()
    failures = streams.list_failures(account.sid, s.sid).items
    assert {f.event_sid for f in failures} == recorded_ids(service, account)
    assert all(f.last_status_code == 503 or f.last_status_code is None for f in failures)
    assert any("503" in (f.last_error or "") for f in failures)
    fetched = streams.fetch_sink(account.sid, s.sid)
    assert fetched.status == "failed" and "503" in (fetched.last_error or "")
    assert streams.pending_count(account.sid, s.sid) == 0
    # Failed deliveries are not retried any more; a later event still is, and its
    # success makes the sink active again.
    receiver.failing = False
    clock.advance(10_000)
    assert delivery.run_once() == 0
    run_flow(service, account, to="+15550009")
    delivery.run_once()
    assert receiver.received
    assert streams.fetch_sink(account.sid, s.sid).status == "active"


def test_a_claim_that_is_never_finished_is_delivered_after_the_lease(
    service: Callboard,
    account: Account,
    streams: EventStreams,
    delivery: EventDelivery,
    senders: Senders,
    clock: Clock,
) -> None:
    """A process that dies mid-send loses nothing: its claims come back."""
    s = sink(streams, account, "a")
    streams.create_subscription(account.sid, description="all", sink_sid=s.sid, types=ALL)
    run_flow(service, account)
    delivery.fan_out()
    claimed = delivery.claim()
    assert sum(len(v) for v in claimed.values()) == len(recorded_ids(service, account))
    assert delivery.claim() == {}  # leased: nobody else takes them
    clock.advance(delivery.config.lease_seconds + 1)
    delivery.run_once()
    assert {e["id"] for e in senders["http://a.test/hook"].received} == recorded_ids(
        service, account
    )


def test_two_workers_never_claim_the_same_delivery(
    service: Callboard,
    account: Account,
    streams: EventStreams,
    clock: Clock,
    senders: Senders,
) -> None:
    s = sink(streams, account, "a")
    streams.create_subscription(account.sid, description="all", sink_sid=s.sid, types=ALL)
    for i in range(6):
        run_flow(service, account, to=f"+1555000{i}")
    config = DeliveryConfig(claim_limit=5, per_sink_limit=5)
    one = EventDelivery(service.db, config=config, clock=clock, sender_factory=senders.factory)  # type: ignore[arg-type]
    two = EventDelivery(service.db, config=config, clock=clock, sender_factory=senders.factory)  # type: ignore[arg-type]
    try:
        one.fan_out()
        two.fan_out()
        seen: list[int] = []
        for worker in (one, two, one, two):
            seen.extend(c.id for g in worker.claim().values() for c in g)
        assert len(seen) == len(set(seen)) == 20
    finally:
        one.stop()
        two.stop()


def test_deleting_a_sink_drops_its_pending_deliveries(
    service: Callboard,
    account: Account,
    streams: EventStreams,
    delivery: EventDelivery,
    senders: Senders,
) -> None:
    s = sink(streams, account, "a")
    streams.create_subscription(account.sid, description="all", sink_sid=s.sid, types=ALL)
    run_flow(service, account)
    delivery.fan_out()
    streams.delete_sink(account.sid, s.sid)
    assert delivery.run_once() == 0
    assert streams.list_subscriptions(account.sid).items == []


def test_old_dispatched_events_are_pruned_but_not_those_still_needed(
    service: Callboard,
    account: Account,
    streams: EventStreams,
    delivery: EventDelivery,
    senders: Senders,
    clock: Clock,
) -> None:
    s = sink(streams, account, "a")
    senders["http://a.test/hook"].failing = True
    streams.create_subscription(
        account.sid, description="steps", sink_sid=s.sid, types=[(STEP_ENDED, 2)]
    )
    run_flow(service, account)
    other = service.create_account("other")  # no subscription: nothing needs its events
    run_flow(service, other)
    delivery.run_once()
    clock.advance(10 * 24 * 3600)
    delivery.prune()
    with service.db.read() as conn:
        kept = read_events(conn)
        needed = set(conn.execute(select(event_deliveries.c.event_sid)).scalars())
    # still referenced by (failed or pending) deliveries: kept, with the rest of their run
    assert needed and needed <= {e.sid for e in kept}
    assert {e.type for e in kept if e.sid in needed} == {STEP_ENDED}
    assert [e.type for e in kept] == [EXECUTION_STARTED, *[STEP_ENDED] * 3, EXECUTION_ENDED]


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    config = DeliveryConfig(base_backoff=1, max_backoff=60)
    rng = random.Random(1)
    for attempts in range(1, 12):
        nominal = min(60, 2 ** (attempts - 1))
        values = {
            backoff_seconds(attempts, config.base_backoff, config.max_backoff, rng)
            for _ in range(20)
        }
        assert all(nominal / 2 <= v <= nominal for v in values)
        assert len(values) > 1  # jitter
    assert backoff_seconds(10_000, config.base_backoff, config.max_backoff, rng) <= 60


def test_max_retry_setting_is_read_from_the_environment() -> None:
    config = DeliveryConfig.from_env({"CALLBOARD_EVENTS_MAX_RETRY_SECONDS": "90"})
    assert config.max_retry_seconds == 90
    assert DeliveryConfig.from_env({}).max_retry_seconds == 4 * 3600
    with pytest.raises(ValueError, match="CALLBOARD_EVENTS_MAX_RETRY_SECONDS"):
        DeliveryConfig.from_env({"CALLBOARD_EVENTS_MAX_RETRY_SECONDS": "soon"})
    assert timedelta(seconds=config.max_retry_seconds).total_seconds() == 90
