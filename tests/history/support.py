"""Helpers of the history tests: an app polling in-process with the recorder on, and
reading what it recorded."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from tests.realtime.conftest import FAST, realtime_settings
from tests.realtime.support import Channel, channel
from tests.support.app import asgi_client
from tests.support.simulator import Sim
from tunedeck.app import create_app
from tunedeck.history.models import OpenPlay, Play
from tunedeck.kit.db import Database
from tunedeck.runtime import Runtime, app_runtime


@dataclass
class Running:
    """An app polling in-process: its runtime, an HTTP client and its account channel."""

    runtime: Runtime
    client: httpx.AsyncClient
    feed: Channel


@asynccontextmanager
async def running_app(
    database_url: str,
    bus_url: str | None,
    tmp_path: Path,
    sim: Sim,
    account: uuid.UUID,
    *,
    watched: bool = True,
    **overrides: Any,
) -> AsyncIterator[Running]:
    """``serve`` polling in-process (every watched account all the time: FAST), the
    account watched from the start (as by an open overlay) unless ``watched`` is False."""
    # A namespace of its own: sign-ins other tests failed from loopback are not ours.
    fields = {**FAST, "redis_namespace": f"history-{uuid.uuid4().hex[:8]}", **overrides}
    settings = realtime_settings(database_url, bus_url, tmp_path, sim, **fields)
    app = create_app(settings)
    async with app.router.lifespan_context(app), asgi_client(app, timeout=30) as client:
        runtime = app_runtime(app)
        async with channel(runtime.bus, account) as feed:
            if watched:
                runtime.watch.connected(account)
            yield Running(runtime, client, feed)


def play_change(change: str, uri: str | None = None) -> Any:
    def match(message: dict[str, Any]) -> bool:
        if message.get("type") != "play" or message["change"] != change:
            return False
        return uri is None or message["play"]["item_uri"] == uri

    return match


async def plays_of(database: Database, account: uuid.UUID) -> list[Play]:
    async with database.session() as session:
        found = await session.scalars(
            select(Play).where(Play.account_id == account).order_by(Play.started_at)
        )
        return list(found)


async def open_rows(database: Database, account: uuid.UUID) -> list[OpenPlay]:
    async with database.session() as session:
        return list(await session.scalars(select(OpenPlay).where(OpenPlay.account_id == account)))
