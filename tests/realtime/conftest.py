"""Real-time fixtures: a database per backend of the package's own (SQLite with the
in-process bus, PostgreSQL with Redis), the Spotify simulator over loopback, accounts
connected to it.

The database is the package's alone: what makes an account watched here (heartbeats,
manual-connect windows) must not set the pollers of other packages' apps polling, and
theirs must not set ours.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.kit import storage
from tests.support import app as app_fixtures
from tests.support import services, simulator
from tests.support.app import app_settings
from tests.support.connections import save_minted
from tests.support.simulator import Sim
from tunedeck.accounts import service as accounts
from tunedeck.config import Settings
from tunedeck.events.bus import EventBus, InProcessBus, RedisBus
from tunedeck.kit.db import Database
from tunedeck.kit.migrate import upgrade_database
from tunedeck.simulator.defaults import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

keyring = storage.keyring
sim_server = simulator.sim_server
sim = simulator.sim
bus_url = app_fixtures.bus_url


@pytest.fixture(scope="session", params=storage.BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database per backend for the real-time tests alone."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('realtime') / 'realtime.db'}"
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


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


@pytest.fixture
async def bus(bus_url: str | None) -> AsyncIterator[EventBus]:
    """The backend's bus (Redis beside PostgreSQL, in-process beside SQLite), started."""
    bus: EventBus = RedisBus(bus_url) if bus_url else InProcessBus()
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()


def realtime_settings(
    database_url: str, bus_url: str | None, data_dir: Path, sim: Sim | None = None, **fields: Any
) -> Settings:
    """Settings on the package's database and bus, Spotify being ``sim`` if given."""
    return app_settings(database_url, data_dir, sim=sim, redis_url=bus_url, **fields)


@pytest.fixture
def settings(database_url: str, bus_url: str | None, tmp_path: Path, sim: Sim) -> Settings:
    return realtime_settings(database_url, bus_url, tmp_path, sim)


async def new_account(database: Database) -> uuid.UUID:
    async with database.session() as session:
        account = await accounts.create_account(session, storage.unique())
    return account.id


async def connect(
    database: Database,
    sim: Sim,
    account_id: uuid.UUID,
    user: str = "demo",
    *,
    client_id: str = DEMO_CLIENT_ID,
    client_secret: str = DEMO_CLIENT_SECRET,
) -> dict[str, Any]:
    """Connect the account to the simulator's ``user`` through ``client_id``'s app; the
    tokens minted for it."""
    minted = sim.mint(user, client_id=client_id)
    await save_minted(
        database,
        account_id,
        minted,
        client_id=client_id,
        client_secret=client_secret,
        expires_in=int(minted["expires_in"]),
        spotify_user_id=user,
    )
    return minted
