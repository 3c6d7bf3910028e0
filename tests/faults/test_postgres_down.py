"""PostgreSQL stopped under load and started again, with the app running all along.

A real server of the test's own (never the machine's) is stopped while a client sends
commands steadily: meanwhile every request is answered 503 ``service_unavailable`` with
``Retry-After`` and the standard body, a live client opening is closed with 1013, and a
command answered 503 has left no event. Once PostgreSQL is back the same app serves
again (its pool drops the dead connections), and every command answered 2xx has exactly
one event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.events.support import eventually
from tests.faults.support import (
    PLAYBACK,
    Streamer,
    connected_streamer,
    drained,
    stored_volumes,
    volume,
)
from tests.support.app import app_settings
from tests.support.postgres_server import OwnPostgres
from tests.support.servers import serve_in_thread
from tests.support.simulator import Sim
from tunedeck.app import create_app
from tunedeck.kit.db import Database
from tunedeck.migrations.apply import upgrade_database

LIVE = "/v1/spotify/live"
WITHIN = 20.0
# Each command sets its own volume (0..100): the volume names the command in its event.
VOLUMES = 101


@dataclass
class Load:
    """A client sending one command at a time, each with its own volume."""

    client: httpx.AsyncClient
    answers: dict[int, httpx.Response] = field(default_factory=dict)
    sent: int = 0

    def count(self, status: int) -> int:
        return sum(1 for a in self.answers.values() if a.status_code == status)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set() and self.sent < VOLUMES:
            percent, self.sent = self.sent, self.sent + 1
            self.answers[percent] = await self.client.post(PLAYBACK, json=volume(percent))
            await asyncio.sleep(0.03)

    async def until(self, status: int, count: int) -> None:
        deadline = time.monotonic() + WITHIN
        while self.count(status) < count:
            assert self.sent < VOLUMES, f"ran out of commands waiting for {count} x {status}"
            assert time.monotonic() < deadline, f"{count} answers {status} not seen"
            await asyncio.sleep(0.02)


@dataclass
class Setup:
    base: str
    db: Database
    streamer: Streamer


@pytest.fixture
async def served(own_postgres: OwnPostgres, sim: Sim, tmp_path: Path) -> AsyncIterator[Setup]:
    """The app on the test's own PostgreSQL (in-process bus), served by uvicorn in a thread;
    and a database handle of the test's own on it."""
    admin = await asyncpg.connect(own_postgres.admin_url)
    try:
        await admin.execute("CREATE DATABASE tunedeck")
    finally:
        await admin.close()
    url = own_postgres.url("tunedeck")
    await upgrade_database(url)
    db = Database(url)
    try:
        streamer = await connected_streamer(db, sim)
        with serve_in_thread(create_app(app_settings(url, tmp_path, sim=sim))) as base:
            yield Setup(base, db, streamer)
    finally:
        await db.dispose()


class Listener:
    """A live client, open from before the outage, collecting its messages."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                self.messages.append(json.loads(raw))

    def volumes(self) -> set[int]:
        """The volumes of the command events it heard of."""
        events = (m["event"] for m in self.messages if m.get("type") == "event")
        return {e["params"]["new_volume"] for e in events if e["type"] == "spotify:volume"}

    @property
    def open(self) -> bool:
        return not self.task.done()


async def live_close_code(base: str, streamer: Streamer) -> int | None:
    """Open the live feed; the close code if it is closed before its first message."""
    url = base.replace("http://", "ws://") + LIVE
    async with connect(url, additional_headers=streamer.headers) as ws:
        try:
            await asyncio.wait_for(ws.recv(), WITHIN)
        except ConnectionClosed:
            return ws.close_code
        return None


@pytest.mark.slow
async def test_postgres_stopped_under_load_then_back(
    served: Setup, own_postgres: OwnPostgres
) -> None:
    base, db, streamer = served.base, served.db, served.streamer
    stop = asyncio.Event()
    ws_url = base.replace("http://", "ws://") + LIVE
    async with (
        httpx.AsyncClient(base_url=base, headers=streamer.headers, timeout=30) as client,
        connect(ws_url, additional_headers=streamer.headers) as ws,
    ):
        listener = Listener(ws)
        load = Load(client)
        sender = asyncio.create_task(load.run(stop))
        try:
            await load.until(200, 5)
            await asyncio.to_thread(own_postgres.stop, "fast")  # ends the pool's sessions too
            await load.until(503, 5)
            me = await client.get("/v1/me")
            refused_live = await live_close_code(base, streamer)
            await asyncio.to_thread(own_postgres.start)
            recovered_from = load.count(200)
            await load.until(200, recovered_from + 5)
        finally:
            stop.set()
            await sender
        after = await live_close_code(base, streamer)
        last = max(p for p, a in load.answers.items() if a.status_code == 200)

        async def heard_last() -> bool:
            return last in listener.volumes()

        await eventually(heard_last, within=WITHIN, what="the last command's event, live")
        still_open = listener.open
        listener.task.cancel()

    # Meanwhile: try again shortly, in the standard shape, never a 500 or a traceback.
    unavailable = [a for a in [me, *load.answers.values()] if a.status_code != 200]
    assert unavailable, "the outage was not seen"
    for answer in unavailable:
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "2"
        assert answer.json()["error"]["code"] == "service_unavailable"
        assert "Traceback" not in answer.text
    assert refused_live == 1013
    # A client connected before the outage was kept (an overlay on stream stays up) and
    # hears of the commands made once PostgreSQL is back.
    assert still_open
    # Back without a restart: new commands and a new live client are served.
    assert after is None

    await eventually(lambda: drained(db, streamer.account_id), within=WITHIN, what="outbox drained")
    stored = await stored_volumes(db, streamer.account_id)
    acked = {p for p, a in load.answers.items() if a.status_code == 200}
    failed = {p for p, a in load.answers.items() if a.status_code == 503}
    # Each command answered 2xx has its one event; one answered 503 has none.
    assert {p: stored[p] for p in acked} == dict.fromkeys(acked, 1)
    assert {p: stored[p] for p in failed} == dict.fromkeys(failed, 0)
    assert set(stored) == acked
