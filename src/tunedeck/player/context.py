"""What every player operation runs with, and the steps they share.

An operation gets a :class:`PlayerContext` from its door: the caller's context (who
calls, the units of work; ``accounts.context``) with the Spotify clients and the state
cache. It checks its permission with ``authorize`` (the one permission check);
:func:`spotify` turns Spotify failures into answers, :func:`perform` runs an action and
records its one event.

Units of work are short and visible: an operation opens ``ctx.begin()`` around its own
reads and writes (the event of an action, once Spotify has answered) and holds no
transaction, and no pooled connection, while it waits on Spotify.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from tunedeck.accounts.context import CallContext
from tunedeck.events.recorder import record_event_alone
from tunedeck.events.schemas import Actor, TrackSnapshot
from tunedeck.events.types import EventType
from tunedeck.player.errors import map_spotify_error
from tunedeck.player.schemas import ActionOut
from tunedeck.player.state import StateCache
from tunedeck.spotify.client import SpotifyClient
from tunedeck.spotify.errors import SpotifyError
from tunedeck.spotify.models import Playback

logger = logging.getLogger(__name__)


class SpotifyClients(Protocol):
    """Where clients come from (the token manager): one per account, token kept fresh."""

    async def client_for(self, account_id: uuid.UUID) -> SpotifyClient: ...


@dataclass(frozen=True, slots=True)
class PlayerContext(CallContext):
    """One call of a player operation: the caller's context (principal, units of work),
    the Spotify clients and the process's state cache."""

    clients: SpotifyClients
    cache: StateCache


@asynccontextmanager
async def spotify() -> AsyncIterator[None]:
    """Around Spotify calls: their failures become the answers of ``map_spotify_error``."""
    try:
        yield
    except (SpotifyError, httpx.HTTPError) as exc:
        raise map_spotify_error(exc) from exc


async def client(ctx: PlayerContext) -> SpotifyClient:
    """The account's Spotify client (409 when not connected or needing re-authorization)."""
    async with spotify():
        return await ctx.clients.client_for(ctx.account_id)


def track_snapshot(playback: Playback | None) -> TrackSnapshot | None:
    """The item playing in ``playback``, as events carry it."""
    if playback is None or playback.item is None:
        return None
    item = playback.item
    return TrackSnapshot(
        name=item.name,
        artists=item.artist_names,
        album=item.album_name,
        art_url=item.image_url(),
        uri=item.uri,
        duration_ms=item.duration_ms,
        progress_ms=playback.progress_ms,
    )


async def playback_before(ctx: PlayerContext, spotify_client: SpotifyClient) -> Playback | None:
    """The playback as the action finds it: from the state cache when fresh, else asked.

    Only enriches the event, so a failed read does not stop the action (which will
    meet the same failure, if it is lasting, and report it).
    """
    cached = ctx.cache.fresh(ctx.account_id)
    if cached is not None and "now_playing" not in cached.errors:
        return cached.now_playing
    try:
        return await spotify_client.playback()
    except (SpotifyError, httpx.HTTPError) as exc:
        logger.info("playback read before an action failed: %r", exc)
        return None


Command = Callable[[SpotifyClient, Playback | None], Awaitable[dict[str, Any]]]


async def perform(
    ctx: PlayerContext,
    *,
    action: str,
    event_type: EventType,
    command: Command,
) -> ActionOut:
    """Run ``command`` (which calls Spotify and returns the event's params) and record
    exactly one event with the track playing when it ran and the caller as actor.
    The operation has checked the permission and validated its input already.

    The event commits in its own unit of work, after Spotify answered and before the
    caller is answered: an action that succeeded is never without its event, and the
    commit wakes the relay.

    The read before and every call of the command share one Spotify deadline: an
    action of several calls (a read, then ``skip_to``'s skips) ends within it too.
    """
    spotify_client = await client(ctx)
    try:
        async with spotify(), spotify_client.deadline():
            before = await playback_before(ctx, spotify_client)
            params = await command(spotify_client, before)
    finally:
        # The player changed (or may have, on a failure): the next read asks Spotify.
        ctx.cache.invalidate(ctx.account_id)
    # The event is the action's whole unit of work: one statement (events.recorder).
    event = await record_event_alone(
        ctx.units,
        account_id=ctx.account_id,
        event_type=event_type,
        actor=Actor.from_principal(ctx.principal),
        params=params,
        track=track_snapshot(before),
    )
    return ActionOut(action=action, event=event)
