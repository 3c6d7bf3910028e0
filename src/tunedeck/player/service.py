"""The player's operations, one function each, called by every door (REST, GraphQL).

Each operation checks its permission, validates its input before Spotify is called,
calls Spotify, maps Spotify's failures to answers and, for a playback action,
records exactly one event in the request's session. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tunedeck.accounts.permissions import Permission
from tunedeck.events import service as events
from tunedeck.events.schemas import EventPage
from tunedeck.player import validation as check
from tunedeck.player.context import PlayerContext, authorize, client, spotify
from tunedeck.player.manual import manual_status, start_manual, stop_manual
from tunedeck.player.playback import (
    PlaybackCommand,
    add_to_queue,
    control,
    get_devices,
    get_queue,
    next_track,
    pause,
    play,
    previous,
    repeat,
    seek,
    shuffle,
    skip_to,
    transfer,
    volume,
)
from tunedeck.player.playlists import (
    add_tracks,
    create_playlist,
    delete_playlist,
    list_playlists,
    play_playlist,
    playlist_tracks,
    remove_track,
    rename_playlist,
)
from tunedeck.player.schemas import (
    DeviceOut,
    NowPlayingOut,
    PartErrorOut,
    PlaylistOut,
    QueueOut,
    StateErrorsOut,
    StateOut,
    TrackOut,
)
from tunedeck.player.state import StateParts, fetch_state

DEFAULT_SEARCH_LIMIT = 20
DEFAULT_EVENTS_LIMIT = events.DEFAULT_LIMIT


async def state(ctx: PlayerContext) -> StateOut:
    """Now playing, queue, devices and playlists, fetched in parallel and shared with
    concurrent callers of the same account; a failed part is null and says why."""
    authorize(ctx, Permission.SPOTIFY_READ)

    async def fetch() -> StateParts:
        return await fetch_state(await client(ctx))

    return _state_out(await ctx.cache.get(ctx.account_id, fetch))


def _state_out(parts: StateParts) -> StateOut:
    errors = {
        name: PartErrorOut(code=e.code, message=e.message) for name, e in parts.errors.items()
    }
    return StateOut(
        now_playing=NowPlayingOut.of(parts.now_playing) if parts.now_playing else None,
        queue=QueueOut.of(parts.queue) if parts.queue else None,
        devices=None if parts.devices is None else [DeviceOut.of(d) for d in parts.devices],
        playlists=(
            None if parts.playlists is None else [PlaylistOut.of(p) for p in parts.playlists]
        ),
        errors=StateErrorsOut(**errors),
    )


async def search(
    ctx: PlayerContext, query: object, limit: object = DEFAULT_SEARCH_LIMIT
) -> list[TrackOut]:
    """Tracks matching ``query`` (1-50 of them)."""
    authorize(ctx, Permission.SPOTIFY_READ)
    text = check.search_query(query)
    count = check.limit(limit, maximum=check.MAX_SEARCH_LIMIT)
    spotify_client = await client(ctx)
    async with spotify():
        tracks = await spotify_client.search_tracks(text, limit=count)
    return [TrackOut.of(track) for track in tracks]


async def list_events(
    ctx: PlayerContext,
    *,
    types: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_EVENTS_LIMIT,
) -> EventPage:
    """The account's recorded playback events, newest first (the events module's query)."""
    authorize(ctx, Permission.SPOTIFY_READ)
    return await events.list_events(
        ctx.session,
        ctx.account_id,
        types=types,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )


__all__ = [
    "DEFAULT_EVENTS_LIMIT",
    "DEFAULT_SEARCH_LIMIT",
    "PlaybackCommand",
    "PlayerContext",
    "add_to_queue",
    "add_tracks",
    "control",
    "create_playlist",
    "delete_playlist",
    "get_devices",
    "get_queue",
    "list_events",
    "list_playlists",
    "manual_status",
    "next_track",
    "pause",
    "play",
    "play_playlist",
    "playlist_tracks",
    "previous",
    "remove_track",
    "rename_playlist",
    "repeat",
    "search",
    "seek",
    "shuffle",
    "skip_to",
    "start_manual",
    "state",
    "stop_manual",
    "transfer",
    "volume",
]
