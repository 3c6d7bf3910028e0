"""The play history's upkeep, one supervised loop per polling process: streams left open
with nothing playing are closed, open plays nobody follows any more are ended (as an
estimate), closed months are summed up for the stats (``months``), old plays are deleted
(retention, their months' sums forgotten) and the months ahead get their partitions.

Every step is a short unit of work of its own, and each is safe to run in several
processes at once (the updates are conditional on what they change).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from tunedeck.config import Settings
from tunedeck.events import partitions
from tunedeck.history import months, repository
from tunedeck.history.tracking import stopped_at
from tunedeck.kit.background import Backoff, SupervisedTask, wait_any
from tunedeck.kit.db import utcnow
from tunedeck.kit.leases import Lease
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.realtime.poll_leases import lease_name

logger = logging.getLogger(__name__)

RETENTION_EVERY = timedelta(hours=1)
IDLE_STOPPER = "idle"


class HistoryMaintenance:
    """The loop (module doc); :meth:`run_once` is one pass."""

    def __init__(
        self,
        units: UnitsOfWork,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.units = units
        self.settings = settings
        self.clock = clock
        self._retention_at: datetime | None = None
        self._task = SupervisedTask(
            "history-maintenance",
            self._loop,
            backoff=Backoff(initial=1.0, maximum=settings.history_maintenance_seconds),
            logger=logger,
        )

    async def start(self) -> None:
        await self._task.start()

    async def stop(self) -> None:
        await self._task.stop()

    async def _loop(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            await self.run_once()
            await wait_any(stopping, within=self.settings.history_maintenance_seconds)

    async def run_once(self) -> None:
        now = self.clock()
        await self.close_idle_streams(now)
        await self.end_unfollowed_plays(now)
        if self._retention_at is None or now - self._retention_at >= RETENTION_EVERY:
            await self.apply_retention(now)
            self._retention_at = now
        await months.sum_up_closed_months(self.units, now)

    async def close_idle_streams(self, now: datetime) -> list[uuid.UUID]:
        idle = timedelta(seconds=self.settings.stream_idle_seconds)
        async with self.units.begin() as work:
            streams = await repository.idle_streams(work.session, now - idle)
            for stream in streams:
                await repository.stop_stream(work.session, stream, now, IDLE_STOPPER)
        if streams:
            logger.info("closed %d idle stream(s)", len(streams))
        return [stream.id for stream in streams]

    async def end_unfollowed_plays(self, now: datetime) -> int:
        """End the open plays of accounts no process polls, once they must have ended:
        a playing item past its end (plus the gap), a paused one idle for the stream idle
        time. The end is an estimate: nobody saw it."""
        gap = timedelta(seconds=self.settings.history_gap_seconds)
        idle = timedelta(seconds=self.settings.stream_idle_seconds)
        ended = 0
        async with self.units.begin() as work:
            session = work.session
            polled = set(await session.scalars(select(Lease.name).where(Lease.expires_at > now)))
            for account_id, current in await repository.open_plays(session):
                if lease_name(account_id) in polled:
                    continue
                remaining = current.remaining_ms() or 0
                if current.is_playing:
                    due = current.seen_at + timedelta(milliseconds=remaining) + gap
                else:
                    due = current.seen_at + idle
                if now < due:
                    continue
                ending = stopped_at(current, now, gap=gap)
                values = {
                    "ended_at": ending.ended_at,
                    "ended_estimated": True,
                    "end_reason": ending.reason.value,
                    "listened_ms": ending.listened_ms,
                }
                ended += await repository.close_play(session, account_id, current, values)
        return ended

    async def apply_retention(self, now: datetime) -> None:
        cutoff = now - timedelta(days=self.settings.history_retention_days)
        db = self.units.db
        if db.backend == "postgresql":
            await partitions.ensure_partitions(db, now, parent="plays")
            async with db.engine.begin() as conn:
                dropped = await conn.run_sync(
                    partitions.drop_partitions_before_sync, cutoff, "plays"
                )
            if dropped:
                logger.info("dropped play partitions %s", ", ".join(dropped))
        async with self.units.begin() as work:
            deleted = await repository.delete_plays_before(work.session, cutoff)
            await months.forget_before(work.session, cutoff)
        if deleted:
            logger.info("deleted %d play(s) older than %s", deleted, cutoff.date())
