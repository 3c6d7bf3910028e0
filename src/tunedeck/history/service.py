"""The play history's operations, called by every door (REST, GraphQL, the command line,
the chat door): reading plays, starting and stopping streams, exports, stats, saving a
stream as a Spotify playlist.

Permissions: reading with ``spotify:read``; starting and stopping streams with
``streams:manage``; saving a playlist with ``spotify:playlist``. A stream id of another
account is answered as a missing one (404).
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError

from tunedeck.accounts.context import CallContext, authorize
from tunedeck.accounts.permissions import Permission
from tunedeck.history import exports, repository, stats
from tunedeck.history.models import Play, Stream
from tunedeck.history.repository import PlayFilter
from tunedeck.history.schemas import (
    ExportIn,
    ExportOut,
    HistoryQueryIn,
    PlayOut,
    PlayPage,
    SavedPlaylistOut,
    SavePlaylistIn,
    StartStreamIn,
    StatsOut,
    StatsQueryIn,
    StreamOut,
    StreamsOut,
)
from tunedeck.kit.db import utcnow
from tunedeck.kit.errors import Conflict, NotFound, invalid_input
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.player.context import PlayerContext, client, spotify

READ = Permission.SPOTIFY_READ
MANAGE = Permission.STREAMS_MANAGE
MAX_EXPORT_PLAYS = 5000
MAX_STATS_PERIOD = timedelta(days=366 * 2)
MEDIA_TYPES = {
    "youtube": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "markdown": "text/markdown; charset=utf-8",
    "m3u": "audio/x-mpegurl; charset=utf-8",
}
EXTENSIONS = {"youtube": "txt", "csv": "csv", "json": "json", "markdown": "md", "m3u": "m3u8"}

# ---- plays -------------------------------------------------------------------------------


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _check_period(
    since: datetime | None, until: datetime | None, *, names: tuple[str, str]
) -> None:
    if since is not None and until is not None and until <= since:
        raise invalid_input(
            names[1], f"{names[1]} must come after {names[0]} (the period is reversed)"
        )


def encode_cursor(play: Play | Row[Any]) -> str:
    raw = f"{play.started_at.timestamp():.6f}/{play.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, play_id = raw.partition("/")
        return datetime.fromtimestamp(float(stamp), UTC), uuid.UUID(play_id)
    except (ValueError, UnicodeDecodeError):
        raise invalid_input("cursor", "not a cursor this API gave") from None


async def _own_stream(ctx: CallContext, work_session: object, stream_id: uuid.UUID) -> Stream:
    found = await repository.stream(work_session, ctx.account_id, stream_id)  # type: ignore[arg-type]
    if found is None:
        raise NotFound(f"no stream {stream_id}", code="stream_not_found")
    return found


async def _own_stream_row(ctx: CallContext, stream_id: uuid.UUID) -> Row[Any]:
    found = await ctx.units.read_alone(repository.stream_query(ctx.account_id, stream_id))
    if not found:
        raise NotFound(f"no stream {stream_id}", code="stream_not_found")
    return found[0]


async def history(ctx: CallContext, query: HistoryQueryIn) -> PlayPage:
    """A page of plays, newest first: a stream's or a period's, optionally searched."""
    account_id = authorize(ctx, READ)
    since, until = _aware(query.since), _aware(query.until)
    _check_period(since, until, names=("since", "until"))
    before = decode_cursor(query.cursor) if query.cursor else None
    selected = PlayFilter(account_id, query.stream, since, until, query.search or None)
    # One statement, no unit of work around it (UnitsOfWork.read_alone). The plays read
    # are the account's own whatever the stream id: only an empty page needs to tell "no
    # such stream here" (404) from "no plays in it".
    rows = await ctx.units.read_alone(
        repository.plays_page_query(selected, before=before, limit=query.limit + 1)
    )
    if not rows and query.stream is not None:
        await _own_stream_row(ctx, query.stream)
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return PlayPage(
        items=[PlayOut.of(row) for row in rows],
        next_cursor=encode_cursor(rows[-1]) if more and rows else None,
    )


async def last_plays(units: UnitsOfWork, account_id: uuid.UUID, count: int = 1) -> list[PlayOut]:
    """The account's last ``count`` plays, newest first (the chat door's ``!lastsong``;
    the one playing now included)."""
    async with units.begin() as work:
        rows = await repository.plays_page(
            work.session, PlayFilter(account_id), before=None, limit=max(1, min(count, 50))
        )
    return [PlayOut.of(row) for row in rows]


async def current_stream_plays(units: UnitsOfWork, account_id: uuid.UUID) -> list[PlayOut]:
    """The plays of the stream live now, in order (the chat door's ``!songlist``);
    empty when no stream is live."""
    async with units.begin() as work:
        live = await repository.open_stream(work.session, account_id)
        if live is None:
            return []
        rows = await repository.plays_in_order(
            work.session, PlayFilter(account_id, live.id), MAX_EXPORT_PLAYS
        )
    return [PlayOut.of(row) for row in rows]


async def note_request(
    units: UnitsOfWork,
    account_id: uuid.UUID,
    track_uri: str,
    request_id: uuid.UUID,
    requested_by: str,
) -> bool:
    """The request feeder's hook: the open play of ``track_uri`` is that request (when
    the recorder did not find it playing in ``song_requests`` already). False when the
    account's open play is of another item."""
    async with units.begin() as work:
        return await repository.set_request(
            work.session, account_id, track_uri, request_id, requested_by[:100]
        )


# ---- streams -----------------------------------------------------------------------------


async def streams(ctx: CallContext, *, limit: int = 100) -> StreamsOut:
    account_id = authorize(ctx, READ)
    async with ctx.begin() as work:
        rows = await repository.list_streams(work.session, account_id, before=None, limit=limit)
    return StreamsOut(items=[StreamOut.of(s, plays, heard) for s, plays, heard in rows])


async def start_stream(ctx: CallContext, request: StartStreamIn) -> StreamOut:
    """Start a stream; the play open now belongs to it. 409 when one is live already."""
    account_id = authorize(ctx, MANAGE)
    row = Stream(
        id=uuid.uuid4(),
        account_id=account_id,
        title=request.title,
        started_at=utcnow(),
        started_by=ctx.principal.label,
    )
    try:
        async with ctx.begin() as work:
            if await repository.open_stream(work.session, account_id) is not None:
                raise _already_live()
            await repository.add_stream(work.session, row)
            await repository.attach_open_play(work.session, account_id, row)
    except IntegrityError:  # started at the same moment elsewhere
        raise _already_live() from None
    return StreamOut.of(row)


def _already_live() -> Conflict:
    return Conflict("a stream is live already: stop it first", code="stream_live")


async def stop_stream(ctx: CallContext, stream_id: uuid.UUID) -> StreamOut:
    """Stop the stream; stopping one stopped already answers it as it is."""
    authorize(ctx, MANAGE)
    async with ctx.begin() as work:
        row = await _own_stream(ctx, work.session, stream_id)
        if row.stopped_at is None:
            await repository.stop_stream(work.session, row, utcnow(), ctx.principal.label)
    return StreamOut.of(row)


async def _stream_plays(ctx: CallContext, stream_id: uuid.UUID) -> tuple[Row[Any], list[PlayOut]]:
    """The stream and its plays in order: two reads, no unit of work (nothing changes)."""
    row = await _own_stream_row(ctx, stream_id)
    plays = await ctx.units.read_alone(
        repository.plays_in_order_query(PlayFilter(ctx.account_id, stream_id), MAX_EXPORT_PLAYS)
    )
    return row, [PlayOut.of(play) for play in plays]


async def export(ctx: CallContext, stream_id: uuid.UUID, request: ExportIn) -> ExportOut:
    """The stream in ``request.format``; YouTube chapters the stream cannot make
    (fewer than three of 10 s) are refused with 422, saying why."""
    authorize(ctx, READ)
    row, plays = await _stream_plays(ctx, stream_id)
    kind = request.format
    if kind == "youtube":
        try:
            content = exports.youtube(
                plays, offset_ms=request.offset_seconds * 1000, prefix=request.prefix
            )
        except exports.TooFewChaptersError as exc:
            raise invalid_input("format", str(exc), rule="too_few_chapters") from None
    elif kind == "csv":
        content = exports.to_csv(plays)
    elif kind == "json":
        content = exports.to_json(plays)
    elif kind == "markdown":
        content = exports.to_markdown(plays, title=row.title)
    else:
        content = exports.to_m3u(plays)
    name = f"stream-{row.started_at:%Y-%m-%d}-{str(row.id)[:8]}.{EXTENSIONS[kind]}"
    return ExportOut(format=kind, media_type=MEDIA_TYPES[kind], filename=name, content=content)


async def save_playlist(
    ctx: PlayerContext, stream_id: uuid.UUID, request: SavePlaylistIn
) -> SavedPlaylistOut:
    """Create a Spotify playlist of the stream's tracks, in order, each once (added 100
    per call, Spotify's limit); 422 when the stream played no track."""
    authorize(ctx, Permission.SPOTIFY_PLAYLIST)
    row, plays = await _stream_plays(ctx, stream_id)
    uris = list(
        dict.fromkeys(
            p.item_uri for p in plays if p.item_type in ("track", "episode") and p.item_uri
        )
    )
    if not uris:
        raise invalid_input("stream", "the stream played no track to save")
    name = request.name or row.title or f"Stream of {row.started_at:%Y-%m-%d}"
    spotify_client = await client(ctx)
    async with spotify():
        created = await spotify_client.create_playlist(
            name, public=request.public, description="Played on stream, saved by TuneDeck"
        )
        await spotify_client.add_playlist_items(created.id, uris)
    ctx.cache.invalidate(ctx.account_id)
    return SavedPlaylistOut(
        playlist_id=created.id,
        playlist_uri=created.uri,
        url=created.external_urls.get("spotify"),
        tracks=len(uris),
    )


# ---- stats -------------------------------------------------------------------------------


async def stats_of(ctx: CallContext, query: StatsQueryIn) -> StatsOut:
    """Stats of a stream, or of a period (both ends required, at most two years)."""
    account_id = authorize(ctx, READ)
    since, until = _aware(query.since), _aware(query.until)
    if query.stream is None:
        if since is None or until is None:
            raise invalid_input("from", "give a stream, or a period with both from and to")
        _check_period(since, until, names=("from", "to"))
        if until - since > MAX_STATS_PERIOD:
            raise invalid_input("to", "a period of stats spans two years at most")
    async with ctx.begin() as work:
        session = work.session
        timeline: list[PlayOut] = []
        if query.stream is not None:
            row = await _own_stream(ctx, session, query.stream)
            since, until = row.started_at, row.stopped_at or utcnow()
            selected = PlayFilter(account_id, query.stream)
            plays = await repository.plays_in_order(session, selected, MAX_EXPORT_PLAYS)
            timeline = [PlayOut.of(play) for play in plays]
        else:
            selected = PlayFilter(account_id, since=since, until=until)
        assert since is not None
        assert until is not None
        rows = await stats.grouped(session, selected)
        totals = stats.totals(rows)
        tracks, artists = stats.top_tracks_and_artists(rows, query.top)
        requesters = stats.top_requesters(rows, query.top)
        asked = await stats.requests(session, account_id, since, until)
    return StatsOut(
        since=since,
        until=until,
        stream_id=query.stream,
        plays=totals.plays,
        listened_ms=totals.listened_ms,
        top_tracks=tracks,
        top_artists=artists,
        top_requesters=requesters,
        skip_rate=totals.overall,
        skip_rate_requests=totals.requests,
        skip_rate_own=totals.own,
        end_reasons=totals.end_reasons,
        requests_accepted=asked.accepted,
        requests_refused=asked.refused,
        request_wait_ms=asked.wait_ms,
        timeline=timeline,
    )
