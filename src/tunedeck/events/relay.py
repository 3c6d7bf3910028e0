"""The relay: outbox -> ``platform_events`` and the account's channel, in order, at least once.

On the channel an event travels as ``{"type": "event", "event": <EventOut JSON>}`` (the
live feed's ``event`` message); the bus gives it its message ``id``.

What one pass does is ``drain.drain``: each outbox row is stored and published on two
independent tracks, a track that fails (events table unavailable, Redis down) leaves its
rows waiting while the other goes on, a row is deleted once both are done, every
account's events are published in the order they were recorded. Only one relay drains a
database at a time: the drain lock of the database's ``Outbox`` in this process, and a
PostgreSQL advisory lock across processes. A pass works on one connection holding that
lock, in short transactions, none open while the bus is waited for.

The relay drains on start (what a killed process left behind), when a commit wrote
events to the outbox (the units of work wake the ``Outbox``, which wakes the relay), and
every ``poll_interval`` in case a wake-up was missed. A wake-up starts the pass
``wake_delay`` later (5 ms), not at once: the events committed meanwhile share that pass
(a pass costs a dozen round trips however many it carries), and the request whose commit
woke the relay is answered before the pass competes with it for the process. Its loop
runs as a
``kit.background.SupervisedTask``: a failed pass is retried with backoff inside the loop;
an unexpected crash of the loop itself is logged and the loop restarted; a stop lets the
pass in hand finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tunedeck.events import partitions, repository
from tunedeck.events.bus import EventBus
from tunedeck.events.drain import DrainResult, describe_error, drain
from tunedeck.kit.background import Backoff, SupervisedTask, wait_any
from tunedeck.kit.db import Database, utcnow
from tunedeck.kit.unit_of_work import Outbox

logger = logging.getLogger(__name__)

# pg_advisory_lock key of the relay ("tunedeck" in ASCII, as a signed 64-bit integer).
ADVISORY_KEY = 0x74756E656465636B
MAINTENANCE_RETRY = 60.0
# Seconds from a wake-up to the pass it asks for (see the module docstring).
WAKE_DELAY = 0.005


def _log_failure(result: DrainResult, failed_passes: int, retry_delay: float) -> None:
    """The first failed pass of a streak, then the 10th, 100th...: an outage of hours
    is a few lines, not one per retry (the counters say the rest)."""
    if str(failed_passes).strip("0") != "1":
        return
    logger.warning(
        "event relay: %s; %d failed passes in a row, retrying in %.2f s",
        result.store_error or result.publish_error,
        failed_passes,
        retry_delay,
    )


class EventRelay:
    """Moves recorded events to the store and the bus; a background task of the app.

    ``outbox`` is the database's, shared with its units of work (which wake it) and the
    other relays of this process (one drains at a time); without one, the relay has an
    outbox of its own that nothing wakes (it still polls). ``passes`` counts the
    passes done, ``wakeups`` the wake-ups asked of this relay, ``failures`` its failed
    passes, ``retry_delay`` the delay before retrying after the latest failed pass (0
    while passes succeed); ``stored_total`` and ``published_total`` count events;
    ``lag_seconds`` is how long the oldest event left waiting has waited, and
    ``await backlog()`` counts the outbox's rows (every account's).
    """

    def __init__(
        self,
        db: Database,
        bus: EventBus,
        *,
        outbox: Outbox | None = None,
        batch_size: int = 500,
        poll_interval: float = 0.2,
        min_backoff: float = 0.2,
        max_backoff: float = 5.0,
        maintenance_interval: float = 3600.0,
        restart_backoff: Backoff | None = None,
        wake_delay: float = WAKE_DELAY,
    ) -> None:
        self.db = db
        self.bus = bus
        self.outbox = outbox or Outbox()
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.wake_delay = wake_delay
        self.retry_backoff = Backoff(initial=min_backoff, maximum=max_backoff)
        self.maintenance_interval = maintenance_interval
        self.stored_total = 0
        self.published_total = 0
        self.passes = 0
        self.failures = 0
        self.wakeups = 0
        self.retry_delay = 0.0
        self._waiting_since: datetime | None = None
        self.task = SupervisedTask(
            "event-relay",
            self._run,
            backoff=restart_backoff or Backoff(initial=1.0, maximum=30.0),
            logger=logger,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._wake_timer: asyncio.TimerHandle | None = None
        self._next_maintenance = 0.0

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Start the background task; its first pass drains what is already waiting."""
        if self.task.running:
            return
        self._loop = asyncio.get_running_loop()
        self.outbox.add_waker(self.wake)
        await self.task.start()

    async def stop(self, grace: float = 5.0) -> None:
        """Stop after one last pass (bounded by ``grace`` seconds); the rest waits in the outbox."""
        self.outbox.remove_waker(self.wake)
        if self._wake_timer is not None:
            self._wake_timer.cancel()
            self._wake_timer = None
        await self.task.stop(grace)

    @property
    def running(self) -> bool:
        return self.task.running

    @property
    def lag_seconds(self) -> float:
        """How long the oldest event the latest pass left waiting has waited (0: that pass
        left nothing behind). Grows while the store or the bus is down."""
        since = self._waiting_since
        return 0.0 if since is None else max(0.0, (utcnow() - since).total_seconds())

    def wake(self) -> None:
        """Ask for a pass ``wake_delay`` from now (safe from any thread; a no-op when not
        running). Wake-ups meanwhile join that pass."""
        self.wakeups += 1
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._wake_later)

    def _wake_later(self) -> None:
        if self._wake_timer is not None or self._loop is None:
            return  # a pass is asked for already

        def due() -> None:
            self._wake_timer = None
            self._wake.set()

        self._wake_timer = self._loop.call_later(self.wake_delay, due)

    async def _run(self, stopping: asyncio.Event) -> None:
        failed_passes = 0
        while True:
            self._wake.clear()
            await self._maintain()
            result = await self.drain_once()
            if result.failed:
                self.failures += 1
                failed_passes += 1
                self.retry_delay = self.retry_backoff.delay(failed_passes)
                _log_failure(result, failed_passes, self.retry_delay)
            else:
                if failed_passes:
                    logger.info("event relay: working again after %d failed passes", failed_passes)
                failed_passes = 0
                self.retry_delay = 0.0
            if stopping.is_set():
                return
            if result.failed:
                await wait_any(stopping, within=self.retry_delay)
            elif not result.more:
                await wait_any(stopping, self._wake, within=self.poll_interval)

    async def _maintain(self) -> None:
        now = time.monotonic()
        if now < self._next_maintenance:
            return
        try:
            created = await partitions.ensure_partitions(self.db)
        except Exception as exc:
            logger.warning("event partitions not checked: %s", describe_error(exc))
            self._next_maintenance = now + MAINTENANCE_RETRY
            return
        if created:
            logger.info("created event partitions %s", ", ".join(created))
        self._next_maintenance = now + self.maintenance_interval

    # -- one pass --------------------------------------------------------------------

    async def drain_once(self) -> DrainResult:
        """Store and publish what is waiting (one pass: ``drain.drain``); never raises."""
        try:
            async with self.outbox.drain_lock, self._locked_connection() as conn:
                result = (
                    DrainResult(skipped=True)
                    if conn is None
                    else await drain(conn, self.bus, self.batch_size)
                )
        except Exception as exc:  # the lock itself: the database is unreachable
            result = DrainResult(store_error=describe_error(exc))
        # What a pass leaves behind waits at least since the oldest event it found.
        self._waiting_since = result.oldest if (result.failed or result.more) else None
        self.stored_total += result.stored
        self.published_total += result.published
        self.passes += 1
        return result

    @asynccontextmanager
    async def _locked_connection(self) -> AsyncIterator[AsyncConnection | None]:
        """The pass's connection, holding the relay's lock (None: another relay holds it).

        Between its short transactions the connection stays idle, never in a
        transaction, while the bus is waited for.
        """
        async with self.db.engine.connect() as conn:
            if self.db.backend != "postgresql":
                yield conn
                return
            # A session lock, taken in the pass's first transaction (it outlives the commit).
            got = await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY})
            if not got:
                await conn.rollback()
                yield None
                return
            try:
                yield conn
            finally:
                try:
                    await conn.rollback()
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                    await conn.commit()
                except Exception:
                    # Never return a connection holding the lock to the pool.
                    await conn.invalidate()

    async def backlog(self) -> int:
        """Events in the outbox now (waiting for the store, the bus, or their deletion)."""
        async with self.db.session() as session:
            return await repository.outbox_size(session)
