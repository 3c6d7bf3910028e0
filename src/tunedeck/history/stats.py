"""The statements behind ``/v1/stats``: aggregates over one account's plays (a stream's
or a period's), and its requests from the request queue's table.

Three grouped statements read the period's plays (on PostgreSQL, its partitions only):
one by how plays ended (totals, skip rates, end reasons), one by track and artist (both
tops: an artist's figures are its tracks' summed), one over requested plays (the top
requesters). What costs is reading and grouping every play of the period once per
statement, so the figures are folded from as few passes as there are groupings, rather
than one statement per figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
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
    end_reasons: list[RuleCountOut]


def _rate(plays: int, skipped: int) -> SkipRateOut:
    return SkipRateOut(plays=plays, skipped=skipped, rate=skipped / plays if plays else None)


async def totals(session: AsyncSession, selected: PlayFilter) -> Totals:
    """Plays, minutes, skip rates and end reasons, from one statement grouped by how each
    play ended and where it came from (a dozen groups at most)."""
    rows = await session.execute(
        select(
            Play.end_reason,
            Play.source,
            func.count(),
            func.coalesce(func.sum(Play.listened_ms), 0),
        )
        .where(*_where(selected))
        .group_by(Play.end_reason, Play.source)
    )
    plays = listened = ended = skipped = ended_req = skipped_req = 0
    reasons: dict[str, int] = {}
    for reason, source, count, heard in rows:
        count, heard, requested = int(count), int(heard or 0), source == "request"
        plays += count
        listened += heard
        if reason is not None:
            reasons[reason] = reasons.get(reason, 0) + count
        if reason in ENDED:
            ended += count
            ended_req += count if requested else 0
        if reason in SKIPS:
            skipped += count
            skipped_req += count if requested else 0
    return Totals(
        plays=plays,
        listened_ms=listened,
        overall=_rate(ended, skipped),
        requests=_rate(ended_req, skipped_req),
        own=_rate(ended - ended_req, skipped - skipped_req),
        end_reasons=[
            RuleCountOut(rule=reason, count=count)
            for reason, count in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
    )


@dataclass
class _Group:
    """A track's or an artist's figures, summed over the grouped rows; a track is labelled
    by the greatest name and artist among its rows (as ``max()`` over its plays)."""

    key: str
    name: str = ""
    artist: str = ""
    plays: int = 0
    listened_ms: int = 0
    duration_ms: int = 0

    def add(self, name: str, artist: str, figures: tuple[int, int, int]) -> None:
        self.name = max(self.name, name)
        self.artist = max(self.artist, artist)
        self.plays += figures[0]
        self.listened_ms += figures[1]
        self.duration_ms += figures[2]

    def out(self, *, heard: bool) -> CountOut:
        share = self.listened_ms / self.duration_ms if heard and self.duration_ms else None
        return CountOut(
            key=self.key,
            label=f"{self.artist} - {self.name}" if self.artist else self.name,
            plays=self.plays,
            listened_ms=self.listened_ms,
            heard=min(1.0, share) if share is not None else None,
        )


def _top(groups: dict[str, _Group], limit: int, *, heard: bool) -> list[CountOut]:
    ranked = sorted(groups.values(), key=lambda g: (-g.plays, g.key))[:limit]
    return [group.out(heard=heard) for group in ranked]


async def top_tracks_and_artists(
    session: AsyncSession, selected: PlayFilter, limit: int
) -> tuple[list[CountOut], list[CountOut]]:
    """The top tracks and the top (first) artists, from one statement grouped by track
    and artist: an artist's figures are the sum of its tracks'. How much of a track was
    heard is its time heard over its plays' durations (the mean share of its plays, as
    a track's duration does not change), summed as integers: no division per play."""
    rows = await session.execute(
        select(
            Play.item_uri,
            Play.artist,
            func.max(Play.name),
            func.count(),
            func.coalesce(func.sum(Play.listened_ms), 0),
            func.coalesce(func.sum(Play.duration_ms), 0),
        )
        .where(*_where(selected), or_(Play.item_uri.is_not(None), Play.artist.is_not(None)))
        .group_by(Play.item_uri, Play.artist)
    )
    tracks: dict[str, _Group] = {}
    artists: dict[str, _Group] = {}
    for uri, artist, name, plays, listened, duration in rows:
        figures = (int(plays), int(listened or 0), int(duration or 0))
        if uri is not None:
            tracks.setdefault(uri, _Group(uri)).add(str(name), artist or "", figures)
        if artist is not None:
            artists.setdefault(artist, _Group(artist)).add(artist, "", figures)
    return _top(tracks, limit, heard=True), _top(artists, limit, heard=False)


async def top_by(
    session: AsyncSession, selected: PlayFilter, column: Any, limit: int
) -> list[CountOut]:
    """The top values of ``column`` (the requester) by plays."""
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
