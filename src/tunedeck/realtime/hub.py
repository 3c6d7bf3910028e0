"""The hub: this process's live connections, fed by the bus.

One bus listener per account channel that has live connections here (not one per
socket; the bus itself holds one subscription per process). Each message is serialized
once and the same text is queued for every connection of the channel that may read its
type. A connection's queue is bounded: one that falls ``queue_size`` messages behind is
closed (4408), never buffered without bound, and never slows the others down, because
delivery only appends to queues and never waits.

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
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message and its serialized text (shared by every connection it is queued for)."""

    message: dict[str, Any]
    text: str

    @classmethod
    def of(cls, message: dict[str, Any]) -> Outgoing:
        return cls(message, serialize(message))

    @property
    def type(self) -> str:
        return str(self.message.get("type", ""))

    @property
    def id(self) -> int | None:
        value = self.message.get("id")
        return value if isinstance(value, int) else None


class Closed(Exception):  # noqa: N818 (reads as a state)
    """The connection was closed by the hub: too slow, revoked, or the server shuts down."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


class Connection:
    """One client's queue of messages from its account channel."""

    __slots__ = ("_queue", "_ready", "account_id", "closed", "queue_size", "reads")

    def __init__(self, account_id: uuid.UUID, reads: frozenset[str], queue_size: int) -> None:
        self.account_id = account_id
        self.reads = reads
        self.queue_size = queue_size
        self.closed: Closed | None = None
        self._queue: deque[Outgoing] = deque()
        self._ready = asyncio.Event()

    def offer(self, out: Outgoing) -> None:
        """Queue ``out`` if this connection reads its type; close the connection when full."""
        if self.closed is not None or out.type not in self.reads:
            return
        if len(self._queue) >= self.queue_size:
            self.close(
                CloseCode.TOO_SLOW,
                f"too slow: {len(self._queue)} messages waiting; reconnect with since",
            )
            return
        self._queue.append(out)
        self._ready.set()

    def close(self, code: int, reason: str) -> None:
        """End the connection: its reader gets :class:`Closed` instead of what is queued."""
        if self.closed is None:
            self.closed = Closed(code, reason)
            self._queue.clear()
            self._ready.set()

    def skip_through(self, message_id: int) -> None:
        """Drop queued messages whose id is at most ``message_id`` (a snapshot covered them)."""
        kept = [out for out in self._queue if out.id is None or out.id > message_id]
        self._queue.clear()
        self._queue.extend(kept)

    @property
    def pending(self) -> int:
        return len(self._queue)

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
            self._ready.clear()
            await self._ready.wait()


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
        if self.closing is not None:
            raise self.closing
        channel = self._channels.get(account_id)
        if channel is None:
            channel = _Channel(self.bus.listen(account_id, self._deliverer(account_id)))
            self._channels[account_id] = channel
        connection = Connection(account_id, reads, self.queue_size)
        channel.connections.add(connection)
        try:
            yield connection
        finally:
            channel.connections.discard(connection)
            if not channel.connections and self._channels.get(account_id) is channel:
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
            if message.get("type") == "event":
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
