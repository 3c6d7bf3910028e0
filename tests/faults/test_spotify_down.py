"""Spotify down (the simulator answering 5xx) or slow (10 s latency): requests fail with
a clear error within the Spotify deadline, retries are bounded, the poller backs off,
and nothing piles up (connections, tasks, responses).

What happened is read from the simulator's count of the requests it received and from
the objects alive in this process, never from durations.
"""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp.client_proto import ResponseHandler

from tests.events.support import eventually
from tests.faults.support import PLAYBACK, Streamer, connected_streamer, stored_volumes, volume
from tests.kit import storage
from tests.support.app import app_settings, asgi_client
from tests.support.simulator import Sim
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.events.bus import InProcessBus
from tunedeck.kit.db import Database
from tunedeck.kit.http import create_http_client
from tunedeck.kit.leases import Leases
from tunedeck.player.now_playing import NowPlayingStore
from tunedeck.realtime.account_poller import AccountPoller, PollContext, PollStats
from tunedeck.realtime.poll_clients import PollClients, poll_policy
from tunedeck.realtime.poll_leases import PollLeases
from tunedeck.realtime.ratelimit import AppPauses, SharedPauses
from tunedeck.realtime.schedule import Cadence
from tunedeck.spotify.transport import RequestPolicy

# The player's read of the playback, and the volume command, as the simulator counts them.
READ = "GET /v1/me/player"
SET_VOLUME = "PUT /v1/me/player/volume"
NEXT = "POST /v1/me/player/next"
TRIES = 1 + RequestPolicy().max_retries  # idempotent requests after a 5xx
SLOW_MS = 10_000
DEADLINE = 1.0

# One backend is enough here: what is under test is the way to Spotify.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

MakeApp = Callable[..., Any]


@pytest.fixture
def make_app(database_url: str, sim: Sim, tmp_path: Path) -> MakeApp:
    """``async with make_app(**setting_overrides) as client``: the app running in this
    loop, on the simulator, and a client to it."""

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(app_settings(database_url, tmp_path, sim=sim, **overrides))
        async with app.router.lifespan_context(app), asgi_client(app, timeout=60) as client:
            yield client

    return make


@pytest.fixture(autouse=True)
def spotify_back(sim: Sim) -> Iterator[None]:
    """Spotify well again after each test: the requests it still delays end now."""
    yield
    sim.knobs(latency_ms=0, error_rate=0.0, hold_requests=False)


@pytest.fixture
async def streamer(database: Database, sim: Sim) -> Streamer:
    return await connected_streamer(database, sim)


def received(sim: Sim) -> dict[str, int]:
    return dict(sim.stats()["requests"])


async def test_spotify_failing_is_a_clear_503_after_bounded_retries(
    make_app: MakeApp, streamer: Streamer, database: Database, sim: Sim
) -> None:
    sim.knobs(error_rate=1.0)
    async with make_app() as client:
        answer = await client.post(PLAYBACK, json=volume(37), headers=streamer.headers)
        skip = await client.post(PLAYBACK, json={"action": "next"}, headers=streamer.headers)
    for refused in (answer, skip):
        assert refused.status_code == 503, refused.text
        error = refused.json()["error"]
        assert error["code"] == "spotify_unavailable"
        assert error["details"]["spotify_status"] in (500, 502, 503)
    # Reads and PUTs were tried 1 + max_retries times; a POST once (its effect could double).
    assert received(sim) == {READ: 2 * TRIES, SET_VOLUME: TRIES, NEXT: 1}
    assert await stored_volumes(database, streamer.account_id) == {}


async def test_spotify_slow_fails_within_one_deadline(
    make_app: MakeApp, streamer: Streamer, sim: Sim
) -> None:
    sim.knobs(latency_ms=SLOW_MS)
    async with make_app(spotify_deadline=DEADLINE) as client:
        command = await client.post(PLAYBACK, json=volume(12), headers=streamer.headers)
        queue = await client.get("/v1/spotify/queue", headers=streamer.headers)
        asked = received(sim)
        state = await client.get("/v1/spotify/state", headers=streamer.headers)
    for late in (command, queue):
        assert late.status_code == 504, late.text
        assert late.json()["error"]["code"] == "spotify_timeout"
    # The state's parts are read side by side, each failing in its place.
    assert state.status_code == 200, state.text
    assert {e["code"] for e in state.json()["errors"].values()} == {"spotify_timeout"}
    # The read before the command spent the action's one deadline: the command was not
    # sent after it (each call having its own deadline, the action took two).
    assert asked == {READ: 1, "GET /v1/me/player/queue": 1}


def open_connections() -> int:
    """aiohttp's client connections alive in this process (the simulator serves with
    uvicorn: none of these are its own)."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, ResponseHandler) and o.is_connected())


def running_tasks() -> Counter[str]:
    """This loop's tasks by coroutine, but for the background loops' sleeps (which
    ``kit.background.wait_any`` spends in short-lived ``Event.wait`` tasks)."""
    names = (task.get_coro().__qualname__ for task in asyncio.all_tasks())  # type: ignore[union-attr]
    return Counter(name for name in names if name != "Event.wait")


def live(kind: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, kind))


async def test_the_spotify_pool_is_bounded(make_app: MakeApp, streamer: Streamer, sim: Sim) -> None:
    pool = 3
    sim.knobs(hold_requests=True)
    async with make_app(spotify_max_connections=pool) as client:
        reads = [
            asyncio.create_task(client.get("/v1/spotify/devices", headers=streamer.headers))
            for _ in range(4 * pool)
        ]

        async def pool_full() -> bool:
            return int(sim.stats()["in_flight"]) >= pool

        await eventually(pool_full, what="the pool in use")
        await asyncio.sleep(0.5)  # time for the other reads to ask for a connection
        in_flight = sim.stats()["in_flight"]
        sim.knobs(hold_requests=False)
        answers = await asyncio.gather(*reads)
    assert in_flight == pool
    assert [a.status_code for a in answers] == [200] * len(reads)
    assert sim.stats()["max_in_flight"] == pool


@pytest.mark.slow
async def test_slow_requests_leave_nothing_behind(
    make_app: MakeApp, streamer: Streamer, sim: Sim
) -> None:
    pool = 4
    sim.knobs(latency_ms=SLOW_MS)
    async with make_app(spotify_deadline=DEADLINE, spotify_max_connections=pool) as client:

        async def burst() -> list[int]:
            calls = [
                client.post(PLAYBACK, json=volume(n), headers=streamer.headers)
                for n in range(3 * pool)
            ]
            calls += [
                client.get("/v1/spotify/devices", headers=streamer.headers) for _ in range(pool)
            ]
            return [a.status_code for a in await asyncio.gather(*calls)]

        assert set(await burst()) == {504}  # the first also opens the pool
        tasks, responses = running_tasks(), live(httpx.Response)
        for _ in range(2):
            assert set(await burst()) == {504}
            assert open_connections() <= pool

        async def settled() -> bool:
            # A request cut short by its deadline may still be closing its database
            # connection (SQLAlchemy hands that to a task): what counts is what stays.
            return running_tasks() == tasks

        await eventually(settled, what="the tasks of the bursts ended")
        assert live(httpx.Response) == responses


# -- the poller ---------------------------------------------------------------------------


class Clock:
    """The poller's clock, moved by the test one poll period (a tick) at a time."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class HeldLeases(PollLeases):
    """The account's lease, held all along (this test is about Spotify, not leases)."""

    def usable(self, account_id: uuid.UUID) -> bool:
        return True


def polling(
    database: Database, settings: Settings, clock: Clock, http: httpx.AsyncClient
) -> PollContext:
    keyring = storage.TEST_KEYRING
    pauses = AppPauses(clock=clock)
    return PollContext(
        bus=InProcessBus(),
        clients=PollClients(database, keyring, http, settings, policy=poll_policy(settings)),
        leases=HeldLeases(Leases(database), "faults", settings.poll_lease_seconds, clock=clock),
        pauses=pauses,
        shared_pauses=SharedPauses(database, pauses),
        cadence=Cadence.of(settings),
        seek_tolerance_ms=settings.poll_seek_tolerance_ms,
        timeout=settings.poll_timeout_seconds,
        announce_after=settings.poll_rate_limit_announce_seconds,
        reauth_check=settings.poll_reauth_check_seconds,
        now_playing=NowPlayingStore(settings.player_state_cache_seconds),
        stats=PollStats(),
        clock=clock,
    )


class Ticks:
    """Runs the poller's steps tick by tick: a step whenever the poll it asked for is due."""

    def __init__(self, poller: AccountPoller, clock: Clock, period: float, sim: Sim) -> None:
        self.poller, self.clock, self.period, self.sim = poller, clock, period, sim
        self.due = 0.0

    async def run(self, ticks: range) -> list[int]:
        """The ticks at which it polled Spotify."""
        polled = []
        for tick in ticks:
            self.clock.now = tick * self.period
            if self.due <= self.clock.now:
                before = received(self.sim).get(READ, 0)
                self.due = await self.poller.step()
                assert received(self.sim).get(READ, 0) > before  # it did ask Spotify
                polled.append(tick)
        return polled


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fault", "deadline", "requests_per_poll"),
    [({"error_rate": 1.0}, 2.0, TRIES), ({"latency_ms": SLOW_MS}, 0.5, 1)],
    ids=["5xx", "slow"],
)
async def test_the_poller_backs_off_while_spotify_fails(
    database: Database,
    sim: Sim,
    streamer: Streamer,
    tmp_path: Path,
    fault: dict[str, Any],
    deadline: float,
    requests_per_poll: int,
) -> None:
    settings = app_settings(
        "sqlite://", tmp_path, sim=sim, poll_timeout_seconds=deadline, spotify_deadline=deadline
    )
    clock = Clock()
    async with create_http_client() as http:
        poller = AccountPoller(streamer.account_id, polling(database, settings, clock, http))
        ticks = Ticks(poller, clock, settings.poll_playing_seconds, sim)
        sim.knobs(**fault)
        failing = await ticks.run(range(40))
        reads = received(sim).get(READ, 0)
        sim.knobs(error_rate=0.0, latency_ms=0)
        recovered = await ticks.run(range(40, 60))
    # From the regular period (a tick), doubled per failure up to 30 s (10 ticks): 7
    # polls in 40 ticks, where a healthy account is polled at each.
    assert failing == [0, 1, 3, 7, 15, 25, 35]
    assert reads == len(failing) * requests_per_poll
    # Spotify answering again, the next poll due finds it, and polling is regular again.
    assert recovered == list(range(45, 60))
