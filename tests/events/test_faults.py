"""Faults: Redis down, the events table unavailable, the server killed right after answering.

Each stops only what it started: its own redis-server, its own database's table, its
own server process. A track that is down (the bus, the store) holds up neither the other
track nor, once a whole batch of its rows waits, the rows behind them.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from tests.events.actions import RECORD_PATH
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
from tests.kit import storage
from tests.support import accounts
from tests.support.redis_server import OwnRedis
from tests.support.server_process import ServerProcess, server_env
from tunedeck.events.bus import EventBus, InProcessBus, RedisBus
from tunedeck.events.relay import EventRelay
from tunedeck.kit.db import Database
from tunedeck.migrations.apply import upgrade_database

# The test server with the action door; the port follows.
EVENTS_SERVER = (sys.executable, "-m", "tests.events.server")
OFFLINE = "platform_events_offline"


@pytest.fixture
async def own_database(fresh_database_url: str) -> AsyncIterator[Database]:
    """A migrated database of this test alone: its events table may be taken away."""
    await upgrade_database(fresh_database_url)
    db = Database(fresh_database_url)
    yield db
    await db.dispose()


async def set_store_offline(db: Database, offline: bool) -> None:
    """Make ``platform_events`` unavailable (renamed away) or bring it back."""
    old, new = ("platform_events", OFFLINE) if offline else (OFFLINE, "platform_events")
    async with db.engine.begin() as conn:
        await conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


async def test_redis_down_during_actions(
    database: Database, own_redis: OwnRedis, caplog: pytest.LogCaptureFixture
) -> None:
    bus = RedisBus(own_redis.url, min_backoff=0.02, max_backoff=0.3, ready_timeout=0.2)
    await bus.start()
    relay = EventRelay(database, bus, poll_interval=0.05, min_backoff=0.05, max_backoff=0.3)
    account = await new_account(database)
    try:
        async with bus.subscribe(account.id) as sub:
            got = Collector(sub)
            await relay.start()
            before = await record_many(database, account.id, 3)
            await got.wait_for(3)
            assert bus.connected
            await eventually(_drained(relay), what="the outbox drained before the outage")

            with caplog.at_level(logging.DEBUG, logger="tunedeck.events"):
                own_redis.stop()
                await eventually(_disconnected(bus), what="the bus noticed Redis gone")
                # Actions keep working: each records and commits while Redis is away.
                during = await record_many(database, account.id, 5)
                ids = [e.id for e in before + during]

                async def stored_all() -> bool:
                    return await stored_ids(database, account.id) == ids

                await eventually(stored_all, what="backlog stored while Redis is down")
                # The relay keeps retrying (with backoff) and the outbox keeps the events.
                await eventually(_failed(relay, 6), within=30, what="six failed passes")
                assert await outbox_count(database, account.id) == 5
                assert await relay.backlog() >= 5  # every account's, as /metrics shows it
                later = await record_many(database, account.id, 2)
                await eventually(_failed(relay, relay.failures + 2), within=30, what="2 more")
                assert await outbox_count(database, account.id) == 7
                assert relay.lag_seconds > 0
                assert not bus.connected
            # No error storm: a streak of failed passes and reconnection attempts is a
            # few lines (the first failure, then every tenfold), not one per retry.
            assert relay.failures >= 8
            noisy = [r for r in caplog.records if r.levelno >= logging.WARNING]
            assert 1 <= len(noisy) <= 3, [r.getMessage() for r in noisy]
            waiting = await outbox_rows(database, account.id)
            assert [r.event_id for r in waiting] == [e.id for e in during + later]
            assert all(r.published_at is None and r.stored_at is not None for r in waiting)
            # The head of the line carries the failure; the rest wait behind it, in order.
            assert waiting[0].attempts >= 1
            assert "Redis" in (waiting[0].last_error or "")
            assert len(got.messages) == 3

            own_redis.start()  # same port, empty
            missed = during + later
            await got.wait_for(len(before + missed), within=15)
            await eventually(_drained(relay), what="the outbox drained")
            assert bus.connected
            assert bus.reconnects >= 1
            # The lag is the latest pass's: the pass that emptied the outbox may still
            # be finishing when the count above reads zero.
            await eventually(_no_lag(relay), what="the relay reports no lag")
            # A client resuming on the new server finds what it missed indexed there.
            history = await bus.history(account.id, since=(await bus.history(account.id)).floor)
            assert [e for _, e in history.events] == [e.id for e in missed]
            await asyncio.sleep(0.5)  # a duplicate would show up here
            await got.stop()
    finally:
        await relay.stop()
        await bus.close()
    assert got.ids == [str(e.id) for e in before + missed]
    assert await stored_ids(database, account.id) == [e.id for e in before + missed]
    assert await outbox_count(database, account.id) == 0


def _disconnected(bus: RedisBus) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return not bus.connected

    return check


def _failed(relay: EventRelay, passes: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return relay.failures >= passes

    return check


def _no_lag(relay: EventRelay) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return relay.lag_seconds == 0

    return check


def _drained(relay: EventRelay) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await relay.backlog() == 0

    return check


async def test_events_table_unavailable(own_database: Database, bus_url: str | None) -> None:
    db = own_database
    bus: EventBus = RedisBus(bus_url) if bus_url else InProcessBus()
    await bus.start()
    relay = EventRelay(db, bus, poll_interval=0.05, min_backoff=0.05, max_backoff=0.3)
    account = await new_account(db)
    try:
        async with bus.subscribe(account.id) as sub:
            got = Collector(sub)
            await relay.start()
            first = await record(db, account.id)
            await got.wait_for(1)
            await eventually(lambda: _stored(db, account.id, 1), what="first event stored")

            await set_store_offline(db, True)
            during = await record_many(db, account.id, 4)
            # Live clients still hear about them; the store part waits in the outbox.
            await got.wait_for(5)
            await asyncio.sleep(0.5)
            waiting = await outbox_rows(db, account.id)
            assert [r.event_id for r in waiting] == [e.id for e in during]
            assert all(r.stored_at is None and r.published_at is not None for r in waiting)
            assert all(r.attempts >= 1 for r in waiting)
            assert all("platform_events" in (r.last_error or "") for r in waiting)

            await set_store_offline(db, False)
            ids = [e.id for e in [first, *during]]

            async def stored_all() -> bool:
                return await stored_ids(db, account.id) == ids

            await eventually(stored_all, what="backlog stored once the table is back")
            await eventually(lambda: _outbox_empty(db, account.id), what="outbox drained")
            await asyncio.sleep(0.2)
            await got.stop()
    finally:
        await relay.stop()
        await bus.close()
    # Published once each, before and after the outage, in order.
    assert got.ids == [str(i) for i in ids]


async def _stored(db: Database, account_id: uuid.UUID, count: int) -> bool:
    return len(await stored_ids(db, account_id)) == count


async def _outbox_empty(db: Database, account_id: uuid.UUID) -> bool:
    return await outbox_count(db, account_id) == 0


async def test_the_store_goes_on_past_a_batch_the_bus_holds_up(
    own_database: Database, bus: EventBus
) -> None:
    db = own_database
    account = await new_account(db)
    flaky = FlakyBus(bus)
    flaky.down = True
    relay = EventRelay(db, flaky, batch_size=3)
    async with bus.subscribe(account.id) as sub:
        got = Collector(sub)
        events = await record_many(db, account.id, 7)
        # The oldest three wait for the bus; the store takes the next ones meanwhile.
        down = [await relay.drain_once() for _ in range(3)]
        assert [r.stored for r in down] == [3, 3, 1]
        assert all(r.publish_error is not None and r.store_error is None for r in down)
        assert await stored_ids(db, account.id) == [e.id for e in events]
        assert got.messages == []
        flaky.down = False
        up = [await relay.drain_once() for _ in range(3)]
        assert [(r.stored, r.published) for r in up] == [(0, 3), (0, 3), (0, 1)]
        await got.wait_for(7)
        await asyncio.sleep(0.2)  # anything more would be a duplicate
        await got.stop()
    assert got.ids == [str(e.id) for e in events]
    assert await stored_ids(db, account.id) == [e.id for e in events]
    assert await outbox_count(db, account.id) == 0


async def test_live_delivery_goes_on_past_a_batch_the_store_holds_up(
    own_database: Database, bus: EventBus
) -> None:
    db = own_database
    account = await new_account(db)
    relay = EventRelay(db, bus, batch_size=3)
    async with bus.subscribe(account.id) as sub:
        got = Collector(sub)
        events = await record_many(db, account.id, 7)
        await set_store_offline(db, True)
        # The oldest three wait for the store; the bus takes the next ones meanwhile.
        down = [await relay.drain_once() for _ in range(3)]
        assert [r.published for r in down] == [3, 3, 1]
        assert all(r.store_error is not None and r.publish_error is None for r in down)
        await got.wait_for(7)
        assert got.ids == [str(e.id) for e in events]
        waiting = await outbox_rows(db, account.id)
        assert all(r.stored_at is None and r.published_at is not None for r in waiting)
        await set_store_offline(db, False)
        up = [await relay.drain_once() for _ in range(3)]
        assert [(r.stored, r.published) for r in up] == [(3, 0), (3, 0), (1, 0)]
        await asyncio.sleep(0.2)  # anything more would be a duplicate
        await got.stop()
    assert got.ids == [str(e.id) for e in events]
    assert await stored_ids(db, account.id) == [e.id for e in events]
    assert await outbox_count(db, account.id) == 0


@pytest.mark.slow
@pytest.mark.parametrize("store_offline", [False, True], ids=["store-up", "store-offline"])
async def test_killed_right_after_answering(
    own_database: Database,
    fresh_database_url: str,
    bus_url: str | None,
    tmp_path: Path,
    store_offline: bool,
) -> None:
    db = own_database
    account = await accounts.create_account(db, storage.unique())
    key = await accounts.create_key(db, account, "kill test", ["spotify:playback"])
    # The sources of this checkout (not an installed copy), the settings of this test.
    env = server_env(
        database_url=fresh_database_url,
        encryption_keys=storage.TEST_KEYRING.serialize(),
        data_dir=str(tmp_path),
    )
    if bus_url:
        env["TUNEDECK_REDIS_URL"] = bus_url
    if store_offline:
        # The relay cannot have stored anything before the kill: only a restart can.
        await set_store_offline(db, True)
    server = ServerProcess(env, EVENTS_SERVER)
    server.start()
    answered: list[uuid.UUID] = []
    try:
        headers = {"Authorization": f"Bearer {key.key}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers) as client:
            for event_type in ("spotify:play", "spotify:volume", "spotify:pause"):
                r = await client.post(RECORD_PATH, json={"type": event_type})
                assert r.status_code == 200, r.text
                answered.append(uuid.UUID(r.json()["id"]))
        server.kill9()  # right after the last answer

        # Committed before the answer: each event is in the outbox or already stored.
        in_outbox = [r.event_id for r in await outbox_rows(db, account.id)]
        if store_offline:
            assert in_outbox == answered
            await set_store_offline(db, False)
            assert await stored_ids(db, account.id) == []
        else:
            stored = await stored_ids(db, account.id)
            assert sorted(set(in_outbox) | set(stored)) == sorted(answered)

        server.start()

        async def all_stored() -> bool:
            return await stored_ids(db, account.id) == answered

        await eventually(all_stored, within=15, what="events stored after the restart")
        await eventually(lambda: _outbox_empty(db, account.id), within=15, what="outbox drained")
    finally:
        server.stop()
    assert await stored_ids(db, account.id) == answered
