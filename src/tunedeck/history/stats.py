"""The statements behind ``/v1/stats``: aggregates over one account's plays (a stream's
or a period's), and its requests from the request queue's table.

Each aggregate is one grouped statement over the ``(account_id, started_at)`` index (on
PostgreSQL, the period's partitions only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.history.models import Play
from tunedeck.history.repository import PlayFilter, _where
from tunedeck.history.schemas import CountOut, RuleCountOut, SkipRateOut
from tunedeck.requests.models import SongRequest

SKIPS = ("skipped", "previous")
ENDED = ("natural", "skipped", "previous", "replaced", "stopped")


@dataclass(frozen=True, slots=True)
class Totals:
    plays: int
    listened_ms: int
    overall: SkipRateOut
    requests: SkipRateOut
    own: SkipRateOut


def _rate(plays: int, skipped: int) -> SkipRateOut:
    return SkipRateOut(plays=plays, skipped=skipped, rate=skipped / plays if plays else None)


async def totals(session: AsyncSession, selected: PlayFilter) -> Totals:
    ended = Play.end_reason.in_(ENDED)
    skipped = Play.end_reason.in_(SKIPS)
    requested = Play.source == "request"
    row = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(Play.listened_ms), 0),
                func.count().filter(ended),
                func.count().filter(skipped),
                func.count().filter(ended, requested),
                func.count().filter(skipped, requested),
            ).where(*_where(selected))
        )
    ).one()
    plays, listened, ended_n, skipped_n, ended_req, skipped_req = (int(v or 0) for v in row)
    return Totals(
        plays=plays,
        listened_ms=listened,
        overall=_rate(ended_n, skipped_n),
        requests=_rate(ended_req, skipped_req),
        own=_rate(ended_n - ended_req, skipped_n - skipped_req),
    )


async def end_reasons(session: AsyncSession, selected: PlayFilter) -> list[RuleCountOut]:
    rows = await session.execute(
        select(Play.end_reason, func.count())
        .where(*_where(selected), Play.end_reason.is_not(None))
        .group_by(Play.end_reason)
        .order_by(func.count().desc())
    )
    return [RuleCountOut(rule=str(reason), count=int(count)) for reason, count in rows]


async def top_tracks(session: AsyncSession, selected: PlayFilter, limit: int) -> list[CountOut]:
    count = func.count()
    rows = await session.execute(
        select(
            Play.item_uri,
            func.max(Play.name),
            func.max(Play.artist),
            count,
            func.coalesce(func.sum(Play.listened_ms), 0),
            func.avg(cast(Play.listened_ms, Float) / func.nullif(Play.duration_ms, 0)),
        )
        .where(*_where(selected), Play.item_uri.is_not(None))
        .group_by(Play.item_uri)
        .order_by(count.desc(), Play.item_uri)
        .limit(limit)
    )
    return [
        CountOut(
            key=str(uri),
            label=f"{artist} - {name}" if artist else str(name),
            plays=int(plays),
            listened_ms=int(listened),
            heard=min(1.0, float(heard)) if heard is not None else None,
        )
        for uri, name, artist, plays, listened, heard in rows
    ]


async def top_by(
    session: AsyncSession, selected: PlayFilter, column: Any, limit: int
) -> list[CountOut]:
    """The top values of ``column`` (the first artist, the requester) by plays."""
    count = func.count()
    rows = await session.execute(
        select(column, count, func.coalesce(func.sum(Play.listened_ms), 0))
        .where(*_where(selected), column.is_not(None))
        .group_by(column)
        .order_by(count.desc(), column)
        .limit(limit)
    )
    return [
        CountOut(key=str(value), label=str(value), plays=int(plays), listened_ms=int(listened))
        for value, plays, listened in rows
    ]


@dataclass(frozen=True, slots=True)
class RequestFigures:
    accepted: int
    refused: list[RuleCountOut]
    wait_ms: int | None


async def requests(
    session: AsyncSession, account_id: Any, since: datetime, until: datetime
) -> RequestFigures:
    """Requests taken in the period: accepted, refused by rule, and the mean wait from
    a request to its play (in Python: date arithmetic differs between the databases)."""
    in_period = (
        SongRequest.account_id == account_id,
        SongRequest.created_at >= since,
        SongRequest.created_at < until,
    )
    rows = await session.execute(
        select(SongRequest.state, SongRequest.reason, func.count())
        .where(*in_period)
        .group_by(SongRequest.state, SongRequest.reason)
    )
    accepted, refused = 0, dict[str, int]()
    for state, reason, count in rows:
        if state == "rejected":
            refused[reason or "other"] = refused.get(reason or "other", 0) + int(count)
        else:
            accepted += int(count)
    waits = await session.execute(
        select(SongRequest.created_at, SongRequest.started_at).where(
            *in_period, SongRequest.started_at.is_not(None)
        )
    )
    spans = [(s - c).total_seconds() * 1000 for c, s in waits if s is not None]
    return RequestFigures(
        accepted=accepted,
        refused=[
            RuleCountOut(rule=rule, count=n)
            for rule, n in sorted(refused.items(), key=lambda kv: -kv[1])
        ],
        wait_ms=round(sum(spans) / len(spans)) if spans else None,
    )
