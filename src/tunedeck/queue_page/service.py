"""The public queue page: turned on, given a new link or turned off by a moderator, and
what its link shows (built here, for the page's feed).

Turning it on makes a new random link each time (the old one stops at once), so "a new
link" is turning it on again. Each change is a ``request:settings`` event (its params
never carry the link), which also tells the pages open on the old link to close.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.accounts.context import CallContext, authorize
from tunedeck.accounts.permissions import Permission
from tunedeck.events.recorder import record_event
from tunedeck.events.schemas import Actor
from tunedeck.events.types import EventType
from tunedeck.kit.unit_of_work import UnitOfWork
from tunedeck.queue_page import repository
from tunedeck.queue_page.models import QueuePageLink
from tunedeck.queue_page.schemas import (
    PublicItem,
    PublicPlaying,
    PublicQueue,
    PublicTrack,
    QueuePageOut,
)
from tunedeck.requests import repository as requests_repository
from tunedeck.requests.models import SongRequest
from tunedeck.requests.present import queue_out
from tunedeck.requests.schemas import RequestOut, State

PAGE_PATH = "/q"
PUBLIC_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")
"""What a link's id looks like (24 random bytes, URL-safe base64): others are not looked up."""
COMING_SHOWN = 50
"""The most songs the page lists as coming."""


def page_url(public_url: str, public_id: str) -> str:
    return f"{public_url.rstrip('/')}{PAGE_PATH}/{public_id}"


def _out(link: QueuePageLink | None, public_url: str) -> QueuePageOut:
    if link is None:
        return QueuePageOut(enabled=False)
    return QueuePageOut(
        enabled=True, url=page_url(public_url, link.public_id), created_at=link.created_at
    )


async def get_page(ctx: CallContext, public_url: str) -> QueuePageOut:
    """Whether the account's page is on, and its link (``requests:read``)."""
    account_id = authorize(ctx, Permission.REQUESTS_READ)
    async with ctx.begin() as work:
        return _out(await repository.of_account(work.session, account_id), public_url)


async def turn_on(ctx: CallContext, public_url: str) -> QueuePageOut:
    """Turn the page on with a new link; an older link stops (``requests:moderate``)."""
    account_id = authorize(ctx, Permission.REQUESTS_MODERATE)
    async with ctx.begin() as work:
        replaced = await repository.of_account(work.session, account_id) is not None
        link = await repository.put(work.session, account_id, secrets.token_urlsafe(24))
        await _record(work, ctx, "new link" if replaced else "on")
        return _out(link, public_url)


async def turn_off(ctx: CallContext, public_url: str) -> QueuePageOut:
    """Turn the page off: its link stops at once (``requests:moderate``)."""
    account_id = authorize(ctx, Permission.REQUESTS_MODERATE)
    async with ctx.begin() as work:
        if await repository.remove(work.session, account_id):
            await _record(work, ctx, "off")
    return _out(None, public_url)


async def _record(work: UnitOfWork, ctx: CallContext, change: str) -> None:
    await record_event(
        work,
        account_id=ctx.account_id,
        event_type=EventType.REQUEST_SETTINGS,
        actor=Actor.from_principal(ctx.principal),
        params={"queue_page": change},
        track=None,
    )


async def account_of(session: AsyncSession, public_id: str) -> uuid.UUID | None:
    """The account whose page the link ``public_id`` opens, if it is on."""
    if not PUBLIC_ID.match(public_id):
        return None
    return await repository.account_of(session, public_id)


# ---- what the page shows ---------------------------------------------------------------------


def remaining_ms(now_playing: dict[str, Any] | None, server_time: int, now_ms: int) -> int | None:
    """What is left of the playing item as of ``now_ms``, from a now_playing (wire form)
    read at ``server_time``; None when nothing is known to play."""
    if not now_playing or not now_playing.get("is_playing"):
        return None
    track, progress = now_playing.get("track"), now_playing.get("progress_ms")
    if not isinstance(track, dict) or not isinstance(progress, int):
        return None
    duration = track.get("duration_ms")
    if not isinstance(duration, int):
        return None
    return max(0, duration - progress - max(0, now_ms - server_time))


def _public_track(track: dict[str, Any]) -> PublicTrack:
    return PublicTrack(
        name=str(track.get("name") or ""),
        artists=[str(artist) for artist in track.get("artists") or []],
        album_art_url=track.get("album_art_url"),
        duration_ms=track.get("duration_ms"),
    )


def _playing(now_playing: dict[str, Any] | None, rows: list[SongRequest]) -> PublicPlaying | None:
    track = now_playing.get("track") if now_playing else None
    if not now_playing or not isinstance(track, dict):
        return None
    requested_by = now_playing.get("requested_by")
    if requested_by is None:
        # The feeder names it in now_playing; a request seen playing names it too.
        playing = [r for r in rows if r.state == State.PLAYING and r.track_uri == track.get("uri")]
        requested_by = playing[0].viewer_name if playing else None
    return PublicPlaying(
        track=_public_track(track),
        requested_by=requested_by,
        is_playing=bool(now_playing.get("is_playing")),
        progress_ms=now_playing.get("progress_ms"),
    )


def _coming(shown: list[RequestOut]) -> list[PublicItem]:
    sent = [_item(request) for request in shown if request.state is State.SENT]
    queued = [_item(request) for request in shown if request.state is State.QUEUED]
    return [*sent, *_renumbered(queued)][:COMING_SHOWN]


def _item(request: RequestOut) -> PublicItem:
    return PublicItem(
        position=None,
        track=_public_track(request.track.model_dump()),
        requested_by=request.viewer.display_name,
        eta_ms=request.eta_ms,
    )


def _renumbered(items: list[PublicItem]) -> list[PublicItem]:
    """Positions among the songs shown (pending requests are not)."""
    return [item.model_copy(update={"position": index}) for index, item in enumerate(items, 1)]


async def public_queue(
    session: AsyncSession,
    account_id: uuid.UUID,
    now_playing: dict[str, Any] | None,
    server_time: int,
) -> PublicQueue:
    """The page as its link shows it now (module doc of ``schemas``: nothing else)."""
    now_ms = int(time.time() * 1000)
    settings = (await requests_repository.read_settings(session, account_id)).settings
    rows = await requests_repository.in_queue(session, account_id)
    shown = queue_out(rows, remaining_ms(now_playing, server_time, now_ms))
    return PublicQueue(
        open=settings.open,
        closed_message=settings.closed_message,
        playing=_playing(now_playing, rows),
        coming=_coming(shown),
        server_time=now_ms,
    )
