"""The watched registry (realtime/watch.py) on SQLite and PostgreSQL: local client counts
become heartbeats every process reads, an account lingers after its last client, a
manual-connect window or an open stream makes an account watched with no client,
housekeeping."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from tests.realtime.conftest import new_account, realtime_settings
from tests.realtime.support import eventually
from tunedeck.config import Settings
from tunedeck.history import repository as history_repository
from tunedeck.history.models import Stream
from tunedeck.kit.db import Database, utcnow
from tunedeck.player import repository as player_repository
from tunedeck.realtime.models import RealtimeWatcher
from tunedeck.realtime.watch import WatchRegistry


def registry(
    database: Database, database_url: str, tmp_path: Path, name: str, **fields: float
) -> WatchRegistry:
    settings: Settings = realtime_settings(database_url, None, tmp_path, None, **fields)
    return WatchRegistry(database, settings, f"{name}-{uuid.uuid4().hex[:8]}")


async def rows(database: Database, account_id: uuid.UUID) -> dict[str, object]:
    async with database.session() as session:
        found = await session.scalars(
            select(RealtimeWatcher).where(RealtimeWatcher.account_id == account_id)
        )
        return {row.process_id: row.expires_at for row in found}


async def eventually_unwatched(other: WatchRegistry, account_id: uuid.UUID) -> None:
    async def unwatched() -> bool:
        return account_id not in await other.watched()

    await eventually(unwatched, what="the account no longer watched")


async def test_clients_counted_and_seen_by_another_process(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    here = registry(database, database_url, tmp_path, "here")
    there = registry(database, database_url, tmp_path, "there")
    account = await new_account(database)

    here.connected(account)
    here.connected(account)
    assert here.clients(account) == 2
    assert here.changed.is_set()  # the poller of this process is woken
    # This process knows at once, before any heartbeat is written...
    assert account in await here.watched()
    assert account not in await there.watched()
    # ...every other process once it is.
    await here.beat()
    assert account in await there.watched()
    expires = (await rows(database, account))[here.process_id]
    assert isinstance(expires, type(utcnow()))
    assert expires > utcnow() + timedelta(seconds=50)  # now + the 60 s linger

    here.disconnected(account)
    assert here.clients(account) == 1
    here.disconnected(account)
    assert here.clients(account) == 0
    here.disconnected(account)  # one too many: logged, not counted below zero
    assert here.clients(account) == 0
    # Lingering, here and there.
    await here.beat()
    assert account in await here.watched()
    assert account in await there.watched()


async def test_an_account_lingers_then_is_no_longer_watched(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    here = registry(database, database_url, tmp_path, "here", watch_linger_seconds=0.5)
    there = registry(database, database_url, tmp_path, "there")
    account = await new_account(database)
    here.connected(account)
    await here.beat()
    assert account in await there.watched()
    here.disconnected(account)
    await here.beat()
    # The row ends the linger after the client left; nobody renews it.
    await eventually_unwatched(there, account)
    await eventually_unwatched(here, account)


async def test_the_loop_writes_heartbeats_at_once_and_stops_cleanly(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    here = registry(database, database_url, tmp_path, "here", watch_heartbeat_seconds=30)
    there = registry(database, database_url, tmp_path, "there")
    account = await new_account(database)
    await here.start()
    try:
        beats = here.beats
        here.connected(account)  # wakes the loop: no 30 s wait for the heartbeat

        async def seen_there() -> bool:
            return account in await there.watched()

        await eventually(seen_there, what="the heartbeat written")
        assert here.beats > beats
    finally:
        await here.stop()
    assert not here.task.running
    # Stopping with a client still connected starts its linger: still watched elsewhere.
    assert account in await there.watched()


async def test_a_manual_connect_window_makes_an_account_watched(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    here = registry(database, database_url, tmp_path, "here")
    account = await new_account(database)
    now = utcnow()
    async with database.session() as session:
        await player_repository.open_manual_window(
            session,
            account,
            started_at=now,
            expires_at=now + timedelta(seconds=0.5),
            started_by="test",
        )
    assert account in await here.watched()
    await eventually_unwatched(here, account)


async def test_an_open_stream_makes_an_account_watched_until_it_stops(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    here = registry(database, database_url, tmp_path, "here")
    account, other = await new_account(database), await new_account(database)
    assert account not in await here.watched()
    stream = Stream(account_id=account, started_by="test")
    async with database.session() as session:
        await history_repository.add_stream(session, stream)
    watched = await here.watched()
    assert account in watched
    assert other not in watched
    async with database.session() as session:
        row = await history_repository.open_stream(session, account)
        assert row is not None
        await history_repository.stop_stream(session, row, utcnow(), "test")
    assert account not in await here.watched()


async def test_with_the_history_off_a_stream_makes_no_account_watched(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    """Nothing would record its songs nor close it when idle: it polls nothing."""
    settings = realtime_settings(database_url, None, tmp_path, None, history_enabled=False)
    here = WatchRegistry(database, settings, f"here-{uuid.uuid4().hex[:8]}")
    account = await new_account(database)
    async with database.session() as session:
        await history_repository.add_stream(session, Stream(account_id=account, started_by="t"))
    assert account not in await here.watched()
    assert account in await registry(database, database_url, tmp_path, "on").watched()
    async with database.session() as session:
        row = await history_repository.open_stream(session, account)
        assert row is not None
        await history_repository.stop_stream(session, row, utcnow(), "test")


async def test_housekeeping_deletes_expired_heartbeats(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    gone = registry(database, database_url, tmp_path, "gone", watch_linger_seconds=0.2)
    account = await new_account(database)
    gone.connected(account)
    gone.disconnected(account)
    await gone.beat()
    assert gone.process_id in await rows(database, account)
    await eventually_unwatched(gone, account)

    keeper = registry(database, database_url, tmp_path, "keeper")
    await keeper.start()
    try:

        async def deleted() -> bool:
            return gone.process_id not in await rows(database, account)

        await eventually(deleted, what="the expired heartbeat deleted")
    finally:
        await keeper.stop()
    assert keeper.expired_deleted >= 1
    async with database.session() as session:
        live = await session.scalar(
            select(func.count())
            .select_from(RealtimeWatcher)
            .where(RealtimeWatcher.process_id == gone.process_id)
        )
    assert live == 0
