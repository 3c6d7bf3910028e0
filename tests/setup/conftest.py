"""Setup fixtures: a fresh database per test (the setup link exists only while no
account does), TuneDeck served on it over loopback, and a simulator standing in for
Spotify, where each test creates the streamer's app as on Spotify's dashboard."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.kit import storage
from tests.support import simulator
from tests.support.app import app_settings
from tests.support.servers import free_port, serve_in_thread
from tests.support.simulator import Sim
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.kit.db import Database
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.migrations.apply import upgrade_database
from tunedeck.simulator.config import SimulatorConfig

database_url = storage.database_url
fresh_database_url = storage.fresh_database_url


@pytest.fixture(scope="session")
def sim_server() -> Iterator[Sim]:
    yield from simulator.start(SimulatorConfig())


sim = simulator.sim


@dataclass
class FreshServer:
    """TuneDeck on an empty, migrated database, its public URL pointing at itself."""

    base: str
    settings: Settings
    units: UnitsOfWork

    def client(self, **kwargs: object) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base, timeout=20, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def fresh(fresh_database_url: str, sim: Sim, tmp_path: Path) -> AsyncIterator[FreshServer]:
    await upgrade_database(fresh_database_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = app_settings(fresh_database_url, tmp_path, sim=sim, public_url=base)
    db = Database(fresh_database_url)
    try:
        with serve_in_thread(create_app(settings), port=port):
            yield FreshServer(base, settings, UnitsOfWork(db))
    finally:
        await db.dispose()
