"""The database failing while a live connection opens (after its credential was checked):
a WebSocket is closed with 1013 and an SSE stream ends with an ``event: close`` of the
same code, so clients reconnect shortly; a real bug there stays an internal error (1011).

The failure is injected where the opening reads the database (the now-playing snapshot
loads the account's Spotify connection): the errors SQLAlchemy raises when SQLite's file
stays locked or a table is missing, and what asyncpg raises when PostgreSQL refuses."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from tests.realtime.conftest import connect as connect_spotify
from tests.realtime.conftest import new_account
from tests.realtime.feed_support import Keys, feed, make_keys, served
from tests.realtime.support import LIVENESS
from tests.support.simulator import Sim
from tunedeck.config import Settings
from tunedeck.kit.db import Database
from tunedeck.realtime.snapshot import Snapshots


def failing_with(error: Exception) -> Any:
    async def now_playing(self: Snapshots, account_id: uuid.UUID) -> Any:
        raise error

    return now_playing


def sqlite_error(message: str) -> OperationalError:
    return OperationalError("SELECT ...", {}, sqlite3.OperationalError(message))


async def keys_for(database: Database, sim: Sim) -> Keys:
    account_id = await new_account(database)
    await connect_spotify(database, sim, account_id)
    return await make_keys(database, account_id)


@pytest.mark.parametrize(
    "error",
    [
        sqlite_error("database is locked"),
        # What asyncpg raises, unwrapped, when PostgreSQL is restarting.
        ConnectionRefusedError(111, "Connection refused"),
    ],
    ids=["sqlite-locked", "postgres-refused"],
)
async def test_an_unavailable_database_at_the_opening_asks_clients_to_come_back(
    error: Exception,
    settings: Settings,
    database: Database,
    sim: Sim,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = await keys_for(database, sim)
    monkeypatch.setattr(Snapshots, "now_playing", failing_with(error))
    async with served(settings) as server:
        async with feed(server.ws, token=keys.key) as client:
            assert await client.wait_closed() == (1013, "server busy: reconnect shortly")
            assert [m["type"] for m in client.messages] == []
        sse_headers = {**keys.headers, "Accept": "text/event-stream"}
        async with (
            httpx.AsyncClient(base_url=server.base, timeout=LIVENESS) as http,
            http.stream("GET", "/v1/spotify/live", headers=sse_headers) as answer,
        ):
            assert answer.status_code == 200
            body = (await answer.aread()).decode()
    closing = body.split("event: close\n", 1)[1]
    data = json.loads(closing.split("data: ", 1)[1].splitlines()[0])
    assert (data["code"], data["reason"]) == (1013, "server busy: reconnect shortly")


async def test_a_missing_table_at_the_opening_is_an_internal_error(
    settings: Settings, database: Database, sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = await keys_for(database, sim)
    monkeypatch.setattr(
        Snapshots, "now_playing", failing_with(sqlite_error("no such table: accounts"))
    )
    async with served(settings) as server, feed(server.ws, token=keys.key) as client:
        assert await client.wait_closed() == (1011, "internal error")
