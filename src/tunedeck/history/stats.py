"""The statements behind ``/v1/stats``: aggregates over one account's plays (a stream's
or a period's), and its requests from the request queue's table.

Three groupings make every figure: by how plays ended and where they came from (totals,
skip rates, end reasons), by track and first artist (both tops: an artist's figures are
its tracks' summed), by requester. Each is read as grouped rows, from the plays (a
stream, a period's edges) and, for a period's closed months, from their sums
(``history.months``: a year is some sixty thousand sums instead of two hundred thousand
plays), and the rows are folded here, so a figure is the same whichever way it came.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, cast, func, or_, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.history import months
from tunedeck.history.models import Play
from tunedeck.history.months import Grouping
from tunedeck.history.repository import PlayFilter, _where
from tunedeck.history.schemas import CountOut, RuleCountOut, SkipRateOut
from tunedeck.requests.models import SongRequest

SKIPS = ("skipped", "previous")
ENDED = ("natural", "skipped", "previous", "replaced", "stopped")

WORK_MEM = "32MB"
"""PostgreSQL's memory for one sort or hash of the stats (the default is 4 MB). A year's
grouping by track hashes some sixty thousand rows in about 4 MB; the planner, which
reckons a row of the union at a kilobyte, would sort them on disk instead, in twice
the time (16 MB is enough for the bench's year of 5,000 tracks; twice that leaves room
for two years, the longest period, or a wider catalogue). A ceiling, not an
allocation, and for the stats' own transaction only."""


@dataclass(frozen=True, slots=True)
class Grouped:
    """The rows of the three groupings (every source of rows summed together)."""

    totals: list[Any]
    """(end reason, source, plays, listened ms)"""
    tracks: list[Any]
    """(uri, first artist, greatest name, plays, listened ms, duration ms)"""
    requesters: list[Any]
    """(requester, plays, listened ms)"""


async def grouped(session: AsyncSession, selected: PlayFilter) -> Grouped:
    """The grouped rows of ``selected``: a stream's from its plays; a period's from the
    sums of its longest run of summed-up months and from the plays of the rest of it,
    each grouping one statement over both (``UNION ALL``, summed again)."""
    await _room_to_hash(session)
    account_id = selected.account_id
    parts: list[tuple[Grouping, Grouping, Grouping]] = []
    if selected.stream_id is not None or selected.since is None or selected.until is None:
        parts.append(_plays(selected))
    else:
        run = await months.summed_run(session, account_id, selected.since, selected.until)
        if run is not None:
            parts.append(
                (
                    months.totals_sums(account_id, run),
                    months.track_sums(account_id, run),
                    months.requester_sums(account_id, run),
                )
            )
        for since, until in months.uncovered(selected.since, selected.until, run):
            parts.append(_plays(PlayFilter(account_id, since=since, until=until)))
    totals, tracks, requesters = (
        _summed([part[index] for part in parts], keys, named=index == 1)
        for index, keys in enumerate((2, 2, 1))
    )
    return Grouped(
        totals=list(await session.execute(totals)),
        tracks=list(await session.execute(tracks)),
        requesters=list(await session.execute(requesters)),
    )


async def _room_to_hash(session: AsyncSession) -> None:
    """:data:`WORK_MEM` for the rest of the transaction, on PostgreSQL. Every statement of
    the stats is planned in it, prepared ones included (asyncpg keeps their plans)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))


def _total(column: Any) -> ColumnElement[int]:
    """The sum of ``column`` over a group, 0 for none, as a 64-bit integer: PostgreSQL sums
    a bigint as a numeric, which the driver would decode into a Decimal per row."""
    return cast(func.coalesce(func.sum(column), 0), BigInteger)


def _plays(selected: PlayFilter) -> tuple[Grouping, Grouping, Grouping]:
    """The three groupings of ``selected``'s plays, in the shapes of the months' sums."""
    where = _where(selected)
    heard = _total(Play.listened_ms)
    totals = (
        select(Play.end_reason, Play.source, func.count(), heard)
        .where(*where)
        .group_by(Play.end_reason, Play.source)
    )
    tracks = (
        select(
            Play.item_uri,
            Play.artist,
            func.max(Play.name),
            func.count(),
            heard,
            _total(Play.duration_ms),
        )
        .where(*where, or_(Play.item_uri.is_not(None), Play.artist.is_not(None)))
        .group_by(Play.item_uri, Play.artist)
    )
    requesters = (
        select(Play.requested_by, func.count(), heard)
        .where(*where, Play.requested_by.is_not(None))
        .group_by(Play.requested_by)
    )
    return totals, tracks, requesters


def _summed(selects: list[Grouping], keys: int, *, named: bool) -> Grouping:
    """One statement summing ``selects`` (same shape: ``keys`` key columns, then a name
    when ``named``, then figures) by their keys; a track keeps its greatest name."""
    if len(selects) == 1:
        return selects[0]
    rows = union_all(*selects).subquery()
    key_columns, rest = list(rows.c)[:keys], list(rows.c)[keys:]
    name = [func.max(rest.pop(0))] if named else []
    return select(*key_columns, *name, *(_total(c) for c in rest)).group_by(*key_columns)


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


def totals(rows: Grouped) -> Totals:
    """Plays, minutes, skip rates and end reasons, from the rows grouped by how each play
    ended and where it came from (a dozen groups at most, per source of rows)."""
    plays = listened = ended = skipped = ended_req = skipped_req = 0
    reasons: dict[str, int] = {}
    for reason, source, count, heard in rows.totals:
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
    """A track's, an artist's or a requester's figures, summed over the grouped rows; a
    track is labelled by the greatest name and artist among its rows (as ``max()`` over
    its plays)."""

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


def _group(groups: dict[str, _Group], key: str) -> _Group:
    """The group of ``key``, made the first time only (``setdefault`` would make one for
    every row: thousands per year's stats)."""
    group = groups.get(key)
    if group is None:
        group = groups[key] = _Group(key)
    return group


def _top(groups: dict[str, _Group], limit: int, *, heard: bool) -> list[CountOut]:
    ranked = sorted(groups.values(), key=lambda g: (-g.plays, g.key))[:limit]
    return [group.out(heard=heard) for group in ranked]


def top_tracks_and_artists(rows: Grouped, limit: int) -> tuple[list[CountOut], list[CountOut]]:
    """The top tracks and the top (first) artists, from the rows grouped by track and
    artist: an artist's figures are the sum of its tracks'. How much of a track was heard
    is its time heard over its plays' durations (the mean share of its plays, as a
    track's duration does not change), summed as integers: no division per play."""
    tracks: dict[str, _Group] = {}
    artists: dict[str, _Group] = {}
    for uri, artist, name, plays, listened, duration in rows.tracks:
        figures = (int(plays), int(listened or 0), int(duration or 0))
        if uri is not None:
            _group(tracks, uri).add(str(name), artist or "", figures)
        if artist is not None:
            _group(artists, artist).add(artist, "", figures)
    return _top(tracks, limit, heard=True), _top(artists, limit, heard=False)


def top_requesters(rows: Grouped, limit: int) -> list[CountOut]:
    """The requesters whose requests played most (ties by name)."""
    requesters: dict[str, _Group] = {}
    for who, plays, listened in rows.requesters:
        _group(requesters, who).add(who, "", (int(plays), int(listened), 0))
    ranked = sorted(requesters.values(), key=lambda g: (-g.plays, g.key))[:limit]
    return [
        CountOut(key=g.key, label=g.key, plays=g.plays, listened_ms=g.listened_ms) for g in ranked
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
