"""What a WebSocket client sends is bounded and read strictly, on both WebSockets
(``/graphql`` subscriptions and the live feed ``/v1/spotify/live``), served as
``tunedeck serve`` serves them: a message past ``max_body_bytes`` closes the connection
(1009) before the app reads it; JSON the request bodies would refuse (nesting, a key
twice, huge numbers, NUL, lone surrogates) closes it with the protocol's 4400; and the
server serves the next connection as before, with no error logged."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.realtime.feed_support import Served, feed, served
from tests.realtime.support import LIVENESS
from tests.realtime.test_feed import streamer
from tests.support.simulator import Sim
from tunedeck.config import Settings
from tunedeck.kit.db import Database
from tunedeck.realtime.protocol import MAX_FRAME, CloseCode, Refused, read_frame

GRAPHQL_WS = Subprotocol("graphql-transport-ws")
MESSAGE_TOO_BIG = 1009
DEEP = 10_000


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


# Each is JSON that json.loads reads, but no door of TuneDeck accepts.
HOSTILE: dict[str, str] = {
    "nested 10,000 deep": nested(DEEP),
    "key twice": '{"a": 1, "a": 2}',
    "huge number": "1" * 40,
    "NaN": "NaN",
    "NUL": json.dumps("a\x00b"),
    "lone surrogate": '"\\ud800"',
}


def graphql_url(server: Served) -> str:
    return server.base.replace("http://", "ws://") + "/graphql"


async def closed_by_server(url: str, message: str, **options: Any) -> tuple[int | None, str]:
    """Send ``message`` first; the close code and reason the server answers with."""
    async with connect(url, open_timeout=LIVENESS, **options) as ws:
        with contextlib.suppress(ConnectionClosed):  # it may close while this still sends
            await ws.send(message)
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), LIVENESS)
        return ws.close_code, ws.close_reason or ""


async def graphql_closes(server: Served, message: str) -> tuple[int | None, str]:
    return await closed_by_server(graphql_url(server), message, subprotocols=[GRAPHQL_WS])


async def acknowledged(server: Served, payload: dict[str, Any]) -> None:
    """A graphql-transport-ws ``connection_init`` with ``payload`` is acknowledged."""
    async with connect(graphql_url(server), subprotocols=[GRAPHQL_WS]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        answer = json.loads(await asyncio.wait_for(ws.recv(), LIVENESS))
        assert answer == {"type": "connection_ack"}, answer


def init_with(value: str) -> str:
    """A ``connection_init`` frame whose payload carries ``value`` (raw JSON text)."""
    return '{"type": "connection_init", "payload": {"token": "x", "extra": ' + value + "}}"


@pytest.fixture
def errors_logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The records at ERROR or above (a traceback of the server's included) while served."""
    caplog.set_level(logging.ERROR)
    return caplog.records


async def test_oversized_messages_close_both_websockets(
    settings: Settings, database: Database, sim: Sim, errors_logged: list[logging.LogRecord]
) -> None:
    keys = await streamer(database, sim)
    limit = 32 * 1024  # not the default: the bound is the setting's
    async with served(settings.model_copy(update={"max_body_bytes": limit})) as server:
        padding = "x" * limit  # the frame around it makes the message larger than the limit
        oversized_auth = json.dumps({"type": "auth", "token": padding})
        code, reason = await closed_by_server(server.ws, oversized_auth)
        assert code == MESSAGE_TOO_BIG, (code, reason)

        oversized_init = json.dumps({"type": "connection_init", "payload": {"token": padding}})
        code, reason = await graphql_closes(server, oversized_init)
        assert code == MESSAGE_TOO_BIG, (code, reason)

        # The limit is max_body_bytes itself: a message just under it is read.
        room = limit - len(json.dumps({"type": "connection_init", "payload": {"token": keys.key}}))
        await acknowledged(server, {"token": keys.key, "pad": "x" * (room - 20)})
        # And the live feed still serves.
        async with feed(server.ws, token=keys.key) as client:
            await client.wait_for("now_playing")
    assert not errors_logged, [record.getMessage() for record in errors_logged]


async def test_graphql_websocket_reads_json_strictly(
    settings: Settings, database: Database, sim: Sim, errors_logged: list[logging.LogRecord]
) -> None:
    keys = await streamer(database, sim)
    async with served(settings) as server:
        deep_init = '{"type": "connection_init", "payload": ' + nested(DEEP) + "}"
        assert await graphql_closes(server, deep_init) == (
            CloseCode.BAD_MESSAGE,
            "WebSocket message must be valid JSON",
        )
        for name, value in HOSTILE.items():
            code, reason = await graphql_closes(server, init_with(value))
            assert code == CloseCode.BAD_MESSAGE, (name, code, reason)
        duplicate_type = '{"type": "connection_init", "type": "ping"}'
        assert (await graphql_closes(server, duplicate_type))[0] == CloseCode.BAD_MESSAGE

        # After connection_ack too: a subscribe frame with a key twice.
        async with connect(graphql_url(server), subprotocols=[GRAPHQL_WS]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"token": keys.key}}))
            assert json.loads(await ws.recv()) == {"type": "connection_ack"}
            await ws.send(
                '{"id": "1", "type": "subscribe", "payload": '
                '{"query": "subscription { spotifyNowPlaying { id } }", "query": "{ x }"}}'
            )
            with contextlib.suppress(ConnectionClosed):
                while True:
                    await asyncio.wait_for(ws.recv(), LIVENESS)
            assert ws.close_code == CloseCode.BAD_MESSAGE, (ws.close_code, ws.close_reason)

        # The server keeps serving: the next connection is acknowledged.
        await acknowledged(server, {"token": keys.key})
    assert not errors_logged, [record.getMessage() for record in errors_logged]


async def test_live_feed_refuses_a_hostile_first_message(
    settings: Settings, database: Database, sim: Sim, errors_logged: list[logging.LogRecord]
) -> None:
    keys = await streamer(database, sim)
    async with served(settings) as server:
        for name, value in HOSTILE.items():
            message = '{"type": "auth", "token": "x", "since": ' + value + "}"
            code, reason = await closed_by_server(server.ws, message)
            assert code == CloseCode.BAD_MESSAGE, (name, code, reason)
            assert reason.startswith("The message is "), (name, reason)
        twice = '{"type": "auth", "token": "' + keys.key + '", "type": "auth"}'
        code, reason = await closed_by_server(server.ws, twice)
        assert (code, reason) == (
            CloseCode.BAD_MESSAGE,
            "The message is refused: the key 'type' appears twice in one object.",
        )
        async with feed(server.ws, token=keys.key) as client:
            await client.wait_for("now_playing")
    assert not errors_logged, [record.getMessage() for record in errors_logged]


def test_the_feed_bounds_a_message_itself() -> None:
    """With max_body_bytes raised past it, the feed still reads no more than MAX_FRAME."""
    with pytest.raises(Refused) as refused:
        read_frame({"type": "websocket.receive", "text": " " * (MAX_FRAME + 1)})
    assert refused.value.code == CloseCode.BAD_MESSAGE
    assert "64 KiB" in refused.value.reason
