"""REST doors of the player under ``/v1/spotify``: transport only.

Each route declares its permission (``requires``), reads its JSON or query, and hands
the values to the service, which validates, calls Spotify, maps errors and records
events. The request's session commits once, after the route, before the answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status
from starlette.requests import HTTPConnection

from tunedeck.accounts.auth import requires
from tunedeck.accounts.permissions import Permission, Principal
from tunedeck.events.schemas import EventPage
from tunedeck.events.service import MAX_LIMIT as MAX_EVENTS_LIMIT
from tunedeck.kit.db import SessionDep
from tunedeck.kit.errors import NotFound
from tunedeck.kit.openapi import AUTH_ERRORS, error_doc
from tunedeck.player import service
from tunedeck.player.context import PlayerContext
from tunedeck.player.deps import player_context
from tunedeck.player.schemas import (
    ActionOut,
    AddTracksIn,
    CreatePlaylistIn,
    DeviceOut,
    DoneOut,
    ManualStatusOut,
    ManualStoppedOut,
    PlaybackIn,
    PlaylistOut,
    PlaylistTracksOut,
    PlayPlaylistIn,
    QueueIn,
    QueueOut,
    RemoveTrackIn,
    RenamePlaylistIn,
    SnapshotOut,
    StateOut,
    TrackOut,
    TransferIn,
)
from tunedeck.player.validation import PLAYLIST_ID

SPOTIFY_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    403: error_doc("The key lacks the permission, or Spotify Premium is required."),
    400: error_doc("Spotify refused the request as malformed."),
    404: error_doc("Spotify does not know the object (device, playlist, track)."),
    409: error_doc(
        "Spotify is not connected or needs re-authorization, no device is active, "
        "or the player refused the command in its current state."
    ),
    422: error_doc("Invalid input; nothing was sent to Spotify."),
    429: error_doc(
        "Spotify is rate limiting this app.",
        headers={
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "integer"},
            }
        },
    ),
    502: error_doc("Spotify answered something unreadable."),
    503: error_doc("Spotify is unavailable."),
    504: error_doc("Spotify did not answer in time."),
}

router = APIRouter(prefix="/v1/spotify", tags=["spotify"])


def player(permission: Permission) -> Any:
    """Dependency: the operation's context, for a principal holding ``permission``."""

    async def dependency(
        conn: HTTPConnection,
        session: SessionDep,
        # A default, not Annotated: the closure's ``permission`` is not visible to the
        # string annotations FastAPI resolves.
        principal: Principal = Depends(requires(permission)),
    ) -> PlayerContext:
        return await player_context(conn, principal, session)

    return Depends(dependency)


Read = Annotated[PlayerContext, player(Permission.SPOTIFY_READ)]
Playback = Annotated[PlayerContext, player(Permission.SPOTIFY_PLAYBACK)]
QueueAdd = Annotated[PlayerContext, player(Permission.SPOTIFY_QUEUE)]
Device = Annotated[PlayerContext, player(Permission.SPOTIFY_DEVICE)]
Playlist = Annotated[PlayerContext, player(Permission.SPOTIFY_PLAYLIST)]
Worker = Annotated[PlayerContext, player(Permission.SPOTIFY_WORKER)]


async def playlist_in_path(playlist_id: Annotated[str, Path(max_length=200)]) -> str:
    """A playlist id in a URL: one that cannot be a Spotify id names nothing (404).

    (In a body or a GraphQL argument the same value is invalid input, 422.)
    """
    if not PLAYLIST_ID.match(playlist_id):
        raise NotFound("No Spotify playlist has this id.", code="playlist_not_found")
    return playlist_id


PlaylistId = Annotated[str, Depends(playlist_in_path)]


@router.get("/state", responses=SPOTIFY_ERRORS)
async def get_state(ctx: Read) -> StateOut:
    """Now playing, queue, devices and playlists, fetched in parallel. A part that
    failed is null and explained in ``errors``."""
    return await service.state(ctx)


@router.post("/playback", responses=SPOTIFY_ERRORS)
async def post_playback(ctx: Playback, body: PlaybackIn) -> ActionOut:
    """Control playback: play (track ``uri``, ``context_uri``, both, or neither to
    resume), pause, next, previous, skip_to (a queued ``uri``), seek (``position_ms``),
    volume (``volume_percent``), shuffle (``state``), repeat (``mode``)."""
    command = service.PlaybackCommand(
        action=body.action,
        uri=body.uri,
        context_uri=body.context_uri,
        position_ms=body.position_ms,
        volume_percent=body.volume_percent,
        state=body.state,
        mode=body.mode,
        device_id=body.device_id,
    )
    return await service.control(ctx, command)


@router.get("/queue", responses=SPOTIFY_ERRORS)
async def get_queue(ctx: Read) -> QueueOut:
    """What plays now and next."""
    return await service.get_queue(ctx)


@router.post("/queue", responses=SPOTIFY_ERRORS)
async def post_queue(ctx: QueueAdd, body: QueueIn) -> ActionOut:
    """Add a track to the queue."""
    return await service.add_to_queue(ctx, body.uri)


@router.get("/devices", responses=SPOTIFY_ERRORS)
async def get_devices(ctx: Read) -> list[DeviceOut]:
    """The user's available Spotify Connect devices."""
    return await service.get_devices(ctx)


@router.post("/devices", responses=SPOTIFY_ERRORS)
async def post_devices(ctx: Device, body: TransferIn) -> ActionOut:
    """Move playback to ``device_id`` (``play``: start playing there)."""
    return await service.transfer(ctx, body.device_id, play=body.play)


@router.get("/playlists", responses=SPOTIFY_ERRORS)
async def get_playlists(ctx: Read, limit: int = 50, offset: int = 0) -> list[PlaylistOut]:
    """The playlists the user owns or follows (``limit`` 1-50)."""
    return await service.list_playlists(ctx, limit=limit, offset=offset)


@router.post("/playlists", responses=SPOTIFY_ERRORS)
async def post_playlists(ctx: Playlist, body: PlayPlaylistIn) -> ActionOut:
    """Start playing a playlist; ``name``, ``cover_url``, ``track_count`` and
    ``playlist_url`` describe it in the event."""
    return await service.play_playlist(
        ctx,
        body.uri,
        name=body.name,
        cover_url=body.cover_url,
        track_count=body.track_count,
        playlist_url=body.playlist_url,
    )


@router.post("/playlists/new", status_code=status.HTTP_201_CREATED, responses=SPOTIFY_ERRORS)
async def create_playlist(ctx: Playlist, body: CreatePlaylistIn) -> PlaylistOut:
    """Create a playlist for the user."""
    return await service.create_playlist(
        ctx, body.name, public=body.public, description=body.description
    )


@router.patch("/playlists/{playlist_id}", responses=SPOTIFY_ERRORS)
async def rename_playlist(
    ctx: Playlist, playlist_id: PlaylistId, body: RenamePlaylistIn
) -> DoneOut:
    """Rename a playlist."""
    return await service.rename_playlist(ctx, playlist_id, body.name)


@router.delete("/playlists/{playlist_id}", responses=SPOTIFY_ERRORS)
async def delete_playlist(ctx: Playlist, playlist_id: PlaylistId) -> DoneOut:
    """Delete a playlist (for Spotify: unfollow it)."""
    return await service.delete_playlist(ctx, playlist_id)


@router.get("/playlists/{playlist_id}/tracks", responses=SPOTIFY_ERRORS)
async def get_playlist_tracks(
    ctx: Read, playlist_id: PlaylistId, limit: int = 100, offset: int = 0
) -> PlaylistTracksOut:
    """A page of a playlist's entries (``limit`` 1-100)."""
    return await service.playlist_tracks(ctx, playlist_id, limit=limit, offset=offset)


@router.post("/playlists/{playlist_id}/tracks", responses=SPOTIFY_ERRORS)
async def add_playlist_tracks(
    ctx: Playlist, playlist_id: PlaylistId, body: AddTracksIn
) -> SnapshotOut:
    """Append tracks (at most 100) to a playlist."""
    return await service.add_tracks(ctx, playlist_id, body.uris)


@router.delete("/playlists/{playlist_id}/tracks", responses=SPOTIFY_ERRORS)
async def remove_playlist_track(
    ctx: Playlist, playlist_id: PlaylistId, body: RemoveTrackIn
) -> SnapshotOut:
    """Remove every occurrence of a track from a playlist."""
    return await service.remove_track(ctx, playlist_id, body.uri)


@router.get("/search", responses=SPOTIFY_ERRORS)
async def search(
    ctx: Read,
    query: Annotated[str, Query(max_length=1000)],
    limit: int = service.DEFAULT_SEARCH_LIMIT,
) -> list[TrackOut]:
    """Search tracks (``limit`` 1-50, default 20)."""
    return await service.search(ctx, query, limit)


@router.get("/manual-connect", responses=AUTH_ERRORS)
async def get_manual_connect(ctx: Read) -> ManualStatusOut:
    """Whether manual polling is on, and for how many seconds still."""
    return await service.manual_status(ctx)


@router.post(
    "/manual-connect",
    responses={**AUTH_ERRORS, 409: SPOTIFY_ERRORS[409]},
)
async def post_manual_connect(ctx: Worker) -> ManualStatusOut:
    """Poll this account's Spotify for the next 30 minutes."""
    return await service.start_manual(ctx)


@router.delete("/manual-connect", responses=AUTH_ERRORS)
async def delete_manual_connect(ctx: Worker) -> ManualStoppedOut:
    """Stop manual polling now; ``stopped`` says whether it was on."""
    return ManualStoppedOut(stopped=await service.stop_manual(ctx))


EVENTS_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    400: error_doc("The cursor is not one this listing gave."),
    422: error_doc("Unknown event type, since after until, or limit out of range."),
}


@router.get("/events", responses=EVENTS_ERRORS)
async def get_events(
    ctx: Read,
    event_type: Annotated[
        list[str] | None,
        Query(
            alias="type",
            description="Only these types (repeat the parameter, or comma-separate).",
        ),
    ] = None,
    since: Annotated[datetime | None, Query(description="From this time (inclusive).")] = None,
    until: Annotated[datetime | None, Query(description="Before this time (exclusive).")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_EVENTS_LIMIT)] = service.DEFAULT_EVENTS_LIMIT,
) -> EventPage:
    """The account's playback events, newest first."""
    return await service.list_events(
        ctx, types=event_type, since=since, until=until, cursor=cursor, limit=limit
    )
