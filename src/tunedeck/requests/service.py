"""Song requests: the one place every door (REST, GraphQL, the chat door) calls.

Submitting runs in three steps so that a refused viewer costs no Spotify call and two
submissions at once cannot both slip under a cap:

1. parse what was typed and check the rules on cheap facts (closed, banned, caps,
   cooldown) in a short read;
2. look the song up (the matcher: cache, single flight, the streamer's market) with no
   transaction open;
3. take the account's queue lock (``repository.lock_queue``), re-read the counts, run
   every rule again and store the request with its ``request:added`` event, in one unit
   of work.

Every change a moderator makes (``requests.moderation``, re-exported here) takes the same
lock, changes what it changes and records one event with its actor in the same unit of
work: nothing is half-written. Requests of another account are never found (404).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.accounts.context import authorize
from tunedeck.accounts.permissions import Permission
from tunedeck.events.types import EventType
from tunedeck.kit.db import utcnow
from tunedeck.player.context import spotify
from tunedeck.requests import repository
from tunedeck.requests.context import RequestsContext
from tunedeck.requests.identity import ViewerKey, viewer_key
from tunedeck.requests.models import SongRequest
from tunedeck.requests.moderation import (
    approve,
    ban,
    clear,
    close_requests,
    get_settings,
    list_bans,
    move,
    open_requests,
    promote,
    reject,
    remove,
    skip,
    unban,
    update_settings,
    withdraw_last,
)
from tunedeck.requests.parsing import ParsedRequest, parse_request
from tunedeck.requests.present import track_document
from tunedeck.requests.reads import get_request, history, place_of, queue, shown
from tunedeck.requests.reasons import Reason, Refusal, refuse
from tunedeck.requests.recording import record_change
from tunedeck.requests.rules import QueueFacts, TrackFacts, ViewerFacts, check, check_viewer
from tunedeck.requests.schemas import RequestOut, Source, State
from tunedeck.requests.settings import RequestSettings
from tunedeck.requests.text import bounded
from tunedeck.requests.viewers import Viewer
from tunedeck.spotify.client import SpotifyClient
from tunedeck.spotify.errors import SpotifyError
from tunedeck.spotify.models import Track

__all__ = [
    "Submitted",
    "approve",
    "ban",
    "clear",
    "close_requests",
    "get_request",
    "get_settings",
    "history",
    "list_bans",
    "move",
    "open_requests",
    "place_of",
    "promote",
    "queue",
    "reject",
    "remove",
    "skip",
    "submit",
    "unban",
    "update_settings",
    "withdraw_last",
]

MAX_STORED_QUERY = 500
"""The ``query`` column's length: what was typed is kept cleaned and cut to it."""


@dataclass(frozen=True, slots=True)
class Submitted:
    """A request taken: queued, or pending a moderator's approval."""

    request: RequestOut


async def submit(
    ctx: RequestsContext, viewer: Viewer, text: str, source: Source
) -> Submitted | Refusal:
    """Take ``viewer``'s request for ``text`` (a link, a URI or search text), or say why
    not. Needs ``requests:submit`` (a chat token's ``!sr`` is granted it by the chat door)."""
    account_id = authorize(ctx, Permission.REQUESTS_SUBMIT)
    parsed = parse_request(text)
    if isinstance(parsed, Refusal):
        return parsed
    key = viewer_key(viewer)
    async with ctx.begin() as work:
        settings = (await repository.read_settings(work.session, account_id)).settings
        facts = await _viewer_facts(work.session, account_id, viewer, key)
        length = await repository.waiting_count(work.session, account_id)
    refused = check_viewer(settings, facts, QueueFacts(length=length), utcnow())
    if refused is not None:
        return refused
    found = await _look_up(ctx, parsed, settings.rules_for(viewer.role).explicit_allowed)
    if isinstance(found, Refusal):
        return found
    allowlist = await _allowlist(ctx, settings)
    return await _take(ctx, viewer, key, text, source, found, allowlist)


async def _viewer_facts(
    session: AsyncSession, account_id: uuid.UUID, viewer: Viewer, key: ViewerKey
) -> ViewerFacts:
    banned = await repository.is_banned(session, account_id, key.platform, key.ban_ids)
    waiting, last = await repository.viewer_counts(session, account_id, key.platform, key.id)
    return ViewerFacts(role=viewer.role, banned=banned, waiting=waiting, last_request_at=last)


async def _queue_facts(
    session: AsyncSession, account_id: uuid.UUID, settings: RequestSettings, now: datetime
) -> QueueFacts:
    window = repository.recent_window(now, settings.duplicate_window_minutes)
    return QueueFacts(
        length=await repository.waiting_count(session, account_id),
        waiting_uris=await repository.queued_uris(session, account_id),
        played_at=await repository.played_since(session, account_id, window),
    )


async def _client(ctx: RequestsContext) -> SpotifyClient:
    async with spotify():
        return await ctx.clients.client_for(ctx.account_id)


async def _look_up(
    ctx: RequestsContext, parsed: ParsedRequest, allow_explicit: bool
) -> Track | Refusal:
    """The song asked for, through the process's matcher (no transaction open)."""
    client = await _client(ctx)
    try:
        async with spotify():
            return await ctx.matcher.resolve(
                client, str(ctx.account_id), parsed, allow_explicit=allow_explicit
            )
    except httpx.TransportError:
        return refuse(Reason.SPOTIFY_UNAVAILABLE)


async def _allowlist(ctx: RequestsContext, settings: RequestSettings) -> frozenset[str] | None:
    """The songs of the allowlist playlist, when the settings name one."""
    if settings.allowlist_playlist is None:
        return None
    client = await _client(ctx)
    try:
        async with spotify():
            items = await client.playlist_items(settings.allowlist_playlist, all_pages=True)
    except (SpotifyError, httpx.HTTPError):
        return frozenset()
    return frozenset(entry.item.uri for entry in items if entry.item is not None)


async def _take(
    ctx: RequestsContext,
    viewer: Viewer,
    key: ViewerKey,
    text: str,
    source: Source,
    track: Track,
    allowlist: frozenset[str] | None,
) -> Submitted | Refusal:
    """Under the queue lock: the rules again on fresh counts, then the request stored
    with its event."""
    account_id = ctx.account_id
    async with ctx.begin() as work:
        locked = await repository.lock_queue(work.session, account_id)
        now = utcnow()
        facts = await _viewer_facts(work.session, account_id, viewer, key)
        queue_facts = await _queue_facts(work.session, account_id, locked.settings, now)
        refused = check(
            locked.settings, facts, queue_facts, TrackFacts.of(track), now, allowlist=allowlist
        )
        if refused is not None:
            return refused
        approval = locked.settings.rules_for(viewer.role).approval_required
        row = SongRequest(
            id=uuid.uuid4(),
            account_id=account_id,
            viewer_platform=key.platform,
            viewer_id=key.id,
            viewer_login=viewer.login,
            viewer_name=viewer.display_name or key.id,
            viewer_role=viewer.role.value,
            source=source.value,
            query=bounded(text, MAX_STORED_QUERY),
            track_uri=track.uri,
            track=track_document(track),
            state=(State.PENDING if approval else State.QUEUED).value,
            rank=await repository.last_rank(work.session, account_id) + repository.RANK_STEP,
            actor=ctx.principal.label,
            created_at=now,
            updated_at=now,
        )
        await repository.add(work.session, row)
        out = await shown(ctx, work.session, row)
        await record_change(work, ctx, EventType.REQUEST_ADDED, out)
    return Submitted(out)
