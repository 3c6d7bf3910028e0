"""Closed months summed up for the stats, on SQLite and PostgreSQL: a period's stats are
the same whether its months are summed up or read from the plays (a run of months, its
edges, a gap in the run); a month is summed up only once closed (a day after its end,
no open play started in it); retention forgets the sums of the months it reaches and
the month it cuts through is summed up again from what is left; two processes summing
up at once write each month once. Every clock is handed in: nothing waits or measures."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from tests.history.test_maintenance import RETENTION_DAYS, maintenance, play_row
from tests.realtime.conftest import new_account
from tunedeck.accounts.context import operator
from tunedeck.accounts.models import Account
from tunedeck.history import months, service
from tunedeck.history.models import OpenPlay, PlayMonth, PlayMonthTrack
from tunedeck.history.schemas import StatsOut, StatsQueryIn
from tunedeck.kit.db import Database
from tunedeck.kit.unit_of_work import UnitsOfWork

JAN = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 6, 10, 12, tzinfo=UTC)
"""Long after the plays below: January to April are closed, May ended over a day ago."""


def _varied_plays(account: uuid.UUID, count: int) -> list[Any]:
    """Plays from January to early June: repeated tracks, every end reason and source,
    requesters, a play with no uri (a local file), one with no duration."""
    rng = random.Random(11)
    reasons = ["natural", "skipped", "previous", "replaced", "stopped", "unknown"]
    plays = []
    span = (datetime(2026, 6, 5, tzinfo=UTC) - JAN).total_seconds()
    for n in range(count):
        track = rng.randrange(12)
        requested = rng.random() < 0.3
        plays.append(
            play_row(
                account,
                JAN + timedelta(seconds=rng.uniform(0, span)),
                item_uri=None if track == 0 else f"spotify:track:{track:022d}",
                name=f"Track {track} {'(live)' if n % 7 == 0 else ''}",
                artist=f"Artist {track % 4}" if track != 5 else None,
                duration_ms=None if n % 13 == 0 else 180_000,
                listened_ms=rng.randrange(0, 180_000),
                end_reason=rng.choice(reasons),
                source="request" if requested else rng.choice(["context", "queue"]),
                requested_by=f"viewer{rng.randrange(5)}" if requested else None,
            )
        )
    return plays


async def _stats(
    database: Database, account_id: uuid.UUID, since: datetime, until: datetime
) -> StatsOut:
    async with database.session() as session:
        account = await session.get(Account, account_id)
    assert account is not None
    ctx = operator(UnitsOfWork(database), account)
    query = StatsQueryIn.model_validate({"from": since, "to": until, "top": 50})
    return await service.stats_of(ctx, query)


async def _summed(database: Database, account_id: uuid.UUID) -> list[datetime]:
    async with database.session() as session:
        return list(
            await session.scalars(
                select(PlayMonth.month)
                .where(PlayMonth.account_id == account_id)
                .order_by(PlayMonth.month)
            )
        )


def _month(number: int) -> datetime:
    return JAN.replace(month=number)


async def _sum_up(database: Database, now: datetime) -> None:
    """Every due month summed up (other tests' accounts share the database: a pass may
    stop at its limit before this test's)."""
    while await months.sum_up_closed_months(UnitsOfWork(database), now):
        pass


async def _track_sums(database: Database, account_id: uuid.UUID) -> int:
    async with database.session() as session:
        count = await session.scalar(
            select(func.count()).where(PlayMonthTrack.account_id == account_id)
        )
    return int(count or 0)


async def test_stats_are_the_same_whichever_months_are_summed_up(database: Database) -> None:
    account = await new_account(database)
    plays = _varied_plays(account, 400)
    async with database.session() as session:
        session.add_all(plays)
    periods = [
        (JAN, datetime(2026, 6, 10, tzinfo=UTC)),  # everything
        (datetime(2026, 1, 17, 5, tzinfo=UTC), datetime(2026, 5, 3, 9, tzinfo=UTC)),  # edges
        (_month(2), _month(4)),  # exactly two months
        (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC)),  # inside one
    ]
    from_plays = [await _stats(database, account, *period) for period in periods]
    # Figures worked out from the plays themselves, so both ways are held to them.
    everything = from_plays[0]
    assert everything.plays == len(plays)
    assert everything.listened_ms == sum(p.listened_ms for p in plays)
    assert everything.top_requesters[0].plays == max(
        sum(1 for p in plays if p.requested_by == f"viewer{v}") for v in range(5)
    )

    await _sum_up(database, NOW)
    assert await _summed(database, account) == [_month(m) for m in range(1, 6)]
    for period, expected in zip(periods, from_plays, strict=True):
        assert await _stats(database, account, *period) == expected, period

    # A gap in the run (a month not summed up yet): the longest run and the plays.
    async with database.session() as session:
        for table in (*months.SUMS, PlayMonth):
            await session.execute(delete(table).where(table.month == _month(3)))
    for period, expected in zip(periods, from_plays, strict=True):
        assert await _stats(database, account, *period) == expected, period


async def test_a_month_is_summed_up_once_closed(database: Database) -> None:
    account = await new_account(database)
    async with database.session() as session:
        session.add_all(play_row(account, _month(m) + timedelta(days=3)) for m in (1, 2, 3, 4))
    # March is open: a play started in it has not ended.
    async with database.session() as session:
        session.add(
            OpenPlay(
                account_id=account,
                play_id=uuid.uuid4(),
                started_at=_month(3) + timedelta(days=20),
                item_uri=None,
                item_type="track",
                duration_ms=None,
                is_playing=False,
                progress_ms=0,
                seen_at=_month(3) + timedelta(days=20),
            )
        )
    await _sum_up(database, NOW)
    assert await _summed(database, account) == [_month(1), _month(2)]

    async with database.session() as session:
        await session.execute(delete(OpenPlay).where(OpenPlay.account_id == account))
    # Half a day after April ended: not closed yet; a day after: closed.
    await _sum_up(database, _month(5) + timedelta(hours=12))
    assert await _summed(database, account) == [_month(m) for m in (1, 2, 3)]
    await _sum_up(database, _month(5) + months.CLOSE_AFTER)
    assert await _summed(database, account) == [_month(m) for m in (1, 2, 3, 4)]
    # A later pass sums up nothing twice.
    sums = await _track_sums(database, account)
    await _sum_up(database, NOW)
    assert await _track_sums(database, account) == sums == 4


async def test_retention_forgets_the_months_it_reaches(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    now = utcnow_in_july()
    cutoff = now - timedelta(days=RETENTION_DAYS)  # in early June
    account = await new_account(database)
    async with database.session() as session:
        session.add_all(_varied_plays(account, 200))
        # June: some plays before the cutoff (deleted), some after (kept).
        session.add_all(
            play_row(account, cutoff + timedelta(days=d), listened_ms=1000 * (d + 10))
            for d in (-3, -2, 2, 4)
        )
    loop = maintenance(database, database_url, tmp_path, now)
    await _sum_up(database, cutoff - timedelta(days=3))
    assert await _summed(database, account) == [_month(m) for m in range(1, 6)]

    await loop.run_once()  # retention, then the months summed up again

    # Only June's plays after the cutoff are left: June summed up from them alone.
    assert await _summed(database, account) == [_month(6)]
    summed_june = await _stats(database, account, _month(6), _month(7))
    assert summed_june.plays == 2
    assert summed_june.listened_ms == 1000 * (2 + 10) + 1000 * (4 + 10)
    year = await _stats(database, account, JAN, now)
    assert year.plays == 2


def utcnow_in_july() -> datetime:
    return datetime(2026, 7, 12, tzinfo=UTC)


async def test_two_processes_summing_up_at_once_write_each_month_once(database: Database) -> None:
    account = await new_account(database)
    plays = _varied_plays(account, 150)
    async with database.session() as session:
        session.add_all(plays)

    async def process() -> None:
        await _sum_up(database, NOW)

    await asyncio.gather(process(), process())

    # One sum per month and track (and artist) that played, January to May.
    expected = {
        (months.month_of(p.started_at), p.item_uri, p.artist)
        for p in plays
        if p.started_at < _month(6) and (p.item_uri or p.artist)
    }
    assert await _track_sums(database, account) == len(expected)
    assert await _summed(database, account) == [_month(m) for m in range(1, 6)]
