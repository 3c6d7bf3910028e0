"""Where events are kept: monthly partitions on PostgreSQL, the hypertable path, SQLite."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import alembic.util
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from tests.events.support import ACTOR, new_account
from tests.support import services
from tunedeck.events import partitions, repository, timescale
from tunedeck.events.bus import InProcessBus
from tunedeck.events.models import OutboxEvent
from tunedeck.events.relay import EventRelay
from tunedeck.events.schemas import EventOut
from tunedeck.events.types import EventType
from tunedeck.kit.db import Database, utcnow
from tunedeck.migrations.apply import upgrade_database

EVENTS_REVISION = "0002_events.py"


@pytest.fixture
def own_postgres_url(postgres_url: str) -> Iterator[str]:
    """An empty PostgreSQL database of this test alone (the shared one stays as it is)."""
    url = services.create_database()
    try:
        yield url
    finally:
        services.drop_database(url)


@pytest.fixture
async def own_postgres(own_postgres_url: str) -> AsyncIterator[Database]:
    await upgrade_database(own_postgres_url)
    db = Database(own_postgres_url)
    yield db
    await db.dispose()


async def partition_names(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT inhrelid::regclass::text FROM pg_inherits "
                "WHERE inhparent = 'platform_events'::regclass"
            )
        )
        return {row[0] for row in rows}


def month_partitions(now: datetime, months: int) -> set[str]:
    return {
        f"event_partitions.{partitions.partition_name(start)}"
        for start, _ in partitions.month_ranges(now, months)
    }


async def store_at(db: Database, moment: datetime) -> EventOut:
    account = await new_account(db)
    event = EventOut(
        id=uuid.uuid4(),
        account_id=account.id,
        type=EventType.PLAY,
        occurred_at=moment,
        actor=ACTOR,
        params={},
        track=None,
    )
    row = OutboxEvent(
        event_id=event.id,
        account_id=account.id,
        occurred_at=moment,
        payload=event.model_dump(mode="json"),
    )
    async with db.session() as session:
        await repository.store_events(session, [row], utcnow())
    return event


async def partition_of(db: Database, event: EventOut) -> str:
    async with db.engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT tableoid::regclass::text FROM platform_events WHERE id = :id"),
            {"id": event.id},
        )
        return str(found)


async def test_postgres_table_is_partitioned_by_month(own_postgres: Database) -> None:
    db = own_postgres
    async with db.engine.connect() as conn:
        strategy, key = (
            await conn.execute(
                text(
                    "SELECT p.partstrat::text, a.attname FROM pg_partitioned_table p "
                    "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
                    "WHERE p.partrelid = 'platform_events'::regclass"
                )
            )
        ).one()
        assert (strategy, key) == ("r", "occurred_at")
        assert (
            await conn.scalar(
                text("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'")
            )
            == 0
        )
    now = utcnow()
    assert await partition_names(db) == month_partitions(now, 2) | {
        "event_partitions.platform_events_default"
    }
    event = await store_at(db, now)
    assert await partition_of(db, event) == (
        f"event_partitions.{partitions.partition_name(partitions.month_start(now))}"
    )
    # Outside every prepared month: the default partition takes it rather than failing.
    far = await store_at(db, now + timedelta(days=5 * 366))
    assert await partition_of(db, far) == "event_partitions.platform_events_default"


async def test_maintenance_creates_the_months_ahead_once(own_postgres: Database) -> None:
    later = utcnow() + timedelta(days=95)
    created = await partitions.ensure_partitions(own_postgres, now=later)
    assert {f"event_partitions.{n}" for n in created} == month_partitions(later, 2)
    assert await partitions.ensure_partitions(own_postgres, now=later) == []
    assert month_partitions(later, 2) <= await partition_names(own_postgres)
    event = await store_at(own_postgres, later)
    assert await partition_of(own_postgres, event) == (
        f"event_partitions.{partitions.partition_name(partitions.month_start(later))}"
    )


async def test_relay_makes_sure_partitions_exist(own_postgres: Database) -> None:
    name = partitions.partition_name(partitions.next_month(partitions.month_start(utcnow())))
    async with own_postgres.engine.begin() as conn:
        await conn.execute(text(f'DROP TABLE "event_partitions"."{name}"'))
    assert f"event_partitions.{name}" not in await partition_names(own_postgres)
    relay = EventRelay(own_postgres, InProcessBus(), poll_interval=60)
    await relay.start()
    try:
        for _ in range(100):
            if f"event_partitions.{name}" in await partition_names(own_postgres):
                break
            await asyncio.sleep(0.05)
    finally:
        await relay.stop()
    assert f"event_partitions.{name}" in await partition_names(own_postgres)


def test_month_ranges_cross_the_year() -> None:
    ranges = partitions.month_ranges(datetime(2026, 12, 31, 23, 59, tzinfo=UTC), 3)
    assert ranges == [
        (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)),
        (datetime(2027, 2, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC)),
    ]
    assert partitions.partition_name(ranges[1][0]) == "platform_events_2027_01"


def patch_revision(
    monkeypatch: pytest.MonkeyPatch, filename: str, **replace: Callable[[Any], Any]
) -> None:
    """Wrap functions of one Alembic revision as Alembic loads it: revision files are
    executed from their path at each run, never imported, so they cannot be patched
    beforehand. ``replace`` maps a function name to a wrapper factory (given the real one)."""
    load = alembic.util.load_python_file

    def loading(directory: str, name: str) -> Any:
        module = load(directory, name)
        if name == filename:
            for attribute, wrap in replace.items():
                setattr(module, attribute, wrap(getattr(module, attribute)))
        return module

    monkeypatch.setattr(alembic.util, "load_python_file", loading)


async def test_timescale_is_attempted_and_falls_back(
    own_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes: list[bool] = []

    def spy(real: Callable[[Connection], bool]) -> Callable[[Connection], bool]:
        def enable(conn: Connection) -> bool:
            outcomes.append(real(conn))
            return outcomes[-1]

        return enable

    patch_revision(monkeypatch, EVENTS_REVISION, _enable_timescale=spy)
    await upgrade_database(own_postgres_url)
    # Tried once, not available here, and the failed attempt did not spoil the migration.
    assert outcomes == [False]
    db = Database(own_postgres_url)
    try:
        async with db.engine.connect() as conn:
            assert await conn.run_sync(partitions.is_partitioned)
    finally:
        await db.dispose()


async def test_hypertable_branch_when_the_extension_exists(
    own_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    patch_revision(
        monkeypatch,
        EVENTS_REVISION,
        _enable_timescale=lambda real: lambda conn: True,
        _create_hypertable=lambda real: calls.append,
    )
    await upgrade_database(own_postgres_url)
    assert len(calls) == 1
    db = Database(own_postgres_url)
    try:
        # A plain table for create_hypertable to convert, and no partitions to maintain.
        async with db.engine.connect() as conn:
            assert not await conn.run_sync(partitions.is_partitioned)
        assert await partitions.ensure_partitions(db) == []
        assert await partition_names(db) == set()
    finally:
        await db.dispose()


async def test_sqlite_keeps_a_plain_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    await upgrade_database(url)
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            assert not await conn.run_sync(partitions.is_partitioned)
            assert not await conn.run_sync(timescale.enable_extension)
            sql = await conn.scalar(
                text("SELECT sql FROM sqlite_master WHERE name = 'platform_events'")
            )
        assert "PRIMARY KEY (id, occurred_at)" in str(sql)
        assert await partitions.ensure_partitions(db) == []
        event = await store_at(db, utcnow())
        again = OutboxEvent(
            event_id=event.id,
            account_id=event.account_id,
            occurred_at=event.occurred_at,
            payload=event.model_dump(mode="json"),
        )
        async with db.session() as session:  # a redelivery is a no-op
            await repository.store_events(session, [again], utcnow())
        async with db.engine.connect() as conn:
            count = await conn.scalar(text("SELECT count(*) FROM platform_events"))
        assert count == 1
    finally:
        await db.dispose()
