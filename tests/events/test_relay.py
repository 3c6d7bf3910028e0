"""The relay: outbox -> platform_events + the account's channel, once, in order, retried."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.events.support import (
    Collector,
    FlakyBus,
    eventually,
    new_account,
    outbox_count,
    outbox_rows,
    record,
    record_many,
    stored_ids,
)
from tunedeck.events import repository
from tunedeck.events.bus import EventBus
from tunedeck.events.drain import DrainResult
from tunedeck.events.relay import EventRelay
from tunedeck.events.schemas import EventOut
from tunedeck.events.types import EventType
from tunedeck.kit.background import Backoff
from tunedeck.kit.db import Database, utcnow
from tunedeck.kit.unit_of_work import Outbox, UnitsOfWork


async def test_stored_and_published_once_with_relays_racing(
    database: Database, bus: EventBus
) -> None:
    account = await new_account(database)
    async with bus.subscribe(account.id) as sub:
        got = Collector(sub)
        events = await record_many(database, account.id, 7)
        # Two relays of one process share its outbox (one drains at a time).
        outbox = Outbox()
        first = EventRelay(database, bus, outbox=outbox)
        second = EventRelay(database, bus, outbox=outbox)
        results = await asyncio.gather(
            first.drain_once(), second.drain_once(), first.drain_once(), second.drain_once()
        )
        assert not any(r.failed for r in results)
        assert sum(r.stored for r in results) >= 7
        await got.wait_for(7)
        await asyncio.sleep(0.3)  # anything more would be a duplicate
        await got.stop()
    ids = [e.id for e in events]
    assert await stored_ids(database, account.id) == ids
    assert got.ids == [str(i) for i in ids]
    assert got.bare[0] == {"type": "event", "event": events[0].model_dump(mode="json")}
    assert await outbox_count(database, account.id) == 0
    # Draining again finds nothing of this account to do.
    await first.drain_once()
    assert await stored_ids(database, account.id) == ids


async def test_order_kept_per_account_across_small_batches(
    database: Database, bus: EventBus
) -> None:
    one, two = await new_account(database), await new_account(database)
    async with bus.subscribe(one.id) as sub_one, bus.subscribe(two.id) as sub_two:
        got_one, got_two = Collector(sub_one), Collector(sub_two)
        recorded: dict[uuid.UUID, list[str]] = {one.id: [], two.id: []}
        for i in range(12):
            account = one if i % 3 else two
            recorded[account.id].append(str((await record(database, account.id, n=i)).id))
        relay = EventRelay(database, bus, batch_size=5)
        for _ in range(10):
            result = await relay.drain_once()
            if not result.more and not result.stored and not result.published:
                break
        await got_one.wait_for(len(recorded[one.id]))
        await got_two.wait_for(len(recorded[two.id]))
        await got_one.stop()
        await got_two.stop()
    assert got_one.ids == recorded[one.id]
    assert got_two.ids == recorded[two.id]
    assert [str(i) for i in await stored_ids(database, one.id)] == recorded[one.id]


async def test_bus_down_store_goes_on_and_backlog_follows_in_order(
    database: Database, bus: EventBus
) -> None:
    account = await new_account(database)
    flaky = FlakyBus(bus)
    relay = EventRelay(database, flaky)
    async with bus.subscribe(account.id) as sub:
        got = Collector(sub)
        flaky.down = True
        events = await record_many(database, account.id, 4)
        result = await relay.drain_once()
        assert result.publish_error is not None
        assert "down" in result.publish_error
        assert result.store_error is None
        # Stored already; waiting for the publish only, with the failure noted.
        assert await stored_ids(database, account.id) == [e.id for e in events]
        rows = await outbox_rows(database, account.id)
        assert [r.event_id for r in rows] == [e.id for e in events]
        assert all(r.stored_at is not None and r.published_at is None for r in rows)
        assert rows[0].attempts == 1
        assert "down" in (rows[0].last_error or "")
        assert got.messages == []

        # Back, but failing again after two: the rest waits, order kept, nothing twice.
        flaky.down = False
        flaky.fail_after = 2
        result = await relay.drain_once()
        assert result.published == 2
        assert result.publish_error is not None
        flaky.fail_after = None
        result = await relay.drain_once()
        assert result.published == 2
        assert not result.failed
        await got.wait_for(4)
        await asyncio.sleep(0.2)
        await got.stop()
    assert got.ids == [str(e.id) for e in events]
    assert await outbox_count(database, account.id) == 0
    assert await stored_ids(database, account.id) == [e.id for e in events]


async def test_relay_drains_what_was_waiting_on_start(database: Database, bus: EventBus) -> None:
    account = await new_account(database)
    async with bus.subscribe(account.id) as sub:
        got = Collector(sub)
        events = await record_many(database, account.id, 3)
        relay = EventRelay(database, bus, poll_interval=60)
        await relay.start()
        try:
            await got.wait_for(3)
        finally:
            await relay.stop()
            await got.stop()
    assert got.ids == [str(e.id) for e in events]
    assert await stored_ids(database, account.id) == [e.id for e in events]


async def test_commit_wakes_the_relay(database: Database, bus: EventBus) -> None:
    account = await new_account(database)
    # Polling every hour: only the after-commit wake-up can explain a delivery.
    relay = EventRelay(database, bus, poll_interval=3600)
    await relay.start()
    try:
        await eventually(_passes(relay, 1), what="the first pass (drain on start) done")
        woken = relay.wakeups
        units = UnitsOfWork(database, relay.outbox)
        event = await record(units, account.id, EventType.SHUFFLE, state=True)
        assert relay.wakeups == woken + 1  # by the commit itself

        async def stored() -> bool:
            return await stored_ids(database, account.id) == [event.id]

        await eventually(stored, within=30, what="event stored after the wake-up")
    finally:
        await relay.stop()


async def test_wake_ups_wait_for_the_delay_and_share_a_pass(
    database: Database, bus: EventBus
) -> None:
    """A commit asks for a pass ``wake_delay`` later, not at once: the commits meanwhile
    share it (here the delay outlasts the test; stopping runs the one pass)."""
    account = await new_account(database)
    relay = EventRelay(database, bus, poll_interval=3600, wake_delay=3600)
    started: list[int] = []
    drain = relay.drain_once

    async def counted_drain() -> DrainResult:
        started.append(relay.passes)
        return await drain()

    relay.drain_once = counted_drain  # type: ignore[method-assign]
    await relay.start()
    try:
        await eventually(_passes(relay, 1), what="the first pass (drain on start) done")
        started.clear()
        woken = relay.wakeups
        events = await record_many(UnitsOfWork(database, relay.outbox), account.id, 3)
        assert relay.wakeups == woken + 3
        for _ in range(20):
            await asyncio.sleep(0)  # the loop turns: a pass asked at once would start now
        assert started == []
        assert await stored_ids(database, account.id) == []
    finally:
        await relay.stop()
    assert len(started) == 1  # the stop's last pass carried the three
    assert await stored_ids(database, account.id) == [e.id for e in events]


def _passes(relay: EventRelay, count: int) -> Callable[[], Awaitable[bool]]:
    async def done() -> bool:
        return relay.passes >= count

    return done


async def test_polling_catches_a_missed_wake_up(database: Database, bus: EventBus) -> None:
    account = await new_account(database)
    relay = EventRelay(database, bus, poll_interval=0.05)
    await relay.start()
    relay.outbox.remove_waker(relay.wake)
    try:
        units = UnitsOfWork(database, relay.outbox)
        event = await record(units, account.id, EventType.REPEAT, mode="context")
        assert relay.wakeups == 0

        async def stored() -> bool:
            return await stored_ids(database, account.id) == [event.id]

        await eventually(stored, within=30, what="event stored by polling")
    finally:
        await relay.stop()
    assert not relay.running


async def test_background_relay_retries_with_backoff(database: Database, bus: EventBus) -> None:
    account = await new_account(database)
    flaky = FlakyBus(bus)
    flaky.down = True
    relay = EventRelay(database, flaky, poll_interval=0.05, min_backoff=0.05, max_backoff=0.4)
    async with bus.subscribe(account.id) as sub:
        got = Collector(sub)
        await relay.start()
        try:
            event = await record(database, account.id, EventType.SEEK, position_ms=5)

            async def failed_five_times() -> bool:
                return relay.failures >= 5

            await eventually(failed_five_times, within=30, what="five failed passes")
            # One publish attempt per failed pass (plus the pass in hand), not a busy loop,
            # and the delay between them grew to the cap (0.4 s, jitter at most halving it).
            assert relay.failures <= flaky.attempts <= relay.failures + 1
            assert 0.2 <= relay.retry_delay <= 0.4
            assert got.messages == []
            flaky.down = False
            await got.wait_for(1, within=30)
        finally:
            await relay.stop()
            await got.stop()
    assert relay.retry_delay == 0.0
    assert got.ids == [str(event.id)]
    assert EventOut.model_validate(got.messages[0]["event"]) == event


class CrashingRelay(EventRelay):
    """A relay whose passes raise (a bug, not a failed delivery) the first ``crashes`` times."""

    def __init__(self, *args: Any, crashes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.crashes = crashes

    async def drain_once(self) -> DrainResult:
        if self.crashes:
            self.crashes -= 1
            raise RuntimeError(f"relay bug, {self.crashes} more to come")
        return await super().drain_once()


async def test_a_crashed_relay_loop_is_restarted_and_logged(
    database: Database, bus: EventBus, caplog: pytest.LogCaptureFixture
) -> None:
    account = await new_account(database)
    relay = CrashingRelay(
        database,
        bus,
        crashes=3,
        poll_interval=0.05,
        restart_backoff=Backoff(initial=0.01, maximum=0.05),
    )
    async with bus.subscribe(account.id) as sub:
        got = Collector(sub)
        event = await record(database, account.id, EventType.PAUSE)
        with caplog.at_level(logging.WARNING, logger="tunedeck.events.relay"):
            await relay.start()
            try:
                await got.wait_for(1, within=30)
            finally:
                await relay.stop()
                await got.stop()
    assert relay.task.restarts == 3
    assert got.ids == [str(event.id)]
    crashes = [r for r in caplog.records if "crashed" in r.getMessage()]
    assert len(crashes) == 3
    assert "RuntimeError: relay bug, 0 more to come" in crashes[-1].getMessage()
    # The same failure (same line) logs its traceback once.
    assert [r.exc_info is not None for r in crashes] == [True, False, False]


async def test_publish_failing_mid_batch(database: Database, bus: EventBus) -> None:
    """A pass stores the batch in one go and deletes it once published; when the bus gives
    up midway, the rest is marked stored and published next, in order, each event stored
    once."""
    account = await new_account(database)
    flaky = FlakyBus(bus)
    relay = EventRelay(database, flaky)
    assert not (await relay.drain_once()).failed
    async with bus.subscribe(account.id) as sub:
        got = Collector(sub)
        events = await record_many(database, account.id, 5)
        flaky.fail_after = 2
        result = await relay.drain_once()
        assert (result.stored, result.published) == (5, 2)
        assert result.publish_error is not None
        assert relay.lag_seconds > 0  # three events left waiting
        rows = await outbox_rows(database, account.id)
        assert [r.event_id for r in rows] == [e.id for e in events[2:]]
        assert all(r.stored_at is not None and r.published_at is None for r in rows)
        assert rows[0].attempts == 1
        flaky.fail_after = None
        result = await relay.drain_once()
        assert (result.stored, result.published) == (0, 3)
        assert relay.lag_seconds == 0
        await got.wait_for(5)
        await asyncio.sleep(0.2)  # anything more would be a duplicate
        await got.stop()
    assert got.ids == [str(e.id) for e in events]
    assert await stored_ids(database, account.id) == [e.id for e in events]
    assert await outbox_count(database, account.id) == 0


async def test_a_pass_cut_short_after_storing_is_redone_once(
    database: Database, bus: EventBus
) -> None:
    """A relay that died after committing the store (before publishing and deleting) left
    its rows as they were: the next pass stores them again (a no-op) and publishes them."""
    account = await new_account(database)
    relay = EventRelay(database, bus)
    assert not (await relay.drain_once()).failed
    async with bus.subscribe(account.id) as sub:
        got = Collector(sub)
        events = await record_many(database, account.id, 3)
        async with database.session() as session:  # what the dead relay got done
            waiting = await repository.outbox_waiting_for_store(session, 1000)
            mine = [w for w in waiting if w.account_id == account.id]
            await repository.store_events(session, mine, utcnow())
        assert await stored_ids(database, account.id) == [e.id for e in events]
        result = await relay.drain_once()
        assert not result.failed
        await got.wait_for(3)
        await asyncio.sleep(0.2)  # anything more would be a duplicate
        await got.stop()
    assert got.ids == [str(e.id) for e in events]
    assert await stored_ids(database, account.id) == [e.id for e in events]
    assert await outbox_count(database, account.id) == 0
