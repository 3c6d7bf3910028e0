"""The live feed's lean WebSocket (``realtime.lean_ws``): once its opening is sent, a feed
connection is held by the protocol, with no task of its own in the server, and still gets
every message, is closed by what closes a connection, answers to the keep-alive and gives
back what it held when it ends. Served by another protocol (uvicorn's own
``websockets-sansio``, which offers no hold), the feed serves it from its task, with the
same behaviour. And the garbage collector of a serving process, which walks what those
connections hold."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import urlsplit

import pytest
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.uri import parse_uri

from tests.realtime.feed_support import Feed, Keys, Served, feed, served
from tests.realtime.support import LIVENESS, eventually
from tests.realtime.test_feed import streamer
from tests.support.simulator import Sim
from tunedeck.accounts.permissions import PrincipalKind
from tunedeck.config import Settings
from tunedeck.kit.db import Database
from tunedeck.realtime.caps import Cap
from tunedeck.realtime.credentials import Credential
from tunedeck.realtime.hub import Outgoing
from tunedeck.realtime.messages import Status, StatusKind

LEAN = "lean"  # what tunedeck serve runs (serving.uvicorn_options)
SANS_IO = "websockets-sansio"  # uvicorn's own protocol: no hold offered
SOCKET_CALLS = ("LeanWebSocketProtocol.run_asgi", "WebSocketsSansIOProtocol.run_asgi")


def socket_tasks() -> list[asyncio.Task[Any]]:
    """The server's tasks serving WebSocket connections: uvicorn's ASGI calls (the test's
    own clients run in the same loop, under other names)."""
    return [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "") in SOCKET_CALLS
    ]


def options(protocol: str) -> dict[str, Any]:
    return {} if protocol == LEAN else {"ws": protocol}


def held_by_key(server: Served, keys: Keys) -> int:
    live = server.live
    return int(live.caps.open_count(Cap.CREDENTIAL, Credential(PrincipalKind.API_KEY, keys.key_id)))


@pytest.mark.parametrize("protocol", [LEAN, SANS_IO])
async def test_feed_connections_with_and_without_the_lean_socket(
    protocol: str, settings: Settings, database: Database, sim: Sim
) -> None:
    keys = await streamer(database, sim)
    async with served(settings, **options(protocol)) as server, AsyncExitStack() as stack:
        clients: list[Feed] = []
        for _ in range(3):
            clients.append(await stack.enter_async_context(feed(server.ws, token=keys.key)))
        for client in clients:
            await client.wait_for("now_playing")

        async def no_task_left() -> bool:
            return not socket_tasks()

        if protocol == LEAN:
            # Held: the app's calls are over, nothing runs per connection.
            await eventually(no_task_left, what="the ASGI calls of the held connections ended")
        else:
            assert len(socket_tasks()) == 3, "one ASGI call per connection, still running"

        # Every message reaches each client whole: text outside ASCII, and one longer than
        # a 16-bit frame length.
        bus, live = server.runtime.bus, server.live
        for text in ("held: ünïcødé 🎵 مرحبا", "x" * 70_000):
            await bus.publish(
                keys.account_id, Status(status=StatusKind.IDLE, message=text).to_wire()
            )
            for client in clients:
                await client.wait_for("status", where=lambda m, t=text: m["message"] == t)

        # A frame from the client closes it (4400); the others stay.
        await clients[0].ws.send(json.dumps({"type": "hello"}))
        code, reason = await clients[0].wait_closed()
        assert (code, "'hello'" in reason) == (4400, True)
        # Leaving gives back its slot and its place in the channel.
        await clients[1].close()

        async def two_gone() -> bool:
            return (
                held_by_key(server, keys) == 1 and len(live.hub.connections(keys.account_id)) == 1
            )

        await eventually(two_gone, what="the two closed connections given back")
        assert live.connections["websocket"] == 1
        await bus.publish(keys.account_id, Status(status=StatusKind.IDLE, message="on").to_wire())
        await clients[2].wait_for("status", where=lambda m: m["message"] == "on")
        assert not clients[2].closed


class Silent:
    """A WebSocket client that reads but never answers (no pong, no close frame)."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url = url
        self.protocol = ClientProtocol(parse_uri(url), max_size=None)
        request = self.protocol.connect()
        for name, value in headers.items():
            request.headers[name] = value
        self.protocol.send_request(request)
        self.events: list[Request | Response | Frame] = []

    async def run(self) -> None:
        """Connect, then read until the server closes the connection."""
        parts = urlsplit(self.url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        writer.write(b"".join(self.protocol.data_to_send()))  # the handshake only
        try:
            while chunk := await reader.read(65536):
                self.protocol.receive_data(chunk)
                self.events += self.protocol.events_received()
                self.protocol.data_to_send()  # owed pongs, dropped
        finally:
            writer.close()

    def frames(self, opcode: Opcode) -> list[Frame]:
        return [e for e in self.events if isinstance(e, Frame) and e.opcode is opcode]


@pytest.mark.parametrize("protocol", [LEAN, SANS_IO])
async def test_a_client_that_stops_answering_pings_is_closed_and_given_back(
    protocol: str, settings: Settings, database: Database, sim: Sim
) -> None:
    keys = await streamer(database, sim)
    keepalive = {"ws_ping_interval": 0.2, "ws_ping_timeout": 0.2, **options(protocol)}
    async with served(settings, **keepalive) as server:
        silent = Silent(server.ws, keys.headers)
        await asyncio.wait_for(silent.run(), LIVENESS)
        texts = [json.loads(bytes(frame.data)) for frame in silent.frames(Opcode.TEXT)]
        assert [m["type"] for m in texts][:2] == ["hello", "now_playing"]
        assert silent.frames(Opcode.PING), "pinged"
        (close,) = silent.frames(Opcode.CLOSE)
        assert close.data[:2] == (1011).to_bytes(2, "big")  # keepalive ping timeout

        live = server.live

        async def given_back() -> bool:
            return held_by_key(server, keys) == 0 and not live.hub.connections(keys.account_id)

        await eventually(given_back, what="the silent client's slot and channel given back")


def test_a_message_is_framed_once_for_every_socket() -> None:
    out = Outgoing.of({"type": "status", "message": "ü" * 200})
    frame = out.frame
    assert out.frame is frame  # made once, the same bytes for every socket
    payload = out.text.encode()
    # FIN and text; unmasked (a server's), a 16-bit length; then the UTF-8 text as is.
    assert frame[:2] == bytes([0x81, 126])
    assert int.from_bytes(frame[2:4], "big") == len(payload)
    assert frame[4:] == payload


def test_a_serving_process_collects_its_young_objects_less_often() -> None:
    """What the commands that serve do before serving (in a process of its own: this one's
    collector is left as it is): start-up's objects frozen, young collections every
    10,000 new objects."""
    code = (
        "import gc; from tunedeck.realtime.serving import freeze_startup_objects; "
        "freeze_startup_objects(); print(gc.get_threshold()[0], gc.get_freeze_count() > 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["10000", "True"]
