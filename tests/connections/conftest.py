"""Connections fixtures: storage on both backends, a simulator and the app served over
loopback HTTP, admin callers, and helpers to connect an account with known tokens."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.accounts import conftest as accounts_fixtures
from tests.accounts.conftest import Caller, MakeCaller
from tests.kit import storage
from tests.support import simulator
from tests.support.app import app_settings
from tests.support.connections import save_minted
from tests.support.servers import free_port, serve_in_thread
from tests.support.simulator import Sim
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.connections import repository as repo
from tunedeck.connections.token_manager import TokenManager
from tunedeck.kit.db import Database
from tunedeck.simulator.config import AppConfig, SimulatorConfig
from tunedeck.simulator.defaults import LOOPBACK_REDIRECT_URIS

database_url = storage.database_url
database = storage.database
keyring = storage.keyring
make_caller = accounts_fixtures.make_caller

# An app of our own in the simulator, with random credentials, so that a database dump
# can be searched for them without matching anything else.
APP_ID = "app-" + secrets.token_hex(8)
APP_SECRET = "secret-" + secrets.token_urlsafe(24)
ADMIN = "admin"


@pytest.fixture(scope="session")
def sim_server() -> Iterator[Sim]:
    """The simulator with our own app in it; ``mint`` asks tokens for that app."""
    app = AppConfig(
        client_id=APP_ID, client_secret=APP_SECRET, redirect_uris=list(LOOPBACK_REDIRECT_URIS)
    )
    config = SimulatorConfig(apps=[app])
    yield from simulator.start(config, client_id=APP_ID)


sim = simulator.sim


def settings_for(database_url: str, sim: Sim, data_dir: Path, public_url: str) -> Settings:
    return app_settings(database_url, data_dir, sim=sim, public_url=public_url)


@dataclass
class Served:
    """TuneDeck served over loopback, its public URL pointing at itself."""

    base: str
    app: FastAPI
    settings: Settings

    def client(
        self, caller: Caller | None = None, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.AsyncClient:
        sent = {**(caller.headers if caller else {}), **(headers or {})}
        return httpx.AsyncClient(base_url=self.base, headers=sent, timeout=20, **kwargs)


# Module scope: the app's background pieces (the event relay) must not outlive these tests
# and race other packages' tests on the shared database.
@pytest.fixture(scope="module")
def served(
    database_url: str, sim_server: Sim, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = settings_for(database_url, sim_server, tmp_path_factory.mktemp("data"), base)
    app = create_app(settings)
    with serve_in_thread(app, port=port):
        yield Served(base, app, settings)


@pytest.fixture
async def manager(database: Database, sim: Sim, tmp_path: Path) -> AsyncIterator[TokenManager]:
    """A token manager in the test's event loop, on the backend under test."""
    settings = settings_for(database.url, sim, tmp_path, "http://127.0.0.1:8000")
    async with httpx.AsyncClient(timeout=20) as http:
        yield TokenManager(database, storage.TEST_KEYRING, http, settings)


@dataclass
class Connected:
    """An account connected with tokens minted by the simulator (so the test knows them)."""

    account_id: uuid.UUID
    access_token: str
    refresh_token: str


Connect = Callable[..., Awaitable[Connected]]


@pytest.fixture
def connect(database: Database, sim: Sim, make_caller: MakeCaller) -> Connect:
    async def make(
        *, expires_in: int = 3600, pkce: bool = False, account_id: uuid.UUID | None = None
    ) -> Connected:
        if account_id is None:
            account_id = (await make_caller(ADMIN)).account.id
        minted = sim.mint(pkce=pkce, expires_in=expires_in)
        await save_minted(
            database,
            account_id,
            minted,
            client_id=APP_ID,
            client_secret=APP_SECRET,
            expires_in=expires_in,
            spotify_user_id="demo",
        )
        return Connected(account_id, minted["access_token"], minted["refresh_token"])

    return make


async def stored(database: Database, account_id: uuid.UUID) -> repo.StoredConnection | None:
    async with database.session() as session:
        return await repo.connection(session, storage.TEST_KEYRING, account_id)
