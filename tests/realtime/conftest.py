"""Real-time fixtures: a database per backend of the package's own (SQLite with the
in-process bus, PostgreSQL with Redis), the Spotify simulator over loopback behind a
recorder of its Web API requests, accounts connected to it, and a running poller.

The database is the package's alone: what makes an account watched here (heartbeats,
manual-connect windows) must not set the pollers of other packages' apps polling, and
theirs must not set ours. Between tests every account is made unwatched again.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete

from tests.kit import storage
from tests.realtime.recorder import Recorder
from tests.support import accounts
from tests.support import app as app_fixtures
from tests.support.app import app_settings
from tests.support.connections import save_minted
from tests.support.servers import serve_in_thread
from tests.support.simulator import Sim
from tunedeck.config import Settings
from tunedeck.events.bus import EventBus, InProcessBus, RedisBus
from tunedeck.kit.db import Database
from tunedeck.kit.http import create_http_client
from tunedeck.kit.leases import Lease, new_owner
from tunedeck.player.models import ManualConnectWindow
from tunedeck.player.now_playing import NowPlayingStore
from tunedeck.realtime.models import RealtimeWatcher, SpotifyAppPause
from tunedeck.realtime.poll_clients import PollClients, poll_policy
from tunedeck.realtime.poller import Poller
from tunedeck.realtime.watch import WatchRegistry
from tunedeck.simulator.app import create_simulator_app
from tunedeck.simulator.defaults import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

keyring = storage.keyring
bus_url = app_fixtures.bus_url

# Path prefixes the recorder also serves the simulator under (one per worker process).
PREFIXES = ("/a", "/b")

FAST: dict[str, Any] = {
    "poll_playing_seconds": 0.1,
    "poll_paused_seconds": 0.1,
    "poll_idle_seconds": 0.1,
    "poll_reconcile_seconds": 0.05,
    "poll_reauth_check_seconds": 0.1,
    "watch_heartbeat_seconds": 0.2,
}
"""A poller that polls every account all the time: changes are seen at once."""

SLOW: dict[str, Any] = {
    "poll_playing_seconds": 600.0,
    "poll_paused_seconds": 600.0,
    "poll_idle_seconds": 600.0,
    "poll_reconcile_seconds": 0.05,
}
"""A poller whose regular cadence never comes within a test: whatever it polls beyond
the first poll is an end-of-track poll or a burst."""


@dataclass
class RecordedSim:
    """The package's simulator server and the recorder in front of it."""

    sim: Sim
    recorder: Recorder


@pytest.fixture(scope="session")
def recorded_sim() -> Iterator[RecordedSim]:
    app = create_simulator_app()
    recorder = Recorder(app, PREFIXES)
    with serve_in_thread(recorder) as base:
        sim = Sim(base, app.state.simulator)
        try:
            yield RecordedSim(sim, recorder)
        finally:
            sim.close()


@pytest.fixture
def recorder(recorded_sim: RecordedSim) -> Recorder:
    return recorded_sim.recorder


@pytest.fixture
def sim(recorded_sim: RecordedSim) -> Sim:
    """The package's simulator, reset (initial players, no tokens, zero counters), its
    recorder emptied."""
    recorded_sim.sim.reset()
    recorded_sim.recorder.clear()
    return recorded_sim.sim


@pytest.fixture(autouse=True)
async def nothing_watched(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Every test on the database starts and ends with no account watched or polled
    there, and no Spotify app paused (tests of pure functions are left alone: they run
    once, on no backend)."""
    if "database" not in request.fixturenames:
        yield
        return
    database: Database = request.getfixturevalue("database")
    await forget_watching(database)
    yield
    await forget_watching(database)


async def forget_watching(database: Database) -> None:
    async with database.session() as session:
        await session.execute(delete(RealtimeWatcher))
        await session.execute(delete(ManualConnectWindow))
        await session.execute(delete(Lease).where(Lease.name.like("poll%")))
        # A test's 429 must not pause the (shared) demo app of the next test's pollers.
        await session.execute(delete(SpotifyAppPause))


@pytest.fixture(scope="session", params=storage.BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database per backend for the real-time tests alone."""
    yield from storage.private_database_url(request, tmp_path_factory, "realtime")


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
    return (await accounts.create_account(database, storage.unique())).id


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


@dataclass
class Polling:
    """A running poller with its watched registry, bus and now-playing store."""

    poller: Poller
    watch: WatchRegistry
    bus: EventBus
    settings: Settings
    now_playing: NowPlayingStore


MakePolling = Callable[..., AbstractAsyncContextManager[Polling]]


@pytest.fixture
def make_polling(
    database: Database,
    database_url: str,
    bus: EventBus,
    bus_url: str | None,
    sim: Sim,
    tmp_path: Path,
) -> MakePolling:
    """``async with make_polling(**settings) as polling``: a watched registry and a poller
    running on the package's database and bus, polling the simulator (FAST by default)."""

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[Polling]:
        settings = realtime_settings(database_url, bus_url, tmp_path, sim, **{**FAST, **overrides})
        http = create_http_client()
        watch = WatchRegistry(database, settings, new_owner("test"))
        now_playing = NowPlayingStore(settings.player_state_cache_seconds)
        clients = PollClients(
            database, storage.TEST_KEYRING, http, settings, policy=poll_policy(settings)
        )
        poller = Poller(
            db=database,
            bus=bus,
            watch=watch,
            clients=clients,
            settings=settings,
            owner=watch.process_id,
            now_playing=now_playing,
        )
        try:
            await watch.start()
            await poller.start()
            yield Polling(poller, watch, bus, settings, now_playing)
        finally:
            await poller.stop()
            await watch.stop()
            await http.aclose()

    return make
