"""A light WebSocket client for the fan-out bench: thousands of them in one process.

Each probe is an asyncio protocol around websockets' sans-I/O ``ClientProtocol`` (the
library does the handshake and the framing): no task per connection, and a message's
arrival is stamped as its bytes are read, before any JSON is parsed, so what is timed
is the server's delivery rather than this process working through thousands of
clients one after another.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

Arrival = Callable[["Probe", bytes, float], None]


class Probe(asyncio.Protocol):
    """One WebSocket connection; ``on_text(probe, payload, arrived)`` per text frame."""

    def __init__(self, url: str, headers: dict[str, str], on_text: Arrival) -> None:
        self.connection = ClientProtocol(parse_uri(url), max_size=None)
        self.headers = headers
        self.on_text = on_text
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.texts = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        request = self.connection.connect()
        for name, value in self.headers.items():
            request.headers[name] = value
        self.connection.send_request(request)
        self._flush()

    def data_received(self, data: bytes) -> None:
        arrived = time.perf_counter()
        self.connection.receive_data(data)
        for event in self.connection.events_received():
            if isinstance(event, Response):
                if event.status_code == 101:
                    self.opened.set_result(None)
                else:
                    self.opened.set_exception(RuntimeError(f"handshake: {event.status_code}"))
            elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                self.texts += 1
                self.on_text(self, bytes(event.data), arrived)
        self._flush()  # pongs and close frames the protocol owes the server

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.connection.send_close(1000)
            self._flush()
            self.transport.close()

    def _flush(self) -> None:
        if self.transport is not None:
            for chunk in self.connection.data_to_send():
                if chunk:
                    self.transport.write(chunk)


async def open_probe(
    host: str, port: int, url: str, headers: dict[str, str], on_text: Arrival
) -> Probe:
    """A probe connected and past its handshake."""
    loop = asyncio.get_running_loop()
    _, probe = await loop.create_connection(lambda: Probe(url, headers, on_text), host, port)
    await probe.opened
    return probe
