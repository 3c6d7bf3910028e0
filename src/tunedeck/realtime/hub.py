"""The hub: this process's live connections, fed by the bus.

One bus listener per account channel that has live connections here (not one per
socket; the bus itself holds one subscription per process). Each message is serialized
once (and framed once for the WebSockets that take frames) and the same text is handed
to every connection of the channel that may read its type. A connection is either
*pulled* (its door awaits :meth:`Connection.next`) or *pushed* to a :class:`Writer` (a
held WebSocket, written to as the message arrives). Either way what waits is bounded: a
connection that falls ``queue_size`` messages behind is closed (4408), never buffered
without bound, and never slows the others down, because delivery only appends to queues
or writes to sockets that take it now, and never waits.

The hub is one of the live pieces of a serving process (``realtime.live.Live``); the
WebSocket and SSE feeds and the GraphQL subscriptions each hold one :class:`Connection`
per client. The latest ``now_playing`` heard on a channel goes to the now-playing store
(``player.now_playing``), for as long as the channel is listened to here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from websockets.frames import Frame, Opcode

from tunedeck.events.bus import EventBus
from tunedeck.player.now_playing import NowPlayingStore
from tunedeck.realtime.protocol import CloseCode

logger = logging.getLogger(__name__)

QUEUE_SIZE = 256
# Event ids remembered per channel to drop a redelivered event (the relay is at least once).
RECENT_EVENTS = 512


def serialize(message: dict[str, Any]) -> str:
    """The one JSON text of a message, as every client of the channel receives it."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


@dataclass(slots=True)
class Outgoing:
    """A message and its serialized text (shared by every connection it is queued for)."""

    message: dict[str, Any]
    text: str
    type: str = field(init=False, compare=False)
    """The message's ``type`` (read once per connection it is offered to)."""
    _frame: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.type = str(self.message.get("type", ""))

    @classmethod
    def of(cls, message: dict[str, Any]) -> Outgoing:
        return cls(message, serialize(message))

    @property
    def id(self) -> int | None:
        value = self.message.get("id")
        return value if isinstance(value, int) else None

    @property
    def frame(self) -> bytes:
        """The text as one WebSocket text frame from a server (unmasked, no extension),
        made by the first socket that sends it and written as is by all the others."""
        if self._frame is None:
            frame = Frame(Opcode.TEXT, self.text.encode())
            self._frame = frame.serialize(mask=False, extensions=[])
        return self._frame


class Closed(Exception):  # noqa: N818 (reads as a state)
    """The connection was closed by the hub: too slow, revoked, or the server shuts down."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


class Writer(Protocol):
    """Where a pushed connection's messages go: a socket written to as they arrive."""

    def send(self, out: Outgoing) -> bool:
        """Write ``out`` now; False when the socket takes nothing now (its buffer is full:
        the writer calls :meth:`Connection.resume` once it drains)."""
        ...

    def closed(self, closed: Closed) -> None:
        """The hub closed the connection: close the socket with ``closed``'s code."""
        ...


class Connection:
    """One client's messages from its account channel, pulled (:meth:`next`) or pushed
    (:meth:`push_to`). Waiting messages are kept only while the client lags: a pushed
    connection whose socket takes them holds none."""

    __slots__ = ("_queue", "_waiter", "_writer", "account_id", "closed", "queue_size", "reads")

    def __init__(self, account_id: uuid.UUID, reads: frozenset[str], queue_size: int) -> None:
        self.account_id = account_id
        self.reads = reads
        self.queue_size = queue_size
        self.closed: Closed | None = None
        self._queue: deque[Outgoing] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._writer: Writer | None = None

    def offer(self, out: Outgoing) -> None:
        """Deliver ``out`` if this connection reads its type: written at once to a pushed
        connection's socket when it takes it, else queued; the connection is closed when
        ``queue_size`` messages wait."""
        if self.closed is not None or out.type not in self.reads:
            return
        writer = self._writer
        if writer is not None and not self._queue and self._send(writer, out):
            return
        queue = self._queue
        if queue is None:
            queue = self._queue = deque()
        if len(queue) >= self.queue_size:
            self.close(
                CloseCode.TOO_SLOW, f"too slow: {len(queue)} messages waiting; reconnect with since"
            )
            return
        queue.append(out)
        self._wake()

    def close(self, code: int, reason: str) -> None:
        """End the connection: its reader gets :class:`Closed` instead of what is queued, its
        writer is told to close its socket."""
        if self.closed is not None:
            return
        self.closed = Closed(code, reason)
        self._queue = None
        self._wake()
        if self._writer is not None:
            self._writer.closed(self.closed)

    def skip_through(self, message_id: int) -> None:
        """Drop queued messages whose id is at most ``message_id`` (a snapshot covered them)."""
        if self._queue:
            kept = [out for out in self._queue if out.id is None or out.id > message_id]
            self._queue = deque(kept) if kept else None

    @property
    def pending(self) -> int:
        return len(self._queue) if self._queue is not None else 0

    def next_nowait(self) -> Outgoing | None:
        """The next message if one is queued; raises :class:`Closed` once closed."""
        if self.closed is not None:
            raise self.closed
        return self._queue.popleft() if self._queue else None

    async def next(self) -> Outgoing:
        """The next message, waiting for it; raises :class:`Closed` once closed."""
        while True:
            out = self.next_nowait()
            if out is not None:
                return out
            # One future at a time, made only while waiting (no Event per connection).
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None

    def push_to(self, writer: Writer) -> None:
        """From now on write every message to ``writer`` as it arrives (those waiting
        first); :meth:`resume` once it is writable again after it was not."""
        self._writer = writer
        if self.closed is not None:
            writer.closed(self.closed)
        else:
            self.resume()

    def resume(self) -> None:
        """The writer takes messages again: write what waits, while it takes them."""
        writer, queue = self._writer, self._queue
        if writer is None or self.closed is not None:
            return
        while queue and self._send(writer, queue[0]):
            if self.closed is not None:
                return
            queue.popleft()
        if queue is not None and not queue:
            self._queue = None

    def _send(self, writer: Writer, out: Outgoing) -> bool:
        """Whether ``writer`` took ``out`` (or the connection ended trying)."""
        try:
            return writer.send(out)
        except Exception:
            # One broken socket must not stop the channel's delivery to the others.
            logger.exception("live: writing to a connection failed")
            self.close(CloseCode.INTERNAL_ERROR, "internal error")
            return True

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class _Channel:
    """An account's connections in this process and what the hub remembers of it."""

    def __init__(self, stop: Callable[[], None]) -> None:
        self.stop = stop
        self.connections: set[Connection] = set()
        self.recent_events: OrderedDict[str, None] = OrderedDict()

    def seen(self, event_id: str) -> bool:
        """Whether the event was delivered already (remembering it if not)."""
        if event_id in self.recent_events:
            return True
        self.recent_events[event_id] = None
        if len(self.recent_events) > RECENT_EVENTS:
            self.recent_events.popitem(last=False)
        return False


class Hub:
    """This process's live connections by account channel."""

    def __init__(
        self, bus: EventBus, *, now_playing: NowPlayingStore, queue_size: int = QUEUE_SIZE
    ) -> None:
        self.bus = bus
        self.now_playing = now_playing
        self.queue_size = queue_size
        self.closing: Closed | None = None
        self._channels: dict[uuid.UUID, _Channel] = {}

    @property
    def connection_count(self) -> int:
        return sum(len(c.connections) for c in self._channels.values())

    @property
    def channel_count(self) -> int:
        return len(self._channels)

    @contextmanager
    def connect(self, account_id: uuid.UUID, reads: frozenset[str]) -> Iterator[Connection]:
        """A connection to the account's channel for as long as the block runs.

        Raises :class:`Closed` when the hub is shutting down.
        """
        connection = self.join(account_id, reads)
        try:
            yield connection
        finally:
            self.leave(connection)

    def join(self, account_id: uuid.UUID, reads: frozenset[str]) -> Connection:
        """A connection to the account's channel until :meth:`leave` (what :meth:`connect`
        does for a block, for a connection that outlives the code opening it).

        Raises :class:`Closed` when the hub is shutting down.
        """
        if self.closing is not None:
            raise self.closing
        channel = self._channels.get(account_id)
        if channel is None:
            channel = _Channel(self.bus.listen(account_id, self._deliverer(account_id)))
            self._channels[account_id] = channel
        connection = Connection(account_id, reads, self.queue_size)
        channel.connections.add(connection)
        return connection

    def leave(self, connection: Connection) -> None:
        """Take ``connection`` off its channel (the channel's listener goes with the last)."""
        account_id = connection.account_id
        channel = self._channels.get(account_id)
        if channel is None:
            return
        channel.connections.discard(connection)
        if not channel.connections:
            del self._channels[account_id]
            channel.stop()
            self.now_playing.stop_announcing(account_id)

    def connections(self, account_id: uuid.UUID) -> list[Connection]:
        """The account's connections in this process (closed ones until their client ends)."""
        channel = self._channels.get(account_id)
        return list(channel.connections) if channel is not None else []

    def close_all(
        self, code: int = CloseCode.GOING_AWAY, reason: str = "server shutting down"
    ) -> None:
        """Close every connection (and refuse new ones): the process is stopping."""
        self.closing = Closed(code, reason)
        for channel in list(self._channels.values()):
            for connection in list(channel.connections):
                connection.close(code, reason)

    def _deliverer(self, account_id: uuid.UUID) -> Callable[[dict[str, Any]], None]:
        def deliver(message: dict[str, Any]) -> None:
            channel = self._channels.get(account_id)
            if channel is None:
                return
            if message.get("type") in ("event", "request"):
                event = message.get("event")
                event_id = event.get("id") if isinstance(event, dict) else None
                if event_id is not None and channel.seen(str(event_id)):
                    return
            out = Outgoing.of(message)
            if out.type == "now_playing":
                self.now_playing.announce(account_id, message)
            for connection in list(channel.connections):
                connection.offer(out)

        return deliver
