"""Player fixtures: the simulator over loopback, TuneDeck on each backend (SQLite with the
in-process bus, PostgreSQL with Redis), accounts connected to the simulator's users."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.accounts import conftest as accounts_fixtures
from tests.accounts.conftest import Caller, MakeCaller
from tests.kit import storage
from tests.simulator.conftest import Sim, start
from tunedeck.accounts.permissions import GRANTABLE
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.connections import repository as connections
from tunedeck.kit.db import Database, utcnow
from tunedeck.simulator.defaults import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

database_url = storage.database_url
database = storage.database
keyring = storage.keyring
make_caller = accounts_fixtures.make_caller

ALL = [p.value for p in GRANTABLE]


@pytest.fixture(scope="session")
def sim_server() -> Iterator[Sim]:
    yield from start()


@pytest.fixture
def sim(sim_server: Sim) -> Sim:
    """The shared simulator, reset: initial players, no tokens, zero counters."""
    sim_server.reset()
    return sim_server


@pytest.fixture
def bus_url(database_url: str, request: pytest.FixtureRequest) -> str | None:
    """Redis alongside PostgreSQL, the in-process bus (no URL) alongside SQLite."""
    if database_url.startswith("postgres"):
        return str(request.getfixturevalue("redis_url"))
    return None


def player_settings(
    database_url: str, bus_url: str | None, sim: Sim, data_dir: Path, **overrides: Any
) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=bus_url,
        encryption_keys=storage.TEST_KEYRING.serialize(),
        data_dir=data_dir,
        spotify_api_url=f"{sim.base}/v1",
        spotify_accounts_url=sim.base,
        **overrides,
    )


@pytest.fixture
def make_app(
    database_url: str, bus_url: str | None, sim: Sim, tmp_path: Path
) -> Callable[..., Any]:
    """``async with make_app(**setting_overrides) as client``: the app running in this
    loop (lifespan, relay, bus) and an HTTP client to it."""

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        settings = player_settings(database_url, bus_url, sim, tmp_path, **overrides)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver", timeout=30
            ) as client:
                yield client

    return make


@pytest.fixture
async def client(make_app: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with make_app() as client:
        yield client


async def connect_account(
    database: Database, sim: Sim, account_id: uuid.UUID, user: str = "demo"
) -> None:
    """Store app credentials and a connection with a token the simulator minted for ``user``."""
    minted = sim.mint(user, client_id=DEMO_CLIENT_ID)
    async with database.session() as session:
        await connections.save_app_credentials(
            session, storage.TEST_KEYRING, account_id, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
        )
        await connections.save_connection(
            session,
            storage.TEST_KEYRING,
            account_id,
            access_token=minted["access_token"],
            refresh_token=minted["refresh_token"],
            expires_at=utcnow() + timedelta(seconds=int(minted["expires_in"])),
            scopes=minted["scope"],
            spotify_user_id=user,
        )


@dataclass
class Streamer:
    """An account connected to a simulator user, with a key holding every permission."""

    caller: Caller
    user: str

    @property
    def account_id(self) -> uuid.UUID:
        return self.caller.account.id

    @property
    def headers(self) -> dict[str, str]:
        return self.caller.headers


MakeStreamer = Callable[..., Awaitable[Streamer]]


@pytest.fixture
def make_streamer(database: Database, sim: Sim, make_caller: MakeCaller) -> MakeStreamer:
    async def make(user: str = "demo", *, connected: bool = True) -> Streamer:
        caller = await make_caller(*ALL)
        if connected:
            await connect_account(database, sim, caller.account.id, user)
        return Streamer(caller, user)

    return make


@pytest.fixture
async def streamer(make_streamer: MakeStreamer) -> Streamer:
    """The premium ``demo`` user's streamer."""
    return await make_streamer()
