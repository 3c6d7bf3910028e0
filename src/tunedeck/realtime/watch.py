"""The watched registry: which accounts someone is looking at, as every process sees it.

An account is *watched* while a live client of it (a feed, an SSE stream, a GraphQL
subscription, a page) is connected to any process, for a linger after its last client
left (a reload or a reconnect does not stop its polling), while a manual-connect
window is open, while it has song requests on their way (queued, handed to Spotify or
playing: they must play with no overlay open), and while it has a stream open with the
history on (every song of a stream is kept, whatever is open on screen). The pollers of
every process decide what to poll from it, so it cannot live in one process's memory:
each process writes heartbeats for the accounts its clients watch into
``realtime_watchers`` and renews them every few seconds; a row ends ``linger`` seconds
after its last renewal, which is when its last client left.

The hub calls :meth:`WatchRegistry.connected` and :meth:`WatchRegistry.disconnected`
for every live client (synchronous, from the event loop: nothing to await in a
connection handler). The counts are local; a supervised background loop turns them into
heartbeats, at once when an account gains its first client or loses its last one, and
every ``watch_heartbeat_seconds`` otherwise. The same loop does the housekeeping:
expired heartbeats of every process are deleted now and then.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable

from tunedeck.config import Settings
from tunedeck.history import repository as history_repository
from tunedeck.kit.background import Backoff, SupervisedTask, wait_any
from tunedeck.kit.db import Database, utcnow
from tunedeck.player import repository as player_repository
from tunedeck.realtime import repository
from tunedeck.requests import playback_repository as requests_repository

logger = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 60.0
"""How often a process deletes expired heartbeats (any process's)."""


class WatchRegistry:
    """This process's live clients per account, published as heartbeats; and the watched
    set of every process (:meth:`watched`). One per process (``Runtime.watch``).

    ``changed`` is set whenever an account gains its first client here: the poller of
    this process waits on it (and clears it), so polling starts without waiting for its
    next round. ``beats`` counts the heartbeat passes written, ``expired_deleted`` the
    rows housekeeping removed.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        process_id: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.process_id = process_id
        self.linger = settings.watch_linger_seconds
        # Without the history nothing records a stream's songs, nor closes it when idle.
        self.streams_watched = settings.history_enabled
        # A live account's row must be renewed before it can expire.
        self.interval = min(settings.watch_heartbeat_seconds, self.linger / 2)
        self.changed = asyncio.Event()
        self.beats = 0
        self.expired_deleted = 0
        self._clock = clock
        self._clients: dict[uuid.UUID, int] = {}
        # Accounts whose last client left, by when (clock): not yet written, then lingering.
        self._left: dict[uuid.UUID, float] = {}
        self._lingering: dict[uuid.UUID, float] = {}
        self._wake = asyncio.Event()
        self._next_housekeeping = 0.0
        self.task = SupervisedTask(
            "watch-heartbeats",
            self._run,
            backoff=Backoff(initial=min(0.5, self.interval), maximum=self.interval),
            logger=logger,
        )

    def __repr__(self) -> str:
        return f"WatchRegistry(process_id={self.process_id!r}, local={len(self._clients)})"

    # -- the hub's side ----------------------------------------------------------------

    def connected(self, account_id: uuid.UUID) -> None:
        """A live client of ``account_id`` connected to this process."""
        count = self._clients.get(account_id, 0)
        self._clients[account_id] = count + 1
        if count == 0:
            self._left.pop(account_id, None)
            self._lingering.pop(account_id, None)
            self._wake.set()
            self.changed.set()

    def disconnected(self, account_id: uuid.UUID) -> None:
        """A live client of ``account_id`` left (call once per :meth:`connected`)."""
        count = self._clients.get(account_id, 0)
        if count <= 0:
            logger.warning("watch: disconnected() without connected() for %s", account_id)
            return
        if count > 1:
            self._clients[account_id] = count - 1
            return
        del self._clients[account_id]
        self._left[account_id] = self._clock()
        self._wake.set()

    def clients(self, account_id: uuid.UUID) -> int:
        """How many live clients of the account this process has."""
        return self._clients.get(account_id, 0)

    def local(self) -> set[uuid.UUID]:
        """Accounts watched from this process: live clients, or left within the linger."""
        now = self._clock()
        lingering = {
            account
            for account, left_at in (*self._left.items(), *self._lingering.items())
            if now - left_at < self.linger
        }
        return set(self._clients) | lingering

    # -- everyone's side ---------------------------------------------------------------

    async def watched(self) -> set[uuid.UUID]:
        """Accounts watched in any process, with an open manual-connect window, with
        song requests on their way (they must play with no overlay open), or with a
        stream open while the history is on (its songs are kept with no overlay open).

        Includes this process's own clients even before their heartbeat is written.
        """
        async with self.db.session() as session:
            accounts = await repository.watched_accounts(session)
            accounts.update(await player_repository.accounts_in_manual_window(session, utcnow()))
            accounts.update(await requests_repository.accounts_with_requests(session))
            if self.streams_watched:
                accounts.update(await history_repository.accounts_streaming(session))
        return accounts | self.local()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the heartbeat loop."""
        await self.task.start()

    async def stop(self) -> None:
        """Stop the loop; its last pass starts the linger of every account watched here
        (the clients are going away with the process)."""
        await self.task.stop()

    async def beat(self) -> None:
        """Write the heartbeats now (the loop does this by itself; tests call it)."""
        live = set(self._clients)
        left = dict(self._left)
        if live or left:
            async with self.db.session() as session:
                await repository.beat(session, self.process_id, live | set(left), self.linger)
        self.beats += 1
        for account, left_at in left.items():
            # Written: the row now ends the linger after the client left. Keep it locally
            # too (the local view needs no database), unless it came back meanwhile.
            if self._left.get(account) == left_at:
                del self._left[account]
                self._lingering[account] = left_at
        now = self._clock()
        for account, left_at in list(self._lingering.items()):
            if now - left_at >= self.linger:
                del self._lingering[account]

    async def _run(self, stopping: asyncio.Event) -> None:
        try:
            while not stopping.is_set():
                self._wake.clear()
                await self.beat()
                await self._housekeeping()
                await wait_any(stopping, self._wake, within=self.interval)
        finally:
            if stopping.is_set():
                # The clients are leaving with the process: this last renewal starts their
                # linger, so another process keeps polling while they reconnect there.
                await self.beat()

    async def _housekeeping(self) -> None:
        now = self._clock()
        if now < self._next_housekeeping:
            return
        async with self.db.session() as session:
            self.expired_deleted += await repository.delete_expired(session)
        self._next_housekeeping = now + HOUSEKEEPING_SECONDS
