"""Closed months of plays, summed up once (``models``: ``play_months`` and its sums).

A month (UTC) is *closed* for an account once it ended a day ago (:data:`CLOSE_AFTER`)
and no open play of the account started in it: every write to a play (its end, its
requester, its stream) is to the open one, so a closed month's plays no longer change.
Only retention deletes them, and it forgets the sums of the months it reaches
(:func:`forget_before`); the month it cuts through is summed up again from what is left.

The history's upkeep sums up the closed months not summed up yet
(:func:`sum_up_closed_months`), a month per unit of work. A period's stats read the
longest run of summed-up months inside the period from the sums (:func:`summed_run`) and
the rest of it (its edges, a month not summed up yet) from the plays, so a stats answer
is the same whichever months are summed up (tests/history/test_months.py holds them
together).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

from sqlalchemy import Select, delete, func, insert, literal, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.accounts.models import Account
from tunedeck.history.models import (
    OpenPlay,
    Play,
    PlayMonth,
    PlayMonthRequester,
    PlayMonthTotal,
    PlayMonthTrack,
)
from tunedeck.kit.unit_of_work import UnitsOfWork

logger = logging.getLogger(__name__)

Grouping: TypeAlias = "Select[*tuple[Any, ...]]"
"""A statement of grouped (or summed-up) rows, one of the three the stats fold."""

CLOSE_AFTER = timedelta(days=1)
"""How long after its end a month may be summed up (an item started before midnight may
still be recorded as it ends: its play starts where it started)."""
MONTHS_PER_PASS = 24
"""At most this many months summed up per upkeep pass (a long history catches up over a
few passes rather than holding one pass for long)."""
SUMS: tuple[type[PlayMonthTrack] | type[PlayMonthTotal] | type[PlayMonthRequester], ...] = (
    PlayMonthTrack,
    PlayMonthTotal,
    PlayMonthRequester,
)


def month_of(at: datetime) -> datetime:
    """The first instant (UTC) of the month ``at`` is in."""
    return at.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def month_after(month: datetime) -> datetime:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True, slots=True)
class Run:
    """Consecutive summed-up months: from the first instant of ``since``'s month to the
    first instant of the month after the last (``until``)."""

    since: datetime
    until: datetime


async def summed_run(
    session: AsyncSession, account_id: uuid.UUID, since: datetime, until: datetime
) -> Run | None:
    """The longest run of summed-up months wholly inside ``[since, until)``, or None."""
    first = month_of(since)
    if first < since:
        first = month_after(first)
    months = list(
        await session.scalars(
            select(PlayMonth.month)
            .where(
                PlayMonth.account_id == account_id,
                PlayMonth.month >= first,
                PlayMonth.month < until,
            )
            .order_by(PlayMonth.month)
        )
    )
    best: Run | None = None
    start: datetime | None = None
    for index, month in enumerate(months):
        end = month_after(month)
        if end > until:
            break
        if start is None or months[index - 1] != month_of(month - timedelta(days=1)):
            start = month
        if best is None or end - start > best.until - best.since:
            best = Run(start, end)
    return best


def uncovered(since: datetime, until: datetime, run: Run | None) -> list[tuple[datetime, datetime]]:
    """The parts of ``[since, until)`` that ``run`` does not cover (read from the plays)."""
    if run is None:
        return [(since, until)]
    return [(a, b) for a, b in ((since, run.since), (run.until, until)) if a < b]


# ---- a run's figures, as the stats group them (``stats``) --------------------------------


def _in_run(table: Any, account_id: uuid.UUID, run: Run) -> tuple[Any, ...]:
    return (table.account_id == account_id, table.month >= run.since, table.month < run.until)


def totals_sums(account_id: uuid.UUID, run: Run) -> Grouping:
    """(end reason, source, plays, listened ms) of the run's months, one row per month."""
    t = PlayMonthTotal
    return select(t.end_reason, t.source, t.plays, t.listened_ms).where(
        *_in_run(t, account_id, run)
    )


def track_sums(account_id: uuid.UUID, run: Run) -> Grouping:
    """(uri, first artist, name, plays, listened ms, duration ms) of the run's months."""
    t = PlayMonthTrack
    return select(t.item_uri, t.artist, t.name, t.plays, t.listened_ms, t.duration_ms).where(
        *_in_run(t, account_id, run)
    )


def requester_sums(account_id: uuid.UUID, run: Run) -> Grouping:
    """(requester, plays, listened ms) of the run's months."""
    t = PlayMonthRequester
    return select(t.requested_by, t.plays, t.listened_ms).where(*_in_run(t, account_id, run))


# ---- the upkeep: summing up, forgetting -------------------------------------------------


async def sum_up_closed_months(units: UnitsOfWork, now: datetime) -> int:
    """Sum up the closed months not summed up yet (module doc), at most
    :data:`MONTHS_PER_PASS`; how many were."""
    due = await _months_due(units, now)
    done = 0
    for account_id, month in due[:MONTHS_PER_PASS]:
        try:
            async with units.begin() as work:
                done += await _sum_up(work.session, account_id, month)
        except IntegrityError:
            continue  # another process summed it up meanwhile
    if done:
        logger.info("summed up %d closed month(s) of plays", done)
        await _analyze(units)
    return done


async def _analyze(units: UnitsOfWork) -> None:
    """Fresh planner statistics for the sums on PostgreSQL: a month's thousands of new
    rows would otherwise be planned as the few the table had (a sort spilling to disk
    where a hash takes a fifth of the time, until autovacuum came by)."""
    if units.db.backend != "postgresql":
        return
    async with units.db.engine.begin() as conn:
        for table in (*SUMS, PlayMonth):
            await conn.execute(text(f"ANALYZE {table.__tablename__}"))


async def _months_due(units: UnitsOfWork, now: datetime) -> list[tuple[uuid.UUID, datetime]]:
    """Each account's closed months from its first play's on, not summed up yet."""
    first_play = (
        select(func.min(Play.started_at)).where(Play.account_id == Account.id).scalar_subquery()
    )
    open_since = (
        select(OpenPlay.started_at).where(OpenPlay.account_id == Account.id).scalar_subquery()
    )
    accounts = await units.read_alone(
        select(Account.id, first_play.label("first"), open_since.label("opened"))
    )
    summed = {
        (row.account_id, row.month)
        for row in await units.read_alone(select(PlayMonth.account_id, PlayMonth.month))
    }
    due: list[tuple[uuid.UUID, datetime]] = []
    for account in accounts:
        if account.first is None:
            continue
        limit = now - CLOSE_AFTER
        if account.opened is not None:
            limit = min(limit, account.opened)
        month = month_of(account.first)
        while month_after(month) <= limit:
            if (account.id, month) not in summed:
                due.append((account.id, month))
            month = month_after(month)
    return due


async def _sum_up(session: AsyncSession, account_id: uuid.UUID, month: datetime) -> int:
    """One closed month's sums, written with its ``play_months`` row (0: summed up already)."""
    if await session.get(PlayMonth, (account_id, month)) is not None:
        return 0
    session.add(PlayMonth(account_id=account_id, month=month))
    await session.flush()  # two processes at once: the second fails here (IntegrityError)
    end = month_after(month)
    in_month = (Play.account_id == account_id, Play.started_at >= month, Play.started_at < end)
    account = literal(account_id, PlayMonth.account_id.type)
    at = literal(month, PlayMonth.month.type)
    sums = func.count(), func.coalesce(func.sum(Play.listened_ms), 0)
    await session.execute(
        insert(PlayMonthTrack).from_select(
            [
                *("account_id", "month", "item_uri", "artist", "name"),
                *("plays", "listened_ms", "duration_ms"),
            ],
            select(
                account,
                at,
                Play.item_uri,
                Play.artist,
                func.max(Play.name),
                *sums,
                func.coalesce(func.sum(Play.duration_ms), 0),
            )
            .where(*in_month, or_(Play.item_uri.is_not(None), Play.artist.is_not(None)))
            .group_by(Play.item_uri, Play.artist),
        )
    )
    await session.execute(
        insert(PlayMonthTotal).from_select(
            ["account_id", "month", "end_reason", "source", "plays", "listened_ms"],
            select(account, at, Play.end_reason, Play.source, *sums)
            .where(*in_month)
            .group_by(Play.end_reason, Play.source),
        )
    )
    await session.execute(
        insert(PlayMonthRequester).from_select(
            ["account_id", "month", "requested_by", "plays", "listened_ms"],
            select(account, at, Play.requested_by, *sums)
            .where(*in_month, Play.requested_by.is_not(None))
            .group_by(Play.requested_by),
        )
    )
    return 1


async def forget_before(session: AsyncSession, cutoff: datetime) -> None:
    """Forget the sums of every month that began before ``cutoff`` (retention deletes
    their plays; the month it cuts through is summed up again from what is left)."""
    for table in (*SUMS, PlayMonth):
        await session.execute(delete(table).where(table.month < cutoff))
