"""A light WebSocket client for the fan-out bench: ten thousand of them in one process.

Each probe is an asyncio protocol around websockets' sans-I/O ``ClientProtocol`` (the
library does the handshake and the framing): no task per connection. While a round is
timed, a probe does no more per read than look for the round's marker in the bytes
(:meth:`Probe.expect`) and stamp when it came; parsing what was read (and answering the
server's pings) waits for :meth:`Probe.catch_up` between rounds. So what is timed is the
server's delivery rather than this process parsing ten thousand frames one after
another on a shared core.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import cast

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

Spotted = Callable[["Probe"], None]


class Probe(asyncio.Protocol):
    """One WebSocket connection: counts the text frames it parsed (``texts``) and stamps
    when the marker it expects arrives (``spotted_at``, then ``on_spotted(probe)``)."""

    def __init__(self, url: str, headers: dict[str, str], on_spotted: Spotted) -> None:
        self.connection = ClientProtocol(parse_uri(url), max_size=None)
        self.headers = headers
        self.on_spotted = on_spotted
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.texts = 0
        self.closed = False
        self.marker = b""
        self.spotted_at: float | None = None
        self._tail = b""  # the last bytes read, for a marker cut across two reads
        self._unread: list[bytes] | None = None  # while parsing waits: what was read

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's transports are asyncio.Transport in all but name.)
        self.transport = cast(asyncio.Transport, transport)
        request = self.connection.connect()
        for name, value in self.headers.items():
            request.headers[name] = value
        self.connection.send_request(request)
        self._flush()

    def expect(self, marker: bytes) -> None:
        """Stamp the arrival of ``marker``; parse nothing until :meth:`catch_up`."""
        self.marker = marker
        self.spotted_at = None
        self._tail = b""
        if self._unread is None:
            self._unread = []

    def data_received(self, data: bytes) -> None:
        if self.marker and self.spotted_at is None:
            arrived = time.perf_counter()
            if self.marker in (self._tail + data if self._tail else data):
                self.spotted_at = arrived
                self.on_spotted(self)
            else:
                self._tail = data[-len(self.marker) :]
        if self._unread is not None:
            self._unread.append(data)
        else:
            self._parse(data)

    def catch_up(self) -> None:
        """Parse what was read meanwhile (pongs owed included), and parse as it comes again."""
        unread, self._unread = self._unread, None
        self.marker = b""
        for data in unread or ():
            self._parse(data)

    def _parse(self, data: bytes) -> None:
        self.connection.receive_data(data)
        for event in self.connection.events_received():
            if isinstance(event, Response):
                if event.status_code == 101:
                    self.opened.set_result(None)
                else:
                    self.opened.set_exception(RuntimeError(f"handshake: {event.status_code}"))
            elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                self.texts += 1
        self._flush()  # pongs and close frames the protocol owes the server

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
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
    host: str, port: int, url: str, headers: dict[str, str], on_spotted: Spotted
) -> Probe:
    """A probe connected and past its handshake."""
    loop = asyncio.get_running_loop()
    _, probe = await loop.create_connection(lambda: Probe(url, headers, on_spotted), host, port)
    await probe.opened
    return probe
