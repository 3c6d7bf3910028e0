"""Events fixtures: every scenario on SQLite + in-process bus and on PostgreSQL + Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.accounts import conftest as accounts
from tests.events.actions import with_actions
from tests.kit import storage
from tests.support import services
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.events.bus import EventBus, InProcessBus, RedisBus
from tunedeck.kit.migrate import upgrade_database

database = storage.database
fresh_database_url = storage.fresh_database_url
keyring = storage.keyring
make_caller = accounts.make_caller


@pytest.fixture(scope="session", params=storage.BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database per backend for the events tests alone.

    Other packages keep apps running on the shared one (with their relays), and any relay
    drains every account's outbox onto its own bus: here only the relays a test starts run.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('events') / 'events.db'}"
        asyncio.run(upgrade_database(url))
        yield url
        return
    request.getfixturevalue("postgres_url")  # the shared fixture decides skip / fail
    url = services.create_database()
    try:
        asyncio.run(upgrade_database(url))
        yield url
    finally:
        services.drop_database(url)


def is_postgres(url: str) -> bool:
    return url.startswith("postgres")


@pytest.fixture
def bus_url(database_url: str, request: pytest.FixtureRequest) -> str | None:
    """The shared Redis alongside PostgreSQL; no Redis (in-process bus) alongside SQLite."""
    return str(request.getfixturevalue("redis_url")) if is_postgres(database_url) else None


@pytest.fixture
async def bus(bus_url: str | None) -> AsyncIterator[EventBus]:
    bus: EventBus = RedisBus(bus_url) if bus_url else InProcessBus()
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()


@pytest.fixture
def settings(database_url: str, bus_url: str | None, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=bus_url,
        encryption_keys=storage.TEST_KEYRING.serialize(),
        data_dir=tmp_path,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The real app (its own bus and relay running) plus the test action door."""
    app = with_actions(create_app(settings))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
