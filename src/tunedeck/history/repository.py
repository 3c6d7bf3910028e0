"""Every statement of the play history: the open play, plays, streams, and what the
recorder reads of other domains' tables (the commands' events, the request playing).

Nothing here commits: callers run these inside their unit of work.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, and_, delete, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.events.models import OutboxEvent, PlatformEvent
from tunedeck.history.models import SEARCH_SEPARATOR, OpenPlay, Play, Stream, normalized
from tunedeck.history.tracking import Current
from tunedeck.requests.models import SongRequest

# ---- the open play -----------------------------------------------------------------------


def current_of(row: OpenPlay) -> Current:
    return Current(
        play_id=row.play_id,
        started_at=row.started_at,
        item_uri=row.item_uri,
        item_type=row.item_type,
        duration_ms=row.duration_ms,
        context_uri=row.context_uri,
        is_playing=row.is_playing,
        progress_ms=row.progress_ms,
        seen_at=row.seen_at,
        listened_ms=row.listened_ms,
        stream_id=row.stream_id,
    )


async def open_play(session: AsyncSession, account_id: uuid.UUID) -> Current | None:
    row = await session.get(OpenPlay, account_id, populate_existing=True)
    return current_of(row) if row is not None else None


async def open_plays(session: AsyncSession) -> list[tuple[uuid.UUID, Current]]:
    """Every account's open play (maintenance: plays nobody follows any more)."""
    rows = await session.scalars(select(OpenPlay))
    return [(row.account_id, current_of(row)) for row in rows]


def _open_row(account_id: uuid.UUID, current: Current) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "play_id": current.play_id,
        "started_at": current.started_at,
        "item_uri": current.item_uri,
        "item_type": current.item_type,
        "duration_ms": current.duration_ms,
        "context_uri": current.context_uri,
        "is_playing": current.is_playing,
        "progress_ms": current.progress_ms,
        "seen_at": current.seen_at,
        "listened_ms": current.listened_ms,
        "stream_id": current.stream_id,
    }


async def insert_play(
    session: AsyncSession, account_id: uuid.UUID, current: Current, play: dict[str, Any]
) -> Play:
    """The play and its open row; the open row's primary key refuses a second open play
    of the account (IntegrityError: another process opened one first)."""
    session.add(OpenPlay(**_open_row(account_id, current)))
    await session.flush()
    row = Play(**play)
    session.add(row)
    await session.flush()
    return row


async def update_open(session: AsyncSession, account_id: uuid.UUID, current: Current) -> bool:
    """Write the open play's playhead; False when it is no longer the open play."""
    values = _open_row(account_id, current)
    result = await session.execute(
        update(OpenPlay)
        .where(OpenPlay.account_id == account_id, OpenPlay.play_id == current.play_id)
        .values(**values)
    )
    return bool(getattr(result, "rowcount", 0))


async def close_play(
    session: AsyncSession, account_id: uuid.UUID, current: Current, values: dict[str, Any]
) -> bool:
    """End the open play with ``values`` (ended_at, end_reason, ...); False when another
    process closed it first (nothing changed then)."""
    result = await session.execute(
        delete(OpenPlay).where(
            OpenPlay.account_id == account_id, OpenPlay.play_id == current.play_id
        )
    )
    if not getattr(result, "rowcount", 0):
        return False
    await session.execute(
        update(Play)
        .where(Play.id == current.play_id, Play.started_at == current.started_at)
        .values(**values)
    )
    return True


async def set_request(
    session: AsyncSession,
    account_id: uuid.UUID,
    item_uri: str,
    request_id: uuid.UUID,
    requested_by: str,
) -> bool:
    """Mark the account's open play of ``item_uri`` as that request; False when the
    open play is of another item (or there is none)."""
    row = await session.get(OpenPlay, account_id)
    if row is None or row.item_uri != item_uri:
        return False
    await session.execute(
        update(Play)
        .where(Play.id == row.play_id, Play.started_at == row.started_at)
        .values(
            request_id=request_id,
            requested_by=requested_by,
            source="request",
            search_text=Play.search_text + SEARCH_SEPARATOR + normalized(requested_by),
        )
    )
    return True


# ---- what other domains say ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    """A command through TuneDeck: its event type, who did it and its params."""

    type: str
    actor: str
    params: dict[str, Any]
    at: datetime


async def recent_commands(
    session: AsyncSession, account_id: uuid.UUID, types: Sequence[str], since: datetime
) -> list[Command]:
    """The account's commands of ``types`` since ``since``, newest first: stored events,
    and those still in the outbox (not relayed yet)."""
    stored = await session.execute(
        select(
            PlatformEvent.event_type,
            PlatformEvent.actor_label,
            PlatformEvent.params,
            PlatformEvent.occurred_at,
        )
        .where(
            PlatformEvent.account_id == account_id,
            PlatformEvent.event_type.in_(list(types)),
            PlatformEvent.occurred_at >= since,
        )
        .order_by(PlatformEvent.occurred_at.desc())
        .limit(20)
    )
    found = {(t, at, a): Command(t, a, dict(p or {}), at) for t, a, p, at in stored}
    waiting = await session.execute(
        select(OutboxEvent.payload, OutboxEvent.occurred_at).where(
            OutboxEvent.account_id == account_id, OutboxEvent.occurred_at >= since
        )
    )
    for payload, at in waiting:
        if payload.get("type") in types:
            actor = (payload.get("actor") or {}).get("label", "")
            params = dict(payload.get("params") or {})
            found[(payload["type"], at, actor)] = Command(payload["type"], actor, params, at)
    return sorted(found.values(), key=lambda command: command.at, reverse=True)


async def playing_request(
    session: AsyncSession, account_id: uuid.UUID, item_uri: str
) -> tuple[uuid.UUID, str] | None:
    """The account's request of ``item_uri`` the queue marks as playing (its id and the
    viewer's name), if any."""
    row = (
        await session.execute(
            select(SongRequest.id, SongRequest.viewer_name)
            .where(
                SongRequest.account_id == account_id,
                SongRequest.state == "playing",
                SongRequest.track_uri == item_uri,
            )
            .order_by(SongRequest.updated_at.desc())
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


# ---- streams -----------------------------------------------------------------------------


async def open_stream(session: AsyncSession, account_id: uuid.UUID) -> Stream | None:
    return await session.scalar(
        select(Stream).where(Stream.account_id == account_id, Stream.stopped_at.is_(None))
    )


async def accounts_streaming(session: AsyncSession) -> set[uuid.UUID]:
    """Accounts with a stream open (to be polled: every song of a stream is kept, an
    overlay open or not)."""
    found = await session.scalars(select(Stream.account_id).where(Stream.stopped_at.is_(None)))
    return set(found)


async def stream(
    session: AsyncSession, account_id: uuid.UUID, stream_id: uuid.UUID
) -> Stream | None:
    """The account's stream (another account's is None, as a missing one)."""
    return await session.scalar(
        select(Stream).where(Stream.id == stream_id, Stream.account_id == account_id)
    )


async def add_stream(session: AsyncSession, row: Stream) -> None:
    session.add(row)
    await session.flush()


async def list_streams(
    session: AsyncSession, account_id: uuid.UUID, *, before: datetime | None, limit: int
) -> list[tuple[Stream, int, int]]:
    """The account's streams, newest first, each with its play count and listened ms."""
    counts = (
        select(
            Play.stream_id,
            func.count().label("plays"),
            func.coalesce(func.sum(Play.listened_ms), 0).label("listened"),
        )
        .where(Play.account_id == account_id, Play.stream_id.is_not(None))
        .group_by(Play.stream_id)
        .subquery()
    )
    query = (
        select(Stream, counts.c.plays, counts.c.listened)
        .outerjoin(counts, counts.c.stream_id == Stream.id)
        .where(Stream.account_id == account_id)
    )
    if before is not None:
        query = query.where(Stream.started_at < before)
    query = query.order_by(Stream.started_at.desc()).limit(limit)
    rows = await session.execute(query)
    return [(s, int(plays or 0), int(listened or 0)) for s, plays, listened in rows]


async def attach_open_play(
    session: AsyncSession, account_id: uuid.UUID, stream_row: Stream
) -> None:
    """The play open when a stream starts belongs to it (at offset 0 or before)."""
    row = await session.get(OpenPlay, account_id)
    if row is None:
        return
    # A statement, not a change of the loaded row: the recorder may close the play in the
    # meantime, and then nothing is attached (an ORM flush would fail on the missing row).
    attached = await session.execute(
        update(OpenPlay)
        .where(OpenPlay.account_id == account_id, OpenPlay.play_id == row.play_id)
        .values(stream_id=stream_row.id)
        .execution_options(synchronize_session=False)
    )
    if not getattr(attached, "rowcount", 0):
        return
    offset = round((row.started_at - stream_row.started_at).total_seconds() * 1000)
    await session.execute(
        update(Play)
        .where(Play.id == row.play_id, Play.started_at == row.started_at)
        .values(stream_id=stream_row.id, offset_ms=offset)
    )


async def stop_stream(session: AsyncSession, stream_row: Stream, at: datetime, by: str) -> None:
    stream_row.stopped_at = at
    stream_row.stopped_by = by
    await session.execute(
        update(OpenPlay)
        .where(OpenPlay.account_id == stream_row.account_id, OpenPlay.stream_id == stream_row.id)
        .values(stream_id=None)
    )
    await session.flush()


async def idle_streams(session: AsyncSession, idle_since: datetime) -> list[Stream]:
    """Open streams with nothing playing, and nothing ended since ``idle_since``."""
    last_end = (
        select(func.max(Play.ended_at))
        .where(Play.stream_id == Stream.id)
        .correlate(Stream)
        .scalar_subquery()
    )
    playing = select(OpenPlay.account_id).where(OpenPlay.account_id == Stream.account_id)
    query = select(Stream).where(
        Stream.stopped_at.is_(None),
        Stream.started_at < idle_since,
        ~playing.exists(),
        or_(last_end.is_(None), last_end < idle_since),
    )
    return list(await session.scalars(query))


# ---- plays -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlayFilter:
    """Which plays of an account: one stream's, or a period's; a search text."""

    account_id: uuid.UUID
    stream_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = None


def _where(selected: PlayFilter) -> list[Any]:
    clauses: list[Any] = [Play.account_id == selected.account_id]
    if selected.stream_id is not None:
        clauses.append(Play.stream_id == selected.stream_id)
    if selected.since is not None:
        clauses.append(Play.started_at >= selected.since)
    if selected.until is not None:
        clauses.append(Play.started_at < selected.until)
    if selected.search:
        # One normalized column (models doc): trigram-indexed on PostgreSQL.
        pattern = "%" + _escape_like(normalized(selected.search)) + "%"
        clauses.append(Play.search_text.like(pattern, escape="\\"))
    return clauses


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


PAGE_COLUMNS = tuple(column for column in Play.__table__.c if column.key != "search_text")
"""What a page shows of a play: every column but the search text."""


def plays_page_query(
    selected: PlayFilter, *, before: tuple[datetime, uuid.UUID] | None, limit: int
) -> Select[Any]:
    """Plays newest first (started_at, then id), at most ``limit``, after a cursor (keyset:
    the ``(account_id, started_at, id)`` index, or the stream's)."""
    query = select(*PAGE_COLUMNS).where(*_where(selected))
    if before is not None:
        query = query.where(tuple_(Play.started_at, Play.id) < tuple_(*before))
    return query.order_by(Play.started_at.desc(), Play.id.desc()).limit(limit)


def plays_in_order_query(selected: PlayFilter, limit: int) -> Select[Any]:
    """Plays oldest first (a stream's set list, its exports)."""
    return (
        select(*PAGE_COLUMNS)
        .where(*_where(selected))
        .order_by(Play.started_at, Play.id)
        .limit(limit)
    )


def stream_query(account_id: uuid.UUID, stream_id: uuid.UUID) -> Select[Any]:
    """The account's stream (another account's reads as a missing one)."""
    return select(Stream.__table__).where(Stream.id == stream_id, Stream.account_id == account_id)


async def plays_page(
    session: AsyncSession,
    selected: PlayFilter,
    *,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Row[Any]]:
    return list(await session.execute(plays_page_query(selected, before=before, limit=limit)))


async def plays_in_order(session: AsyncSession, selected: PlayFilter, limit: int) -> list[Row[Any]]:
    return list(await session.execute(plays_in_order_query(selected, limit)))


async def delete_plays_before(session: AsyncSession, cutoff: datetime) -> int:
    result = await session.execute(
        delete(Play).where(Play.started_at < cutoff, Play.ended_at.is_not(None))
    )
    return int(getattr(result, "rowcount", 0) or 0)


def period_clause(since: datetime, until: datetime) -> Any:
    return and_(Play.started_at >= since, Play.started_at < until)
