"""What every live client goes through, whatever carries it (WebSocket, SSE, GraphQL).

:meth:`Live.attach` joins the client to its account channel in the hub, reports it to
the watched registry (so its account is polled) and to the revocation checks (so that
revoking its credential closes it). :meth:`Live.opening` makes the first messages:
``hello``; when resuming, the events missed since the client's last id (loaded from
``platform_events``) or a ``reset``; then a fresh ``now_playing``. Live messages
follow, those already covered by the opening skipped, so a client sees each event
once, in order.

One ``Live`` per serving process (``tunedeck.runtime.Runtime.live``); the doors reach it
with :func:`live_of`.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, Literal, Protocol

from starlette.requests import HTTPConnection

from tunedeck.config import Settings
from tunedeck.events import repository as events_repository
from tunedeck.events.bus import EventBus, History
from tunedeck.events.service import event_out
from tunedeck.kit.db import Database
from tunedeck.kit.deps import runtime_of
from tunedeck.kit.errors import describe, is_database_unavailable
from tunedeck.realtime.caps import ConnectionCaps, ConnectionKind
from tunedeck.realtime.credentials import LiveClient
from tunedeck.realtime.hub import Closed, Connection, Hub, Outgoing
from tunedeck.realtime.messages import Event, Hello, Reset
from tunedeck.realtime.protocol import BUSY_REASON, CloseCode
from tunedeck.realtime.revocation import Revocations
from tunedeck.realtime.snapshot import Snapshots

logger = logging.getLogger(__name__)

# What ``hello`` lists as readable (hello and reset reach every client).
READABLE: tuple[Literal["now_playing", "event", "status"], ...] = ("now_playing", "event", "status")


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
    def attach(self, client: LiveClient, kind: ConnectionKind) -> Iterator[Connection]:
        """The client's connection to its channel, watched and revocable, for the block."""
        with ExitStack() as stack:
            connection = stack.enter_context(self.hub.connect(client.account_id, client.reads))
            self.connections[kind] += 1
            stack.callback(self.connections.subtract, (kind,))

            def revoked() -> None:
                connection.close(CloseCode.UNAUTHENTICATED, "credential revoked")

            stack.enter_context(self.revocations.watch(client.credential, revoked))
            watch = self.watch
            if watch is not None:
                watch.connected(client.account_id)
                stack.callback(watch.disconnected, client.account_id)
            yield connection

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
        if "event" not in client.reads or not history.events:
            return []
        wanted = [event_id for _, event_id in history.events]
        async with self.db.session() as session:
            rows = await events_repository.events_by_ids(session, client.account_id, wanted)
        found = {row.id: event_out(row) for row in rows}
        if len(found) < len(set(wanted)):
            # Published but not stored yet (the store lags behind the bus): not replayable.
            logger.info("resume: %d missed events not stored yet", len(set(wanted)) - len(found))
            return None
        return [Event(id=mid, event=found[eid]).to_wire() for mid, eid in history.events]


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
