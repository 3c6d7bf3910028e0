"""A bare ``graphql-transport-ws`` client for the tests of GraphQL sockets: what the server
sends, in order, each operation's messages apart, and how the socket closed."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.realtime.support import LIVENESS
from tunedeck.events.models import OutboxEvent, PlatformEvent
from tunedeck.kit.db import Database

GRAPHQL_WS = Subprotocol("graphql-transport-ws")
NOW_PLAYING = "subscription { spotifyNowPlaying { id nowPlaying { isPlaying } } }"
PAUSE = "mutation { spotifyPlayback(input: {action: PAUSE}) { action } }"
PLAY = "mutation { spotifyPlayback(input: {action: PLAY}) { action } }"


def graphql_ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/graphql"


class GraphQLSocketClient:
    """One socket: messages read in the background, by operation id."""

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

    async def send(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionClosed):  # the server may have closed meanwhile
            await self.ws.send(json.dumps(message))

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """``connection_init``; the server's answer (``connection_ack``, or a close)."""
        await self.send({"type": "connection_init", "payload": payload or {}})
        await self.wait_for(lambda m: m["type"] == "connection_ack", what="connection_ack")
        return self.messages[0]

    async def subscribe(self, operation_id: str, query: str) -> None:
        await self.send({"id": operation_id, "type": "subscribe", "payload": {"query": query}})

    def of(self, operation_id: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("id") == operation_id]

    async def wait_for(self, match: Any, *, what: str) -> dict[str, Any]:
        """The first message ``match`` accepts, waiting for it (the socket may close)."""

        async def arrived() -> dict[str, Any]:
            while True:
                for message in self.messages:
                    if match(message):
                        return message
                if self.closed:
                    raise AssertionError(f"closed ({self.close_code}) before {what}")
                self._arrived.clear()
                await self._arrived.wait()

        return await asyncio.wait_for(arrived(), LIVENESS)

    async def answer(self, operation_id: str) -> dict[str, Any]:
        """The operation's first ``next`` or ``error``."""
        return await self.wait_for(
            lambda m: m.get("id") == operation_id and m["type"] in ("next", "error"),
            what=f"an answer to {operation_id}",
        )

    async def wait_closed(self) -> tuple[int | None, str]:
        await asyncio.wait_for(asyncio.shield(self._task), LIVENESS)
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
async def graphql_socket(
    base: str, *, headers: dict[str, str] | None = None
) -> AsyncIterator[GraphQLSocketClient]:
    async with connect(
        graphql_ws_url(base),
        subprotocols=[GRAPHQL_WS],
        additional_headers=headers or {},
        open_timeout=LIVENESS,
    ) as ws:
        client = GraphQLSocketClient(ws)
        try:
            yield client
        finally:
            await client.close()


async def events_recorded(database: Database, account_id: Any) -> int:
    """Events the account has, waiting in the outbox or stored (each is always in one,
    for a moment in both)."""
    async with database.session() as session:
        waiting = await session.scalars(
            select(OutboxEvent.event_id).where(OutboxEvent.account_id == account_id)
        )
        stored = await session.scalars(
            select(PlatformEvent.id).where(PlatformEvent.account_id == account_id)
        )
        return len(set(waiting) | set(stored))
