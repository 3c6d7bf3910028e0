"""Events fixtures: every scenario on SQLite + in-process bus and on PostgreSQL + Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.accounts import conftest as accounts
from tests.events.actions import with_actions
from tests.kit import storage
from tests.support import app as app_fixtures
from tests.support import redis_server
from tests.support.app import app_settings
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.events.bus import EventBus, InProcessBus, RedisBus

database = storage.database
fresh_database_url = storage.fresh_database_url
keyring = storage.keyring
make_caller = accounts.make_caller
own_redis = redis_server.own_redis


@pytest.fixture(scope="session", params=storage.BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database per backend for the events tests alone.

    Other packages keep apps running on the shared one (with their relays), and any relay
    drains every account's outbox onto its own bus: here only the relays a test starts run.
    """
    yield from storage.private_database_url(request, tmp_path_factory, "events")


bus_url = app_fixtures.bus_url
client = app_fixtures.client


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
    return app_settings(database_url, tmp_path, redis_url=bus_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The real app (its own bus and relay running) plus the test action door."""
    app = with_actions(create_app(settings))
    async with app.router.lifespan_context(app):
        yield app
