"""Playlists: list, read, play (the one recorded as an event), create, rename, delete,
add and remove tracks. Management changes record no event (SPEC section 5)."""

from __future__ import annotations

from typing import Any

from tunedeck.accounts.permissions import Permission
from tunedeck.events.schemas import PlaylistParams
from tunedeck.events.types import EventType
from tunedeck.player import validation as check
from tunedeck.player.context import PlayerContext, authorize, client, perform, spotify
from tunedeck.player.schemas import (
    ActionOut,
    DoneOut,
    PlaylistOut,
    PlaylistTrackOut,
    PlaylistTracksOut,
    SnapshotOut,
)
from tunedeck.spotify.client import SpotifyClient
from tunedeck.spotify.models import Playback

READ = Permission.SPOTIFY_READ
PLAYLIST = Permission.SPOTIFY_PLAYLIST
MAX_PLAYLISTS_PAGE = 50


async def list_playlists(
    ctx: PlayerContext, *, limit: object = 50, offset: object = 0
) -> list[PlaylistOut]:
    """A page of the playlists the user owns or follows."""
    authorize(ctx, READ)
    count = check.limit(limit, maximum=MAX_PLAYLISTS_PAGE)
    start = check.offset(offset)
    spotify_client = await client(ctx)
    async with spotify():
        playlists = await spotify_client.my_playlists(limit=count, offset=start)
    return [PlaylistOut.of(playlist) for playlist in playlists]


async def playlist_tracks(
    ctx: PlayerContext, playlist_id: object, *, limit: object = 100, offset: object = 0
) -> PlaylistTracksOut:
    """A page of a playlist's entries."""
    authorize(ctx, READ)
    ident = check.playlist_id(playlist_id)
    count = check.limit(limit, maximum=check.MAX_PAGE_LIMIT)
    start = check.offset(offset)
    spotify_client = await client(ctx)
    async with spotify():
        entries = await spotify_client.playlist_items(ident, limit=count, offset=start)
    return PlaylistTracksOut(
        playlist_id=ident,
        offset=start,
        limit=count,
        items=[PlaylistTrackOut.of(entry) for entry in entries],
    )


async def play_playlist(
    ctx: PlayerContext,
    uri: object,
    *,
    name: object | None = None,
    cover_url: object | None = None,
    track_count: object | None = None,
    playlist_url: object | None = None,
) -> ActionOut:
    """Start a playlist; what the caller says about it goes into the event as is."""
    authorize(ctx, PLAYLIST)
    params = PlaylistParams(
        uri=check.playlist_uri(uri),
        name=check.optional_text(name, "name", maximum=check.MAX_PLAYLIST_NAME * 2),
        cover_url=check.optional_url(cover_url, "cover_url"),
        track_count=check.optional_count(track_count, "track_count"),
        playlist_url=check.optional_url(playlist_url, "playlist_url"),
    )

    async def command(spotify_client: SpotifyClient, before: Playback | None) -> dict[str, Any]:
        await spotify_client.play(context_uri=params.uri)
        return params.model_dump()

    return await perform(
        ctx, action="play_playlist", event_type=EventType.PLAYLIST, command=command
    )


async def create_playlist(
    ctx: PlayerContext,
    name: object,
    *,
    public: object | None = None,
    description: object | None = None,
) -> PlaylistOut:
    authorize(ctx, PLAYLIST)
    clean_name = check.playlist_name(name)
    if public is not None and not isinstance(public, bool):
        raise check.InvalidInput("public", "must be true or false")
    text = check.optional_text(description, "description", maximum=300)
    spotify_client = await client(ctx)
    async with spotify():
        created = await spotify_client.create_playlist(clean_name, public=public, description=text)
    ctx.cache.invalidate(ctx.account_id)
    return PlaylistOut.of(created)


async def rename_playlist(ctx: PlayerContext, playlist_id: object, name: object) -> DoneOut:
    authorize(ctx, PLAYLIST)
    ident = check.playlist_id(playlist_id)
    clean_name = check.playlist_name(name)
    spotify_client = await client(ctx)
    async with spotify():
        await spotify_client.rename_playlist(ident, clean_name)
    ctx.cache.invalidate(ctx.account_id)
    return DoneOut()


async def delete_playlist(ctx: PlayerContext, playlist_id: object) -> DoneOut:
    """Delete a playlist, which for Spotify means unfollowing it."""
    authorize(ctx, PLAYLIST)
    ident = check.playlist_id(playlist_id)
    spotify_client = await client(ctx)
    async with spotify():
        await spotify_client.delete_playlist(ident)
    ctx.cache.invalidate(ctx.account_id)
    return DoneOut()


async def add_tracks(ctx: PlayerContext, playlist_id: object, uris: object) -> SnapshotOut:
    authorize(ctx, PLAYLIST)
    ident = check.playlist_id(playlist_id)
    tracks = check.track_uris(uris)
    spotify_client = await client(ctx)
    async with spotify():
        snapshot = await spotify_client.add_playlist_items(ident, tracks)
    ctx.cache.invalidate(ctx.account_id)
    return SnapshotOut(playlist_id=ident, snapshot_id=snapshot)


async def remove_track(ctx: PlayerContext, playlist_id: object, uri: object) -> SnapshotOut:
    """Remove every occurrence of a track from a playlist."""
    authorize(ctx, PLAYLIST)
    ident = check.playlist_id(playlist_id)
    track = check.track_uri(uri)
    spotify_client = await client(ctx)
    async with spotify():
        snapshot = await spotify_client.remove_playlist_items(ident, [track])
    ctx.cache.invalidate(ctx.account_id)
    return SnapshotOut(playlist_id=ident, snapshot_id=snapshot)
