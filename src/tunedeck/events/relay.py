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

A pass works on one connection, in short transactions, none open while the bus is
waited for. While both tracks work (the usual case) a pass is a *fast* one: the oldest
``batch_size`` rows are stored in one multi-row INSERT ... ON CONFLICT DO NOTHING and
committed, published in one pipeline, then deleted in one statement; nothing is
written to the rows in between (a crash in between stores them again, a no-op, and
publishes them again: at least once). After a failed pass, *per-track* passes follow
until one succeeds: each track takes its own oldest rows and marks them done
(``stored_at``, ``published_at``), so a track that is down does not hold up the other.

The relay drains on start (what a killed process left behind), when a commit recorded
events (the database's ``Outbox`` wakes it), and every ``poll_interval`` in case a
wake-up was missed. A wake-up starts the pass ``wake_delay`` later (5 ms), not at once:
the events committed meanwhile share that pass (a pass costs a dozen round trips however
many it carries), and the request whose commit woke the relay is answered before the
pass competes with it for the process. Its loop runs as a
``kit.background.SupervisedTask``: a failed pass is retried with backoff inside the loop;
an unexpected crash of the loop itself is logged and the loop restarted; a stop lets the
pass in hand finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tunedeck.events import partitions, repository
from tunedeck.events.bus import BusUnavailable, EventBus
from tunedeck.events.outbox import Outbox
from tunedeck.events.schemas import event_message
from tunedeck.kit.background import Backoff, SupervisedTask, wait_any
from tunedeck.kit.db import Database, utcnow
from tunedeck.kit.errors import describe

logger = logging.getLogger(__name__)

# pg_advisory_lock key of the relay ("tunedeck" in ASCII, as a signed 64-bit integer).
ADVISORY_KEY = 0x74756E656465636B
MAINTENANCE_RETRY = 60.0
# Messages per bus round trip (a Redis pipeline): a whole batch.
PUBLISH_CHUNK = 500
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


def _describe(exc: BaseException) -> str:
    """The error as the outbox stores it (``repository.ERROR_LENGTH`` at most)."""
    return describe(exc)[: repository.ERROR_LENGTH]


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
    oldest: datetime | None = None  # when the oldest event the pass found happened

    @property
    def failed(self) -> bool:
        return self.store_error is not None or self.publish_error is not None

    def saw(self, rows: Sequence[repository.Waiting]) -> None:
        if rows and (self.oldest is None or rows[0].occurred_at < self.oldest):
            self.oldest = rows[0].occurred_at


class EventRelay:
    """Moves recorded events to the store and the bus; a background task of the app.

    ``outbox`` is the database's (``Outbox.of(db)`` when not given). ``passes`` counts the
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
        self.outbox = outbox or Outbox.of(db)
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
        # Until a pass has found the outbox in order, per-track passes (see the module).
        self._careful = True
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
            async with self.outbox.drain_lock, self._locked_connection() as conn:
                if conn is None:
                    result.skipped = True
                    return result
                if self._careful:
                    await self._careful_pass(conn, result)
                else:
                    await self._fast_pass(conn, result)
        except Exception as exc:  # the lock itself: the database is unreachable
            result.store_error = result.store_error or _describe(exc)
        # After a failure, per-track passes until both tracks work again (see the module).
        self._careful = result.failed
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

    async def _fast_pass(self, conn: AsyncConnection, result: DrainResult) -> None:
        """The outbox's oldest rows: stored in one statement and committed, published in
        one pipeline, deleted in one statement."""
        rows: list[repository.Waiting] = []
        try:
            rows = await repository.outbox_head(conn, self.batch_size)
            result.saw(rows)
            to_store = [row for row in rows if not row.stored]
            await repository.store_events(conn, to_store, utcnow())
            await conn.commit()
        except Exception as exc:
            await _rollback(conn)
            result.store_error = _describe(exc)
            await self._note_failure(conn, [row.seq for row in rows if not row.stored], exc)
            # Live delivery goes on without the store (the per-track pass does it).
            await self._publish_track(conn, result)
            return
        result.stored = len(to_store)
        result.more = len(rows) == self.batch_size
        # Every row of the batch is stored now; the ones not yet published go out in order.
        outgoing = [row for row in rows if not row.published]
        sent = await self._publish(conn, outgoing, result)
        unsent = [row.seq for row in outgoing[sent:]]
        left = set(unsent)
        done = [row.seq for row in rows if row.seq not in left]
        try:
            if unsent:
                # Stored but not published: say so, so the per-track passes that follow
                # publish them (and only stored rows) before anything newer.
                await repository.mark_stored(conn, unsent, utcnow())
            result.deleted = await repository.delete_rows(conn, done)
            await conn.commit()
        except Exception as exc:
            # Stored (and maybe published) but still in the outbox: a later pass stores
            # them again (a no-op) and publishes them again (ids dedupe).
            await _rollback(conn)
            result.publish_error = result.publish_error or _describe(exc)

    async def _careful_pass(self, conn: AsyncConnection, result: DrainResult) -> None:
        """Each track on its own rows, so one failing track does not hold up the other."""
        seqs: list[int] = []
        try:
            rows = await repository.outbox_waiting_for_store(conn, self.batch_size)
            result.saw(rows)
            seqs = [row.seq for row in rows]
            now = utcnow()
            await repository.store_events(conn, rows, now)
            await repository.mark_stored(conn, seqs, now)
            await conn.commit()
        except Exception as exc:
            await _rollback(conn)
            result.store_error = _describe(exc)
            await self._note_failure(conn, seqs, exc)
        else:
            result.stored = len(seqs)
            result.more = len(seqs) == self.batch_size
        await self._publish_track(conn, result)
        if not (result.stored or result.published):
            return
        try:
            result.deleted += await repository.delete_delivered(conn)
            await conn.commit()
        except Exception as exc:
            # Harmless: the rows are done on both tracks and a later pass deletes them.
            await _rollback(conn)
            logger.debug("outbox cleanup deferred: %s", _describe(exc))

    async def _publish_track(self, conn: AsyncConnection, result: DrainResult) -> None:
        try:
            # While the store works, publish only what it has stored: a client that
            # resumes reads the events it missed back from platform_events, so none
            # may reach the bus before it is there. While the store fails, live
            # delivery goes on (such a resume gets a reset and a snapshot instead).
            rows = await repository.outbox_waiting_for_publish(
                conn, self.batch_size, stored_only=result.store_error is None
            )
            result.saw(rows)
            await conn.commit()
        except Exception as exc:
            await _rollback(conn)
            result.publish_error = _describe(exc)
            return
        sent = await self._publish(conn, rows, result)
        try:
            await repository.mark_published(conn, [row.seq for row in rows[:sent]], utcnow())
            await conn.commit()
        except Exception as exc:
            # Published but not marked: they will be published again (ids dedupe).
            await _rollback(conn)
            result.publish_error = _describe(exc)
            result.published = 0
            return
        full = len(rows) == self.batch_size and result.publish_error is None
        result.more = result.more or full

    async def _publish(
        self, conn: AsyncConnection, rows: Sequence[repository.Waiting], result: DrainResult
    ) -> int:
        """Publish ``rows`` in order, ``PUBLISH_CHUNK`` per round trip; how many went out.
        A failure stops there (an account's events are published in order) and is noted
        on the row that failed."""
        sent = 0
        for start in range(0, len(rows), PUBLISH_CHUNK):
            chunk = rows[start : start + PUBLISH_CHUNK]
            outgoing = [(row.account_id, event_message(row.payload)) for row in chunk]
            try:
                await self.bus.publish_many(outgoing)
            except Exception as exc:
                sent += exc.published if isinstance(exc, BusUnavailable) else 0
                result.publish_error = _describe(exc)
                await self._note_failure(conn, [rows[sent].seq], exc)
                break
            sent += len(chunk)
        result.published = sent
        return sent

    async def _note_failure(
        self, conn: AsyncConnection, seqs: list[int], exc: BaseException
    ) -> None:
        if not seqs:
            return
        with contextlib.suppress(Exception):  # the database may be what failed
            await repository.note_failure(conn, seqs, _describe(exc))
            await conn.commit()

    async def backlog(self) -> int:
        """Events in the outbox now (waiting for the store, the bus, or their deletion)."""
        async with self.db.session() as session:
            return await repository.outbox_size(session)


async def _rollback(conn: AsyncConnection) -> None:
    with contextlib.suppress(Exception):  # a broken connection: the pool replaces it
        await conn.rollback()
