"""Fixtures and helpers of the request feeder's tests: a database per backend of their own
(the feeder's runtime polls every account with requests on their way: other packages'
must not be polled by it, nor its accounts by theirs), the Spotify simulator over
loopback HTTP, and a whole polling runtime (``build_runtime``, as a worker runs it) on
a fast cadence.

Import the fixtures into a test module (``from tests.requests.feeder_support import *``
names them); they replace the package's ``sim`` there.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from tests.kit import storage
from tests.realtime.conftest import FAST, connect, forget_watching, new_account
from tests.realtime.support import eventually
from tests.support import app as app_fixtures
from tests.support import simulator as simulator_fixtures
from tests.support.app import app_settings
from tests.support.simulator import Sim
from tunedeck.events.models import OutboxEvent, PlatformEvent
from tunedeck.kit.db import Database, utcnow
from tunedeck.requests.models import RequestPlayback, RequestSettingsRow, SongRequest
from tunedeck.requests.settings import RequestSettings
from tunedeck.runtime import Runtime, build_runtime
from tunedeck.simulator.catalog import Track

bus_url = app_fixtures.bus_url
sim_server = simulator_fixtures.sim_server

__all__ = [
    "bus_url",
    "database",
    "database_url",
    "feeder_runtime",
    "nothing_in_play",
    "sim",
    "sim_server",
]

QUEUE_ADD = ("POST", "/v1/me/player/queue")


@pytest.fixture
def sim(sim_server: Sim) -> Sim:
    """The simulator, reset: the demo user plays a playlist, nothing queued."""
    sim_server.reset()
    return sim_server


@pytest.fixture(scope="session", params=storage.BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database per backend for the feeder's tests alone."""
    yield from storage.private_database_url(request, tmp_path_factory, "feeder")


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


@pytest.fixture(autouse=True)
async def nothing_in_play(database: Database) -> AsyncIterator[None]:
    """Every test starts and ends with no request on its way and nothing watched."""
    await _forget(database)
    yield
    await _forget(database)


async def _forget(database: Database) -> None:
    await forget_watching(database)
    async with database.session() as session:
        await session.execute(delete(SongRequest))
        await session.execute(delete(RequestPlayback))


FeederRuntime = Callable[..., AbstractAsyncContextManager[Runtime]]


@pytest.fixture
def feeder_runtime(
    database_url: str, bus_url: str | None, sim: Sim, tmp_path: Path
) -> FeederRuntime:
    """``async with feeder_runtime(**settings) as runtime``: a polling process's runtime
    (poller and feeder) on the test database, Spotify being the simulator."""

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[Runtime]:
        settings = app_settings(
            database_url, tmp_path, sim=sim, redis_url=bus_url, **{**FAST, **overrides}
        )
        async with build_runtime(settings, serve=False, poll=True) as runtime:
            yield runtime

    return make


async def connected_account(database: Database, sim: Sim) -> uuid.UUID:
    """A new account connected to the simulator's demo user."""
    account = await new_account(database)
    await connect(database, sim, account)
    return account


def catalog_track(sim: Sim, *, avoid: set[str], index: int = 0) -> Track:
    """A catalog track that is none of ``avoid`` (uris), at least 60 s long."""
    found = [t for t in sim.state.catalog.tracks if t.uri not in avoid and t.duration_ms >= 60_000]
    return found[index]


async def queue_request(
    database: Database, account: uuid.UUID, track: Track, viewer: str, *, rank: int
) -> uuid.UUID:
    """A queued request of ``viewer`` for ``track`` (as the service stores one)."""
    async with database.session() as session:
        exists = await session.get(RequestSettingsRow, account)
        if exists is None:
            defaults = RequestSettings().model_dump(mode="json")
            session.add(RequestSettingsRow(account_id=account, version=0, settings=defaults))
        row = SongRequest(
            account_id=account,
            viewer_platform="twitch",
            viewer_id=viewer.lower(),
            viewer_login=viewer.lower(),
            viewer_name=viewer,
            viewer_role="regular",
            source="chat",
            query=track.name,
            track_uri=track.uri,
            track={
                "name": track.name,
                "artists": [a.name for a in track.artists],
                "album": track.album.name,
                "duration_ms": track.duration_ms,
                "explicit": track.explicit,
                "album_art_url": None,
            },
            state="queued",
            rank=rank,
        )
        session.add(row)
        await session.flush()
        return row.id


async def state_of(database: Database, request_id: uuid.UUID) -> str:
    async with database.session() as session:
        row = await session.get(SongRequest, request_id)
        assert row is not None
        return row.state


async def set_state(database: Database, request_id: uuid.UUID, state: str) -> None:
    """Change a request's state as a moderator's action would (removed...)."""
    async with database.session() as session:
        await session.execute(
            update(SongRequest)
            .where(SongRequest.id == request_id)
            .values(state=state, updated_at=utcnow())
        )


async def request_events(database: Database, account: uuid.UUID) -> list[tuple[str, str]]:
    """The request events recorded for the account, relayed or not: (type, request id)."""
    async with database.session() as session:
        pending = (
            await session.scalars(select(OutboxEvent).where(OutboxEvent.account_id == account))
        ).all()
        stored = (
            await session.scalars(select(PlatformEvent).where(PlatformEvent.account_id == account))
        ).all()
    found: dict[str, tuple[str, str, str]] = {}
    for row in pending:
        payload = row.payload
        found[str(payload["id"])] = (
            str(payload["occurred_at"]),
            str(payload["type"]),
            str(payload["params"].get("request_id")),
        )
    for event in stored:
        found[str(event.id)] = (
            event.occurred_at.isoformat(),
            event.event_type,
            str(event.params.get("request_id")),
        )
    return [
        (kind, request)
        for _, kind, request in sorted(found.values())
        if kind.startswith("request:")
    ]


async def wait_state(database: Database, request_id: uuid.UUID, state: str) -> None:
    async def reached() -> bool:
        return await state_of(database, request_id) == state

    await eventually(reached, what=f"request {state}")


def queue_adds(sim: Sim) -> list[str]:
    """The uris the simulator was asked to queue (``POST /me/player/queue``)."""
    return [
        str(r["query"].get("uri")) for r in sim.requests() if (r["method"], r["path"]) == QUEUE_ADD
    ]


def plays(sim: Sim) -> list[dict[str, Any]]:
    """The bodies of ``PUT /me/player/play`` the simulator received."""
    return [
        dict(r.get("body") or {})
        for r in sim.requests()
        if (r["method"], r["path"]) == ("PUT", "/v1/me/player/play")
    ]


async def seen_near(runtime: Runtime, account: uuid.UUID, uri: str, *, left_ms: int) -> None:
    """Wait until the feeder followed ``uri`` playing with at most ``left_ms`` left."""

    async def seen() -> bool:
        assert runtime.feeder is not None
        return (
            runtime.feeder.seen_left(account, uri) is not None
            and (runtime.feeder.seen_left(account, uri) or 0) <= left_ms
        )

    await eventually(seen, what=f"{uri} seen with {left_ms} ms left")


def time_left_s(sim: Sim) -> float:
    """Seconds left of the item the demo user plays."""
    playback = sim.playback()
    return (int(playback["duration_ms"]) - int(playback["progress_ms"])) / 1000
