"""Player fixtures: the simulator over loopback, TuneDeck on each backend (SQLite with the
in-process bus, PostgreSQL with Redis), accounts connected to the simulator's users."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.accounts import conftest as accounts_fixtures
from tests.accounts.conftest import Caller, MakeCaller
from tests.kit import storage
from tests.support import app as app_fixtures
from tests.support import simulator
from tests.support.app import app_settings, asgi_client
from tests.support.connections import save_minted
from tests.support.simulator import Sim
from tunedeck.accounts.permissions import GRANTABLE
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.kit.db import Database
from tunedeck.simulator.defaults import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

database_url = storage.database_url
database = storage.database
keyring = storage.keyring
make_caller = accounts_fixtures.make_caller

ALL = [p.value for p in GRANTABLE]

sim_server = simulator.sim_server
sim = simulator.sim
bus_url = app_fixtures.bus_url


def player_settings(
    database_url: str, bus_url: str | None, sim: Sim, data_dir: Path, **overrides: Any
) -> Settings:
    return app_settings(database_url, data_dir, sim=sim, redis_url=bus_url, **overrides)


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
        async with app.router.lifespan_context(app), asgi_client(app, timeout=30) as client:
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
    await save_minted(
        database,
        account_id,
        minted,
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        expires_in=int(minted["expires_in"]),
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


@pytest.fixture(params=["rest", "graphql"])
def door_name(request: pytest.FixtureRequest) -> str:
    """Each door of the player in turn (see ``tests.player.doors``)."""
    return str(request.param)


@pytest.fixture
async def streamer(make_streamer: MakeStreamer) -> Streamer:
    """The premium ``demo`` user's streamer."""
    return await make_streamer()
