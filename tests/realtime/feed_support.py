"""Helpers of the live feed tests: TuneDeck served by a real uvicorn in the test's own
event loop (so a test can publish on the app's bus and read its hub), credentials, and
feed clients (WebSocket with the ``websockets`` package, SSE with httpx)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.realtime.support import LIVENESS
from tests.support import accounts
from tests.support.servers import free_port
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.kit.db import Database
from tunedeck.realtime.live import Live
from tunedeck.realtime.serving import uvicorn_options
from tunedeck.runtime import Runtime, app_runtime

LIVE = "/v1/spotify/live"


@dataclass
class Served:
    """An app served over loopback in this loop."""

    app: FastAPI
    base: str

    @property
    def runtime(self) -> Runtime:
        return app_runtime(self.app)

    @property
    def live(self) -> Live:
        live = self.runtime.live
        assert live is not None  # a serving app's
        return live

    @property
    def ws(self) -> str:
        return self.base.replace("http://", "ws://") + LIVE

    @property
    def http(self) -> str:
        return self.base + LIVE


@asynccontextmanager
async def serve_here(app: FastAPI, **config: Any) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn in this event loop; yield its base URL."""
    port = free_port()
    options: dict[str, Any] = {"log_level": "warning", "lifespan": "on", **config}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **options))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, LIVENESS)


@asynccontextmanager
async def served(settings: Settings, **config: Any) -> AsyncIterator[Served]:
    """The app of ``settings`` run as ``tunedeck serve`` runs it (its uvicorn options,
    the WebSocket message limit among them), ``config`` overriding them."""
    app = create_app(settings)
    async with serve_here(app, **{**uvicorn_options(settings), **config}) as base:
        yield Served(app, base)


@dataclass
class Keys:
    """An account with an API key (spotify:read and playback), an overlay token, and a key
    holding no read permission."""

    account_id: uuid.UUID
    key: str
    key_id: uuid.UUID
    overlay: str
    overlay_id: uuid.UUID
    no_read_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


async def make_keys(database: Database, account_id: uuid.UUID) -> Keys:
    key = await accounts.create_key(
        database, account_id, "feed", ["spotify:read", "spotify:playback", "admin"]
    )
    overlay = await accounts.create_overlay_token(database, account_id, "obs")
    other = await accounts.create_key(database, account_id, "queue", ["spotify:queue"])
    return Keys(account_id, key.key, key.id, overlay.token, overlay.id, other.key)


class Feed:
    """A WebSocket feed client that collects the messages it receives in the background."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []
        self.closed = False
        self._arrived = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                self.messages.append(json.loads(raw))
                self._arrived.set()
        self.closed = True
        self._arrived.set()

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    async def wait_for(
        self, kind: str, count: int = 1, *, where: Any = None, within: float = LIVENESS
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` messages of ``kind`` (matching ``where``) arrived."""

        def found() -> list[dict[str, Any]]:
            return [m for m in self.of_type(kind) if where is None or where(m)]

        async def arrived() -> None:
            while len(found()) < count:
                if self.closed:
                    raise AssertionError(f"closed ({self.close_code}) before {count} {kind}")
                self._arrived.clear()
                await self._arrived.wait()

        await asyncio.wait_for(arrived(), within)
        return found()

    async def wait_closed(self, within: float = LIVENESS) -> tuple[int | None, str]:
        await asyncio.wait_for(asyncio.shield(self._task), within)
        return self.close_code, self.close_reason

    @property
    def close_code(self) -> int | None:
        return self.ws.close_code if self.closed else None

    @property
    def close_reason(self) -> str:
        return (self.ws.close_reason or "") if self.closed else ""

    async def close(self) -> None:
        await self.ws.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._task, LIVENESS)


@asynccontextmanager
async def feed(
    url: str,
    *,
    token: str | None = None,
    auth_message: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    **options: Any,
) -> AsyncIterator[Feed]:
    """A feed client: ``token`` goes in ``Authorization``, ``auth_message`` is sent first."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    async with connect(url, additional_headers=sent, open_timeout=LIVENESS, **options) as ws:
        if auth_message is not None:
            await ws.send(json.dumps(auth_message))
        client = Feed(ws)
        try:
            yield client
        finally:
            await client.close()


async def sse_lines(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], count: int
) -> list[dict[str, Any]]:
    """The first ``count`` SSE events of a stream, each as {id, event, data}."""
    events: list[dict[str, Any]] = []
    async with client.stream(
        "GET", url, headers={"Accept": "text/event-stream", **headers}, timeout=LIVENESS
    ) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        current: dict[str, Any] = {}
        async for line in response.aiter_lines():
            if line == "":
                if "data" in current:
                    events.append(current)
                    if len(events) >= count:
                        break
                current = {}
            elif line.startswith("data: "):
                current["data"] = json.loads(line[6:])
            elif line.startswith("id: "):
                current["id"] = int(line[4:])
            elif line.startswith("event: "):
                current["event"] = line[7:]
    return events
