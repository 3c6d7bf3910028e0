"""Playlist actions: play (the one recorded as an event), create, rename, delete, add and
remove tracks. Management changes record no event (SPEC section 5); reads are in
``player.reads``."""

from __future__ import annotations

from typing import Any

from tunedeck.accounts.context import authorize
from tunedeck.accounts.permissions import Permission
from tunedeck.events.schemas import PlaylistParams
from tunedeck.events.types import EventType
from tunedeck.player.context import PlayerContext, client, perform, spotify
from tunedeck.player.inputs import (
    AddTracksIn,
    CreatePlaylistIn,
    PlaylistTarget,
    PlayPlaylistIn,
    RemoveTrackIn,
    RenamePlaylistIn,
)
from tunedeck.player.schemas import ActionOut, DoneOut, PlaylistOut, SnapshotOut
from tunedeck.spotify.client import SpotifyClient
from tunedeck.spotify.models import Playback

PLAYLIST = Permission.SPOTIFY_PLAYLIST


async def play_playlist(ctx: PlayerContext, request: PlayPlaylistIn) -> ActionOut:
    """Start a playlist; what the caller says about it goes into the event as is."""
    authorize(ctx, PLAYLIST)
    params = PlaylistParams(
        uri=request.uri,
        name=request.name,
        cover_url=request.cover_url,
        track_count=request.track_count,
        playlist_url=request.playlist_url,
    )

    async def command(spotify_client: SpotifyClient, before: Playback | None) -> dict[str, Any]:
        await spotify_client.play(context_uri=params.uri)
        return params.model_dump()

    return await perform(
        ctx, action="play_playlist", event_type=EventType.PLAYLIST, command=command
    )


async def create_playlist(ctx: PlayerContext, request: CreatePlaylistIn) -> PlaylistOut:
    authorize(ctx, PLAYLIST)
    spotify_client = await client(ctx)
    async with spotify():
        created = await spotify_client.create_playlist(
            request.name, public=request.public, description=request.description
        )
    ctx.cache.invalidate(ctx.account_id)
    return PlaylistOut.of(created)


async def rename_playlist(
    ctx: PlayerContext, target: PlaylistTarget, request: RenamePlaylistIn
) -> DoneOut:
    """Change the name and/or the description."""
    authorize(ctx, PLAYLIST)
    spotify_client = await client(ctx)
    async with spotify():
        await spotify_client.rename_playlist(
            target.playlist_id, request.name, description=request.description
        )
    ctx.cache.invalidate(ctx.account_id)
    return DoneOut()


async def delete_playlist(ctx: PlayerContext, target: PlaylistTarget) -> DoneOut:
    """Delete a playlist, which for Spotify means unfollowing it."""
    authorize(ctx, PLAYLIST)
    spotify_client = await client(ctx)
    async with spotify():
        await spotify_client.delete_playlist(target.playlist_id)
    ctx.cache.invalidate(ctx.account_id)
    return DoneOut()


async def add_tracks(
    ctx: PlayerContext, target: PlaylistTarget, request: AddTracksIn
) -> SnapshotOut:
    authorize(ctx, PLAYLIST)
    spotify_client = await client(ctx)
    async with spotify():
        snapshot = await spotify_client.add_playlist_items(target.playlist_id, request.uris)
    ctx.cache.invalidate(ctx.account_id)
    return SnapshotOut(playlist_id=target.playlist_id, snapshot_id=snapshot)


async def remove_track(
    ctx: PlayerContext, target: PlaylistTarget, request: RemoveTrackIn
) -> SnapshotOut:
    """Remove every occurrence of a track from a playlist."""
    authorize(ctx, PLAYLIST)
    spotify_client = await client(ctx)
    async with spotify():
        snapshot = await spotify_client.remove_playlist_items(target.playlist_id, [request.uri])
    ctx.cache.invalidate(ctx.account_id)
    return SnapshotOut(playlist_id=target.playlist_id, snapshot_id=snapshot)
