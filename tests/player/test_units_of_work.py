"""No transaction across a wait: a request waiting on Spotify holds no database session.

The simulator holds its answers (``hold_requests``) for as long as the test needs, so
what is checked is what is true while requests wait, not how long anything took: the
app has no pooled connection checked out, another OS process writes the same rows of
the same SQLite file or PostgreSQL database without waiting for a lock, and a request
that needs only the database is answered while fifty others still wait on Spotify.
An action's unit of work, once Spotify answered, commits its event and wakes the relay.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Executable, event

from tests.player.conftest import Streamer, player_settings
from tests.support.app import asgi_client, replaced
from tests.support.simulator import Sim
from tunedeck.app import create_app
from tunedeck.events.relay import EventRelay
from tunedeck.kit.unit_of_work import UnitOfWork, UnitsOfWork
from tunedeck.runtime import app_runtime

WRITER = Path(__file__).with_name("other_writer.py")


@asynccontextmanager
async def running_app(
    database_url: str, bus_url: str | None, sim: Sim, data_dir: Path
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    # Fifty calls of one key at once: more than its burst, so no rate limits here.
    app = create_app(player_settings(database_url, bus_url, sim, data_dir, rate_limits=False))
    async with app.router.lifespan_context(app), asgi_client(app, timeout=60) as client:
        yield app, client


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for ``condition`` (a liveness bound only: the test fails if it never holds)."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


class Holders:
    """Which asyncio task holds each pooled connection checked out of the app's engine
    (the app's own background loops hold some too: only the requests' tasks count)."""

    def __init__(self, app: FastAPI) -> None:
        db = app_runtime(app).db
        self.by_connection: dict[int, asyncio.Task[Any] | None] = {}
        self.ever: set[asyncio.Task[Any] | None] = set()
        pool = db.engine.sync_engine.pool
        event.listen(pool, "checkout", self._checkout)
        event.listen(pool, "checkin", self._checkin)

    def _checkout(self, _dbapi: Any, record: Any, _proxy: Any) -> None:
        task = asyncio.current_task()
        self.by_connection[id(record)] = task
        self.ever.add(task)

    def _checkin(self, _dbapi: Any, record: Any) -> None:
        self.by_connection.pop(id(record), None)

    def held_by(self, tasks: list[asyncio.Task[httpx.Response]]) -> int:
        return sum(1 for task in self.by_connection.values() if task in tasks)

    def used_by(self, tasks: list[asyncio.Task[httpx.Response]]) -> int:
        """How many of ``tasks`` checked a connection out at all (so they are seen)."""
        return sum(1 for task in tasks if task in self.ever)


def other_process_writes(database_url: str, key_id: str) -> subprocess.CompletedProcess[str]:
    """Another OS process updates the key's row (the one authentication stamps) and adds
    an account, refusing to wait for any lock; it reports transactions left open."""
    return subprocess.run(
        [sys.executable, str(WRITER), database_url, key_id],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_a_request_waiting_on_spotify_holds_no_transaction(
    database_url: str, bus_url: str | None, sim: Sim, streamer: Streamer, tmp_path: Path
) -> None:
    async with running_app(database_url, bus_url, sim, tmp_path) as (app, client):
        holders = Holders(app)
        sim.knobs(hold_requests=True)
        waiting = asyncio.create_task(
            client.post("/v1/spotify/playback", json={"action": "next"}, headers=streamer.headers)
        )
        try:
            await until(lambda: sim.stats()["in_flight"] >= 1, "the request reaches Spotify")
            assert holders.used_by([waiting]) == 1  # it authenticated: it is being watched
            assert holders.held_by([waiting]) == 0
            written = await asyncio.to_thread(
                other_process_writes, database_url, streamer.caller.key_id
            )
            assert written.returncode == 0, written.stderr
            assert written.stdout.strip() == "open transactions: 0", written.stderr
            assert not waiting.done()
        finally:
            sim.knobs(hold_requests=False)
        answer = await waiting
    assert answer.status_code == 200, answer.text
    assert answer.json()["event"]["type"] == "spotify:skip"


async def test_fifty_requests_waiting_on_spotify_do_not_drain_the_pool(
    database_url: str, bus_url: str | None, sim: Sim, streamer: Streamer, tmp_path: Path
) -> None:
    async with running_app(database_url, bus_url, sim, tmp_path) as (app, client):
        holders = Holders(app)
        sim.knobs(hold_requests=True)
        waiting = [
            asyncio.create_task(client.get("/v1/spotify/queue", headers=streamer.headers))
            for _ in range(50)
        ]
        try:
            await until(lambda: sim.stats()["in_flight"] >= 50, "fifty requests reach Spotify")
            assert holders.used_by(waiting) == 50
            assert holders.held_by(waiting) == 0
            # Needs the database only: answered while the fifty still wait.
            status = await client.get("/v1/spotify/manual-connect", headers=streamer.headers)
            assert status.status_code == 200, status.text
            assert not any(task.done() for task in waiting)
        finally:
            sim.knobs(hold_requests=False)
        answers = await asyncio.gather(*waiting)
    assert [a.status_code for a in answers] == [200] * 50


@dataclass(frozen=True)
class Counted:
    """A unit of work as counted: the outbox rows it wrote."""

    outbox_rows: int


class CountedUnits(UnitsOfWork):
    """The app's units of work, counting those begun (sessions and single statements)
    and the outbox rows each wrote."""

    def __init__(self, units: UnitsOfWork) -> None:
        super().__init__(units.db, units.outbox)
        self.begun: list[UnitOfWork | Counted] = []

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[UnitOfWork]:
        async with super().begin() as work:
            self.begun.append(work)
            yield work

    async def run_alone(self, statement: Executable, *, outbox_rows: int = 0) -> None:
        await super().run_alone(statement, outbox_rows=outbox_rows)
        self.begun.append(Counted(outbox_rows))


async def test_an_action_commits_its_event_in_one_unit_that_wakes_the_relay(
    database_url: str, bus_url: str | None, sim: Sim, streamer: Streamer, tmp_path: Path
) -> None:
    async with running_app(database_url, bus_url, sim, tmp_path) as (app, client):
        runtime = app_runtime(app)
        relay: EventRelay = runtime.relay
        units = CountedUnits(runtime.units)
        with replaced(app, units=units):
            woken = relay.wakeups
            state = await client.get("/v1/spotify/state", headers=streamer.headers)
            assert state.status_code == 200, state.text
            assert (units.begun, relay.wakeups) == ([], woken)  # a read of Spotify: no unit
            answer = await client.post(
                "/v1/spotify/playback", json={"action": "pause"}, headers=streamer.headers
            )
            assert answer.status_code == 200, answer.text
            (work,) = units.begun
            assert work.outbox_rows == 1
            assert relay.wakeups == woken + 1
            listed = await client.get("/v1/spotify/events", headers=streamer.headers)
            assert listed.status_code == 200, listed.text
            assert [w.outbox_rows for w in units.begun] == [1, 0]
            assert relay.wakeups == woken + 1  # a unit that recorded nothing wakes nobody


@pytest.fixture(autouse=True)
def _release_held_requests(sim: Sim) -> None:
    """A failing test must not leave the shared simulator holding requests."""
    sim.knobs(hold_requests=False)
