"""What every live client goes through, whatever carries it (WebSocket, SSE, GraphQL).

A door authenticates its client, then opens a :class:`LiveStream` (:meth:`Live.stream`)
and only encodes and writes what the stream gives, in order:

- the **opening**: ``hello``; when resuming, the events missed since the client's last
  id (loaded from ``platform_events``) or a ``reset``; then a fresh ``now_playing``
  (and a ``status`` when there is something to say);
- then what the client's account channel carries, those already covered by the
  opening skipped, so a client sees each event once, in order.

Each message reaches only a client that may read its type (``LiveClient.reads``, from
its permissions), and only the types the door asked for (``only``: a GraphQL
subscription takes one). A new message type is added here and in the client's reads,
and every door carries it.

Opening a stream joins the client to its account channel in the hub, reports it to the
watched registry (so its account is polled) and to the revocation checks (so that
revoking its credential closes it); :meth:`LiveStream.close` undoes all of it. A door
pulls the stream (``async for``, or :meth:`LiveStream.next_within` to send keep-alives
while idle), or, once the opening is sent, has it pushed to a socket
(:meth:`LiveStream.push_to`: the lean WebSocket of ``lean_ws``, no task per connection).

One ``Live`` per serving process (``tunedeck.runtime.Runtime.live``); the doors reach it
with :func:`live_of`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any, Literal, Protocol

from starlette.requests import HTTPConnection

from tunedeck.config import Settings
from tunedeck.events import repository as events_repository
from tunedeck.events.bus import EventBus, History
from tunedeck.events.schemas import event_message
from tunedeck.events.service import event_out
from tunedeck.kit.db import Database
from tunedeck.kit.deps import runtime_of
from tunedeck.kit.errors import describe, is_database_unavailable
from tunedeck.realtime.caps import ConnectionCaps, ConnectionKind
from tunedeck.realtime.credentials import LiveClient
from tunedeck.realtime.hub import Closed, Connection, Hub, Outgoing, Writer
from tunedeck.realtime.messages import Hello, Reset
from tunedeck.realtime.protocol import BUSY_REASON, CloseCode
from tunedeck.realtime.revocation import Revocations
from tunedeck.realtime.snapshot import Snapshots

logger = logging.getLogger(__name__)

# What ``hello`` lists as readable (hello and reset reach every client).
READABLE: tuple[Literal["now_playing", "event", "status", "request", "play"], ...] = (
    "now_playing",
    "event",
    "status",
    "request",
    "play",
)
#: The message types made from stored events, replayed to a resuming client.
_STORED = frozenset({"event", "request"})


class Watch(Protocol):
    """The watched registry as the hub uses it (``realtime.watch.WatchRegistry``)."""

    def connected(self, account_id: uuid.UUID) -> None: ...

    def disconnected(self, account_id: uuid.UUID) -> None: ...


class Live:
    """The live pieces of a serving process. ``connections``: the clients attached now,
    by what carries them (read by ``/metrics``); ``caps``: the connections open now,
    counted against their caps (every door takes its slots); ``watch``: where each
    client's account is reported as watched."""

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        bus: EventBus,
        hub: Hub,
        revocations: Revocations,
        snapshots: Snapshots,
        caps: ConnectionCaps,
        watch: Watch | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.bus = bus
        self.hub = hub
        self.revocations = revocations
        self.snapshots = snapshots
        self.caps = caps
        self.watch = watch
        self.connections: Counter[ConnectionKind] = Counter()

    @contextmanager
    def stream(
        self,
        client: LiveClient,
        kind: ConnectionKind,
        since: int | None = None,
        *,
        only: Collection[str] | None = None,
    ) -> Iterator[LiveStream]:
        """The client's stream (module doc) for the block; raises :class:`Closed` when the
        process is shutting down."""
        stream = self.open_stream(client, kind, since, only=only)
        try:
            yield stream
        finally:
            stream.close()

    def open_stream(
        self,
        client: LiveClient,
        kind: ConnectionKind,
        since: int | None = None,
        *,
        only: Collection[str] | None = None,
    ) -> LiveStream:
        """The client's stream until its :meth:`~LiveStream.close` (:meth:`stream` for a
        block; this for a connection that outlives the code opening it)."""
        reads = client.reads if only is None else client.reads & frozenset(only)
        return LiveStream(self, client, kind, since, reads)

    async def opening(
        self, client: LiveClient, connection: Connection, since: int | None
    ) -> list[Outgoing]:
        """The first messages of a connection (attached already, so nothing published
        meanwhile is lost); live messages they cover are dropped from its queue.

        The database unable to serve them just now closes the connection with 1013
        (raised as :class:`Closed`, as every door handles a closed connection)."""
        try:
            return await self._opening(client, connection, since)
        except Exception as exc:
            if not is_database_unavailable(exc):
                raise
            logger.warning(
                "live: database unavailable at a connection's opening: %s", describe(exc)
            )
            connection.close(CloseCode.TRY_AGAIN_LATER, BUSY_REASON)
            raise Closed(CloseCode.TRY_AGAIN_LATER, BUSY_REASON) from None

    async def _opening(
        self, client: LiveClient, connection: Connection, since: int | None
    ) -> list[Outgoing]:
        account_id = client.account_id
        history = await self.bus.history(account_id, since)
        head = history.head
        resumable = since is not None and history.covers(since)
        messages: list[dict[str, Any]] = [
            Hello(
                id=since if resumable else head,
                account_id=account_id,
                reads=[kind for kind in READABLE if kind in client.reads],
            ).to_wire()
        ]
        if since is not None:
            replay = await self._replay(client, history) if resumable else None
            if replay is None:
                reason = _reset_reason(since, history)
                messages.append(Reset(id=head, reason=reason).to_wire())
            else:
                messages += replay
        snapshot = await self.snapshots.now_playing(account_id)
        messages.append(snapshot.now_playing.model_copy(update={"id": head}).to_wire())
        if snapshot.status is not None:
            messages.append(snapshot.status.model_copy(update={"id": head}).to_wire())
        connection.skip_through(head)
        return [Outgoing.of(m) for m in messages]

    async def _replay(self, client: LiveClient, history: History) -> list[dict[str, Any]] | None:
        """The missed events as messages, in order; None when one cannot be loaded."""
        if not (_STORED & client.reads) or not history.events:
            return []
        wanted = [event_id for _, event_id in history.events]
        async with self.db.session() as session:
            rows = await events_repository.events_by_ids(session, client.account_id, wanted)
        found = {row.id: event_out(row) for row in rows}
        if len(found) < len(set(wanted)):
            # Published but not stored yet (the store lags behind the bus): not replayable.
            logger.info("resume: %d missed events not stored yet", len(set(wanted)) - len(found))
            return None
        return [
            {**event_message(found[eid].model_dump(mode="json")), "id": mid}
            for mid, eid in history.events
        ]


class LiveRuntime(Protocol):
    """The part of the process's runtime the live doors read (``kit.deps``): a serving
    process has its live pieces, a worker none."""

    @property
    def live(self) -> Live | None: ...


def live_of(conn: HTTPConnection) -> Live:
    """The live pieces of the process serving ``conn``."""
    runtime: LiveRuntime = runtime_of(conn)
    if runtime.live is None:
        raise RuntimeError("a live client of a process that serves none")
    return runtime.live


def _reset_reason(since: int, history: History) -> str:
    if since > history.head:
        return f"message {since} is unknown here (the channel's counter started over)"
    if since < history.floor:
        return f"message {since} is too old to resume from"
    return "the missed events are not stored yet"


class LiveStream:
    """One live client's messages, in order (module doc): what a door iterates.

    ``async for out in stream`` gives the opening, then each message of the channel as it
    comes, until the connection is closed (:class:`Closed`: too slow, revoked, the
    process stopping; the door closes its client with that code).
    """

    __slots__ = (
        "_live",
        "_opened",
        "_pending",
        "_revocation",
        "_watch",
        "client",
        "connection",
        "kind",
        "since",
    )

    def __init__(
        self,
        live: Live,
        client: LiveClient,
        kind: ConnectionKind,
        since: int | None,
        reads: frozenset[str],
    ) -> None:
        self._live = live
        self.client = client
        self.kind = kind
        self.since = since
        self.connection = live.hub.join(client.account_id, reads)
        live.connections[kind] += 1
        self._revocation: int | None = live.revocations.add(client.credential, self._revoked)
        self._watch = live.watch
        if self._watch is not None:
            self._watch.connected(client.account_id)
        self._opened = False
        self._pending: list[Outgoing] | None = None  # the opening's unsent part, reversed

    def __aiter__(self) -> LiveStream:
        return self

    async def __anext__(self) -> Outgoing:
        return await self.next()

    async def opening(self) -> list[Outgoing]:
        """The opening's messages, made once, for a door that sends them itself before
        :meth:`push_to`; what it may read only."""
        if self._opened:
            raise RuntimeError("the opening of this stream was made already")
        self._opened = True
        messages = await self._live.opening(self.client, self.connection, self.since)
        reads = self.connection.reads
        return [out for out in messages if out.type in reads]

    async def next(self) -> Outgoing:
        """The next message, waiting for it; :class:`Closed` once the connection is."""
        out = await self._opening_next()
        return out if out is not None else await self.connection.next()

    async def next_within(self, seconds: float) -> Outgoing | None:
        """The next message, or None when none came within ``seconds`` (a keep-alive is
        due); :class:`Closed` once the connection is."""
        out = await self._opening_next()
        if out is not None:
            return out
        try:
            async with asyncio.timeout(seconds):
                return await self.connection.next()
        except TimeoutError:
            return None

    def push_to(self, writer: Writer) -> None:
        """Once the opening is sent: write every later message to ``writer`` as it arrives
        (``writer`` hears of the connection's close too)."""
        if not self._opened or self._pending:
            raise RuntimeError("push_to() before the opening was sent")
        self.connection.push_to(writer)

    def close(self) -> None:
        """Leave the channel, the watched registry and the revocation checks (once)."""
        if self._revocation is None:
            return
        live, account_id = self._live, self.client.account_id
        live.revocations.discard(self.client.credential, self._revocation)
        self._revocation = None
        live.hub.leave(self.connection)
        live.connections.subtract((self.kind,))
        if self._watch is not None:
            self._watch.disconnected(account_id)

    async def _opening_next(self) -> Outgoing | None:
        if not self._opened:
            self._pending = list(reversed(await self.opening()))
        pending = self._pending
        if not pending:
            return None
        out = pending.pop()
        if not pending:
            self._pending = None
        return out

    def _revoked(self) -> None:
        self.connection.close(CloseCode.UNAUTHENTICATED, "credential revoked")
