"""The request feeder's SQL beside the queue's (``requests.repository``, whose lock and
order it uses): the requests handed to Spotify and playing, where the streamer's own
music is to resume, who asked for what plays, and which accounts have requests on their
way.

Each function takes the session of a short unit of work opened by the caller (the feeder
opens one around each decision, never across a Spotify call).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.kit.db import utcnow
from tunedeck.requests import repository as queue_repository
from tunedeck.requests.models import RequestPlayback, SongRequest

QUEUED = "queued"
SENT = "sent"
PLAYING = "playing"
ON_ITS_WAY = (QUEUED, SENT, PLAYING)
"""States of a request that still needs the account polled: waiting, handed over, playing."""


@dataclass(frozen=True, slots=True)
class InPlay:
    """The requests of an account between TuneDeck and the listener: the one handed to
    Spotify and not yet seen playing, the one playing, and whether others wait."""

    sent: SongRequest | None
    playing: SongRequest | None
    waiting: bool


async def lock_queue(session: AsyncSession, account_id: uuid.UUID) -> None:
    """Take the account's queue lock until the unit of work ends (the service's lock:
    the settings row's ``version`` bumped, the row made first if missing)."""
    await queue_repository.lock_queue(session, account_id)


async def in_play(session: AsyncSession, account_id: uuid.UUID) -> InPlay:
    """The account's sent and playing requests (the earliest of each), and whether any
    request is queued."""
    rows = await queue_repository.in_state(session, account_id, (SENT, PLAYING))
    waiting = await next_queued(session, account_id) is not None
    return InPlay(
        sent=next((row for row in rows if row.state == SENT), None),
        playing=next((row for row in rows if row.state == PLAYING), None),
        waiting=waiting,
    )


async def next_queued(session: AsyncSession, account_id: uuid.UUID) -> SongRequest | None:
    """The queued request that plays first (the queue's order)."""
    return await queue_repository.next_queued(session, account_id)


async def request(
    session: AsyncSession, account_id: uuid.UUID, request_id: uuid.UUID
) -> SongRequest | None:
    """One of the account's requests."""
    row = await session.get(SongRequest, request_id)
    return row if row is not None and row.account_id == account_id else None


async def resume_point(session: AsyncSession, account_id: uuid.UUID) -> RequestPlayback | None:
    """Where the streamer's own music was when a request interrupted it, if it was."""
    row = await session.get(RequestPlayback, account_id)
    return row if row is not None and row.resume_context_uri is not None else None


async def save_resume_point(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    context_uri: str,
    item_uri: str | None,
    position_ms: int | None,
) -> None:
    """Remember where the streamer's music was (replacing what was remembered)."""
    row = await session.get(RequestPlayback, account_id)
    if row is None:
        row = RequestPlayback(account_id=account_id)
        session.add(row)
    row.resume_context_uri = context_uri
    row.resume_item_uri = item_uri
    row.resume_position_ms = position_ms
    row.updated_at = utcnow()


async def clear_resume_point(session: AsyncSession, account_id: uuid.UUID) -> None:
    """The streamer's music resumed (or was replaced): nothing to resume any more."""
    row = await session.get(RequestPlayback, account_id)
    if row is not None:
        row.resume_context_uri = None
        row.resume_item_uri = None
        row.resume_position_ms = None
        row.updated_at = utcnow()


async def requester_name(
    session: AsyncSession, account_id: uuid.UUID, track_uri: str
) -> str | None:
    """The display name of the viewer whose request is ``track_uri``, when that request is
    the one handed to Spotify or playing."""
    name: str | None = await session.scalar(
        select(SongRequest.viewer_name)
        .where(
            SongRequest.account_id == account_id,
            SongRequest.state.in_((SENT, PLAYING)),
            SongRequest.track_uri == track_uri,
        )
        .order_by(SongRequest.rank)
        .limit(1)
    )
    return name


async def accounts_with_requests(session: AsyncSession) -> set[uuid.UUID]:
    """Accounts with a request queued, handed to Spotify or playing (to be polled)."""
    found: Sequence[uuid.UUID] = (
        await session.scalars(
            select(SongRequest.account_id).where(SongRequest.state.in_(ON_ITS_WAY)).distinct()
        )
    ).all()
    return set(found)
