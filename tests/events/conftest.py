"""Events fixtures: every scenario on SQLite + in-process bus and on PostgreSQL + Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.accounts import conftest as accounts
from tests.events.actions import with_actions
from tests.kit import storage
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.events.bus import EventBus, InProcessBus, RedisBus

database_url = storage.database_url
database = storage.database
fresh_database_url = storage.fresh_database_url
keyring = storage.keyring
make_caller = accounts.make_caller


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
