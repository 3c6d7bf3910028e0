"""The relay: outbox -> ``platform_events`` and the account's channel, in order, at least once.

On the channel an event travels as ``{"type": "event", "event": <EventOut JSON>}`` (the
live feed's ``event`` message); the bus gives it its message ``id``.

Each outbox row has two independent tracks, the store and the publish. A track that
fails (events table unavailable, Redis down) leaves its rows waiting and is retried
with backoff, while the other track goes on; a row is deleted once both are done. While
the store works, only stored rows are published (a resuming client reads what it missed
back from ``platform_events``).
Rows are taken in ``seq`` order and a failed publish stops the batch, so every account's
events are published in the order they were recorded. The store is idempotent (the
event id and time are the key). Only one relay drains a database at a time: the lock of
the database's ``Outbox`` in this process, and a PostgreSQL advisory lock across processes.

The relay drains on start (what a killed process left behind), when a commit recorded
events (the database's ``Outbox`` wakes it), and every ``poll_interval`` in case a
wake-up was missed. Its loop runs as a ``kit.background.SupervisedTask``: a failed pass is
retried with backoff inside the loop; an unexpected crash of the loop itself is logged and
the loop restarted; a stop lets the pass in hand finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import text

from tunedeck.events import partitions, repository
from tunedeck.events.bus import BusUnavailable, EventBus
from tunedeck.events.outbox import Outbox
from tunedeck.events.schemas import event_message
from tunedeck.kit.background import Backoff, SupervisedTask, wait_any
from tunedeck.kit.db import Database, utcnow

logger = logging.getLogger(__name__)

# pg_advisory_lock key of the relay ("tunedeck" in ASCII, as a signed 64-bit integer).
ADVISORY_KEY = 0x74756E656465636B
MAINTENANCE_RETRY = 60.0
# Messages per bus round trip (a Redis pipeline).
PUBLISH_CHUNK = 100


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[: repository.ERROR_LENGTH]


@dataclass
class DrainResult:
    """What one pass did; ``more`` means a batch was full and another pass should follow."""

    stored: int = 0
    published: int = 0
    deleted: int = 0
    store_error: str | None = None
    publish_error: str | None = None
    more: bool = False
    skipped: bool = False  # another relay was draining

    @property
    def failed(self) -> bool:
        return self.store_error is not None or self.publish_error is not None


class EventRelay:
    """Moves recorded events to the store and the bus; a background task of the app.

    ``outbox`` is the database's (``Outbox.of(db)`` when not given). ``passes`` counts the
    passes done, ``wakeups`` the wake-ups asked of this relay, ``failures`` its failed
    passes, ``retry_delay`` the delay before retrying after the latest failed pass (0
    while passes succeed).
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
    ) -> None:
        self.db = db
        self.bus = bus
        self.outbox = outbox or Outbox.of(db)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.retry_backoff = Backoff(initial=min_backoff, maximum=max_backoff)
        self.maintenance_interval = maintenance_interval
        self.stored_total = 0
        self.published_total = 0
        self.passes = 0
        self.failures = 0
        self.wakeups = 0
        self.retry_delay = 0.0
        self.task = SupervisedTask(
            "event-relay",
            self._run,
            backoff=restart_backoff or Backoff(initial=1.0, maximum=30.0),
            logger=logger,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
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
        await self.task.stop(grace)

    @property
    def running(self) -> bool:
        return self.task.running

    def wake(self) -> None:
        """Ask for a pass soon (safe from any thread; a no-op when not running)."""
        self.wakeups += 1
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._wake.set)

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
            else:
                failed_passes = 0
                self.retry_delay = 0.0
            if stopping.is_set():
                return
            if result.failed:
                logger.warning(
                    "event relay: %s; retrying in %.2f s",
                    result.store_error or result.publish_error,
                    self.retry_delay,
                )
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
            logger.warning("event partitions not checked: %s", _describe(exc))
            self._next_maintenance = now + MAINTENANCE_RETRY
            return
        if created:
            logger.info("created event partitions %s", ", ".join(created))
        self._next_maintenance = now + self.maintenance_interval

    # -- one pass --------------------------------------------------------------------

    async def drain_once(self) -> DrainResult:
        """Store and publish what is waiting (one batch per track); never raises."""
        result = DrainResult()
        try:
            async with self.outbox.drain_lock, self._database_lock() as acquired:
                if not acquired:
                    result.skipped = True
                    return result
                await self._store(result)
                await self._publish(result)
                await self._delete_delivered(result)
        except Exception as exc:  # the lock itself: the database is unreachable
            result.store_error = result.store_error or _describe(exc)
        self.stored_total += result.stored
        self.published_total += result.published
        self.passes += 1
        return result

    @asynccontextmanager
    async def _database_lock(self) -> AsyncIterator[bool]:
        if self.db.backend != "postgresql":
            yield True
            return
        async with self.db.engine.connect() as conn:
            got = await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY})
            await conn.commit()
            if not got:
                yield False
                return
            try:
                yield True
            finally:
                try:
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                    await conn.commit()
                except Exception:
                    # Never return a connection holding the lock to the pool.
                    await conn.invalidate()

    async def _store(self, result: DrainResult) -> None:
        seqs: list[int] = []
        try:
            async with self.db.session() as session:
                rows = await repository.outbox_waiting_for_store(session, self.batch_size)
                seqs = [row.seq for row in rows]
                if rows:
                    now = utcnow()
                    await repository.store_events(session, rows, now)
                    await repository.mark_stored(session, seqs, now)
        except Exception as exc:
            result.store_error = _describe(exc)
            await self._note_failure(seqs, result.store_error)
            return
        result.stored = len(seqs)
        result.more = result.more or len(seqs) == self.batch_size

    async def _publish(self, result: DrainResult) -> None:
        try:
            async with self.db.session() as session:
                # While the store works, publish only what it has stored: a client that
                # resumes reads the events it missed back from platform_events, so none
                # may reach the bus before it is there. While the store fails, live
                # delivery goes on (such a resume gets a reset and a snapshot instead).
                rows = await repository.outbox_waiting_for_publish(
                    session, self.batch_size, stored_only=result.store_error is None
                )
        except Exception as exc:
            result.publish_error = _describe(exc)
            return
        done: list[int] = []
        for start in range(0, len(rows), PUBLISH_CHUNK):
            chunk = rows[start : start + PUBLISH_CHUNK]
            outgoing = [(row.account_id, event_message(row.payload)) for row in chunk]
            try:
                await self.bus.publish_many(outgoing)
            except Exception as exc:
                # Later rows wait too: an account's events are published in order.
                sent = exc.published if isinstance(exc, BusUnavailable) else 0
                done += [row.seq for row in chunk[:sent]]
                result.publish_error = _describe(exc)
                await self._note_failure([chunk[sent].seq], result.publish_error)
                break
            done += [row.seq for row in chunk]
        if done:
            try:
                async with self.db.session() as session:
                    await repository.mark_published(session, done, utcnow())
            except Exception as exc:
                # Published but not marked: they will be published again (ids dedupe).
                result.publish_error = _describe(exc)
                return
        result.published = len(done)
        result.more = result.more or (len(rows) == self.batch_size and not result.publish_error)

    async def _delete_delivered(self, result: DrainResult) -> None:
        if not (result.stored or result.published):
            return
        try:
            async with self.db.session() as session:
                result.deleted += await repository.delete_delivered(session)
        except Exception as exc:
            # Harmless: the rows are done on both tracks and a later pass deletes them.
            logger.debug("outbox cleanup deferred: %s", _describe(exc))

    async def _note_failure(self, seqs: list[int], error: str) -> None:
        if not seqs:
            return
        with contextlib.suppress(Exception):  # the database may be what failed
            async with self.db.session() as session:
                await repository.note_failure(session, seqs, error)
