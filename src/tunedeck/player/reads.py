"""What the account's Spotify looks like now, and what happened: every read of the player.

State (now playing, queue, devices, playlists, in parallel and shared with concurrent
callers), the queue, the devices, the playlists and their tracks, track search, and
the recorded events. Reads record no event.
"""

from __future__ import annotations

from collections.abc import Mapping

from tunedeck.accounts.context import authorize
from tunedeck.accounts.permissions import Permission, require_permission
from tunedeck.events import service as events
from tunedeck.events.schemas import EventPage
from tunedeck.events.types import EventType
from tunedeck.player.context import PlayerContext, client, spotify
from tunedeck.player.inputs import (
    EventsQueryIn,
    PlaylistsPageIn,
    PlaylistTarget,
    PlaylistTracksPageIn,
    SearchIn,
)
from tunedeck.player.now_playing import Announcement, Reading
from tunedeck.player.schemas import (
    DeviceOut,
    NowPlayingOut,
    PartErrorOut,
    PlaylistOut,
    PlaylistTrackOut,
    PlaylistTracksOut,
    QueueOut,
    StateErrorsOut,
    StateOut,
    TrackOut,
)
from tunedeck.player.state import StateParts, fetch_state

READ = Permission.SPOTIFY_READ
REQUEST_EVENT_PREFIX = "request:"


async def state(ctx: PlayerContext) -> StateOut:
    """Now playing, queue, devices and playlists, fetched in parallel and shared with
    concurrent callers of the same account; a failed part is null and says why."""
    authorize(ctx, READ)

    async def fetch(known: Reading | None) -> StateParts:
        return await fetch_state(await client(ctx), known=known)

    out = state_out(await ctx.cache.get(ctx.account_id, fetch))
    return with_requester(out, ctx.cache.now_playing.announced(ctx.account_id))


def with_requester(out: StateOut, announced: Announcement | None) -> StateOut:
    """``out`` with the requester of the track playing when the account's live channel
    named one for that same track (its latest ``now_playing``; no further read)."""
    playing = out.now_playing
    heard = announced.get("now_playing") if announced is not None else None
    if playing is None or playing.track is None or not isinstance(heard, Mapping):
        return out
    track = heard.get("track")
    name = heard.get("requested_by")
    if not isinstance(track, Mapping) or track.get("uri") != playing.track.uri:
        return out
    if not isinstance(name, str):
        return out
    return out.model_copy(update={"now_playing": playing.model_copy(update={"requested_by": name})})


def state_out(parts: StateParts) -> StateOut:
    """The answer for fetched state parts."""
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


async def queue(ctx: PlayerContext) -> QueueOut:
    """What plays now and next."""
    authorize(ctx, READ)
    spotify_client = await client(ctx)
    async with spotify():
        return QueueOut.of(await spotify_client.queue())


async def devices(ctx: PlayerContext) -> list[DeviceOut]:
    """The user's available Spotify Connect devices."""
    authorize(ctx, READ)
    spotify_client = await client(ctx)
    async with spotify():
        return [DeviceOut.of(device) for device in await spotify_client.devices()]


async def playlists(ctx: PlayerContext, page: PlaylistsPageIn) -> list[PlaylistOut]:
    """A page of the playlists the user owns or follows."""
    authorize(ctx, READ)
    spotify_client = await client(ctx)
    async with spotify():
        found = await spotify_client.my_playlists(limit=page.limit, offset=page.offset)
    return [PlaylistOut.of(playlist) for playlist in found]


async def playlist_tracks(
    ctx: PlayerContext, target: PlaylistTarget, page: PlaylistTracksPageIn
) -> PlaylistTracksOut:
    """A page of a playlist's entries."""
    authorize(ctx, READ)
    spotify_client = await client(ctx)
    async with spotify():
        entries = await spotify_client.playlist_items(
            target.playlist_id, limit=page.limit, offset=page.offset
        )
    return PlaylistTracksOut(
        playlist_id=target.playlist_id,
        offset=page.offset,
        limit=page.limit,
        items=[PlaylistTrackOut.of(entry) for entry in entries],
    )


async def search(ctx: PlayerContext, request: SearchIn) -> list[TrackOut]:
    """Tracks matching the query."""
    authorize(ctx, READ)
    spotify_client = await client(ctx)
    async with spotify():
        tracks = await spotify_client.search_tracks(request.query, limit=request.limit)
    return [TrackOut.of(track) for track in tracks]


def _readable_types(ctx: PlayerContext, wanted: list[str] | None) -> list[str]:
    """The event types asked for that the caller may read: song requests' events name
    viewers, so they are only for ``requests:read`` (asking for them without it is 403)."""
    if ctx.principal.has(Permission.REQUESTS_READ):
        return wanted or sorted(t.value for t in EventType)
    if wanted and any(name.startswith(REQUEST_EVENT_PREFIX) for name in wanted):
        require_permission(ctx.principal, Permission.REQUESTS_READ)
    return wanted or sorted(
        t.value for t in EventType if not t.value.startswith(REQUEST_EVENT_PREFIX)
    )


async def list_events(ctx: PlayerContext, request: EventsQueryIn) -> EventPage:
    """The account's recorded playback events, newest first (the events module's query)."""
    authorize(ctx, READ)
    types = _readable_types(ctx, events.parse_types(request.types))
    async with ctx.begin() as work:
        return await events.list_events(
            work.session,
            ctx.account_id,
            types=types,
            actor_key_id=request.actor,
            since=request.since,
            until=request.until,
            cursor=request.cursor,
            limit=request.limit,
        )
