"""A lean WebSocket for the live feed: uvicorn's sans-I/O protocol, able to *hold* a
connection once the app is done with it.

A feed connection spends its life idle, getting a message now and then. Served as an
ASGI app to its end, it keeps a task, the coroutines of every middleware and of the
route around it, a reader, a sender and their queues: some 200 objects and 40 KiB per
connection, which each full garbage collection walks while the event loop waits. Held,
it is this protocol, the ``websockets`` state machine under it and the hub's connection:
the app's call returns once the opening is sent (its access line is written then), and
from then on

- a message is written to the transport as the hub delivers it, as bytes framed once
  for every socket (``hub.Outgoing.frame``); while the socket's buffer is full
  (:meth:`try_send` false) the hub keeps what waits in the connection's bounded queue,
  until :meth:`resume_writing` tells the holder to send it;
- what the client sends is handed to the holder as it arrives (``received``), and its
  end (a close frame, the connection lost, no answer to a ping) once (``lost``);
- the keep-alive pings (every ``ws_ping_interval``, closing after ``ws_ping_timeout``
  without a pong) and the closing handshake are uvicorn's.

The app asks for it through the ASGI extension :data:`HOLD`. Under another server, or
another of uvicorn's protocols, the extension is absent and the feed serves the
connection as an ASGI app to its end. ``serving.uvicorn_options`` selects this protocol.
It builds on uvicorn's own (0.53 and later: the closing handshake's timer, ``disconnected``),
overriding only the steps a held connection does differently; the tests of
``tests/realtime/test_feed_held.py`` run both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, Protocol, cast

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request
from websockets.protocol import State

HOLD = "tunedeck.websocket.hold"
"""The ASGI extension (``scope["extensions"]``) offering :meth:`LeanWebSocketProtocol.hold`
as ``{"hold": ...}``."""


class Holder(Protocol):
    """Who holds a connection (the feed): told what happens, from the event loop, never
    from within :meth:`LeanWebSocketProtocol.hold`."""

    def received(self, message: Mapping[str, Any]) -> None:
        """The client sent a message (ASGI ``websocket.receive``: ``text`` or ``bytes``)."""
        ...

    def writable_again(self) -> None:
        """The socket's buffer drained: what waits may be sent."""
        ...

    def lost(self) -> None:
        """The connection is over (the client left, or the closing ended): once."""
        ...


class HeldSocket(Protocol):
    """A held connection, as its holder writes to it."""

    def try_send(self, frame: bytes) -> bool:
        """Write a serialized server frame, unless the socket's buffer is full (False:
        the holder is told ``writable_again`` once it drains); dropped once closing."""
        ...

    def send_frame(self, frame: bytes) -> None:
        """Write a serialized server frame whatever the buffer holds (nothing once closing)."""
        ...

    def send_close(self, code: int, reason: str, *, within: float) -> None:
        """Start the closing handshake, the transport closed ``within`` seconds if the
        client does not answer (then the holder is told it is ``lost``); nothing when
        closing already."""
        ...


Hold = Callable[[Holder], HeldSocket]
"""What :data:`HOLD` offers: hold the connection for this holder, get its socket."""


def hold_offered(scope: Mapping[str, Any]) -> Hold | None:
    """The ``hold`` of :data:`HOLD` in ``scope``, or None when the server offers none."""
    extension = (scope.get("extensions") or {}).get(HOLD)
    return cast(Hold, extension["hold"]) if isinstance(extension, dict) else None


class _Discard(asyncio.Queue[Any]):
    """Where uvicorn's protocol puts the ASGI events of a held connection, read by no one
    (its holder is told instead): one for all of them."""

    def put_nowait(self, item: Any) -> None:
        pass


_DISCARD = _Discard()


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's ``websockets-sansio`` protocol, plus :meth:`hold` (module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.holder: Holder | None = None
        self._handed_over = False

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if self.response.status_code == 101 and not self.conn.extensions:
            # (A compressed connection's frames are its own: it is not offered.)
            self.scope.setdefault("extensions", {})[HOLD] = {"hold": self.hold}

    def hold(self, holder: Holder) -> HeldSocket:
        """Keep the connection once the app returns: ``holder`` gets what comes from now
        on (messages the app had not read first), the app writes frames with the socket
        returned."""
        if self.holder is not None:
            raise RuntimeError("this connection is held already")
        self.holder = holder
        # The extension's reference back to this protocol goes, and with it the cycle:
        # a closed connection is freed at once, not at the next garbage collection.
        extensions = self.scope.get("extensions") or {}
        extensions.pop(HOLD, None)
        self.loop.call_soon(self._hand_over)
        return self

    def _hand_over(self) -> None:
        """Give the holder what arrived before it held the connection (once, before
        anything that arrives later)."""
        if self._handed_over:
            return
        self._handed_over = True
        holder = self.holder
        while holder is not None and not self.queue.empty():
            message = self.queue.get_nowait()
            if message["type"] == "websocket.receive":
                holder.received(message)
            holder = self.holder
        if self.read_paused and not self.disconnected:
            self.read_paused = False
            self.transport.resume_reading()
        if self.disconnected:
            self._tell_lost()

    # -- the held socket (HeldSocket) ---------------------------------------------------

    def try_send(self, frame: bytes) -> bool:
        # Called for every message to every socket: as little as can be.
        if not self.writable.is_set():
            return False
        if not (self.close_sent or self.transport.is_closing()):
            self.transport.write(frame)
        return True

    def send_frame(self, frame: bytes) -> None:
        if not self._closing:
            self.transport.write(frame)

    def send_close(self, code: int, reason: str, *, within: float) -> None:
        if self._closing:
            return
        self.conn.send_close(code, reason)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        # Given up on then: a client that does not read would keep the buffer (and its
        # slot) for as long as it likes.
        self.close_timer = self.loop.call_later(within, self.transport.abort)

    @property
    def _closing(self) -> bool:
        return self.close_sent or self.conn.state is not State.OPEN or self.transport.is_closing()

    # -- uvicorn's protocol, told apart when held -------------------------------------------

    def send_receive_event_to_app(self) -> None:
        if self.holder is None:
            super().send_receive_event_to_app()
            return
        self._hand_over()
        holder = self.holder
        if holder is None:  # lost meanwhile
            return
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        if self.close_sent:
            return
        if self.curr_msg_data_type == "bytes":
            holder.received({"type": "websocket.receive", "bytes": data})
            return
        try:
            text = data.decode()
        except UnicodeDecodeError:  # the parser checks UTF-8 first: never seen
            self.conn.send_close(1007)
            self.handle_parser_exception()
            return
        holder.received({"type": "websocket.receive", "text": text})

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.holder is not None:
            self.holder.writable_again()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        (self.scope.get("extensions") or {}).pop(HOLD, None)
        self._tell_lost()

    def _tell_lost(self) -> None:
        holder, self.holder = self.holder, None
        if holder is not None:
            holder.lost()

    async def run_asgi(self) -> None:
        # uvicorn's, but a held connection stays open when the app returns.
        try:
            result = await self.app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except BaseException:
            self.logger.exception("Exception in ASGI application\n")
            self.send_500_response()
            self._tell_lost()
        else:
            if not self.handshake_complete:
                self.logger.error("ASGI callable returned without completing handshake.")
                self.send_500_response()
            elif result is not None:
                self.logger.error("ASGI callable should return None, but returned '%s'.", result)
            if self.holder is not None and not self.disconnected:
                self._hand_over()
                self._travel_light()
                return
        if self.close_timer is None:
            self.transport.close()

    def _travel_light(self) -> None:
        """Drop what only the app's call needed (its scope, the handshake's request and
        response, the queue of ASGI events): half of what a held connection kept."""
        self.scope = {"type": "websocket", "client": self.client}  # type: ignore[typeddict-item]
        self.request = self.response = None  # type: ignore[assignment]
        self.queue = _DISCARD
