"""REST doors of the player under ``/v1/spotify``: transport only.

Each route declares its permission, takes its input as the operation's model (a JSON
body or a query string, validated by FastAPI with the model's own rules, unknown fields
refused) and hands it to the operation. Operations open their own short units of work.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status
from starlette.requests import HTTPConnection

from tunedeck.accounts.auth import GuardedRoute, requires
from tunedeck.accounts.permissions import Permission, Principal
from tunedeck.events.schemas import EventPage
from tunedeck.kit.error_docs import AUTH_ERRORS, RATE_LIMITED, RETRY_AFTER, error_doc
from tunedeck.player import manual_connect, playback, playlists, reads
from tunedeck.player.context import PlayerContext
from tunedeck.player.deps import player_context
from tunedeck.player.inputs import (
    AddTracksIn,
    CreatePlaylistIn,
    EventsQueryIn,
    PlaybackIn,
    PlaylistId,
    PlaylistsPageIn,
    PlaylistTarget,
    PlaylistTracksPageIn,
    PlayPlaylistIn,
    QueueIn,
    RemoveTrackIn,
    RenamePlaylistIn,
    SearchIn,
    TransferIn,
)
from tunedeck.player.limits import admit
from tunedeck.player.schemas import (
    ActionOut,
    DeviceOut,
    DoneOut,
    ManualStatusOut,
    ManualStoppedOut,
    PlaylistOut,
    PlaylistTracksOut,
    QueueOut,
    SnapshotOut,
    StateOut,
    TrackOut,
)

SPOTIFY_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    403: error_doc("The key lacks the permission, or Spotify Premium is required."),
    400: error_doc("The body is not JSON (invalid_json)."),
    404: error_doc("Spotify does not know the object (device, playlist, track)."),
    409: error_doc(
        "Spotify is not connected or needs re-authorization, no device is active, "
        "the player refused the command in its current state, or Spotify refused what "
        "was asked (spotify_refused: an unknown track, playlist or context, ...)."
    ),
    422: error_doc("Invalid input; nothing was sent to Spotify."),
    429: RATE_LIMITED,
    502: error_doc("Spotify answered something unreadable."),
    503: error_doc(
        "Spotify is unavailable, or the database is (service_unavailable).",
        headers=RETRY_AFTER,
    ),
    504: error_doc("Spotify did not answer in time."),
}

router = APIRouter(prefix="/v1/spotify", tags=["spotify"], route_class=GuardedRoute)


def player(permission: Permission) -> Any:
    """Dependency: the operation's context, for a principal holding ``permission`` and
    within its rate limits (429 before anything reaches Spotify)."""

    async def dependency(
        conn: HTTPConnection,
        # A default, not Annotated: the closure's ``permission`` is not visible to the
        # string annotations FastAPI resolves.
        principal: Principal = Depends(requires(permission)),
    ) -> PlayerContext:
        await admit(conn, principal, permission)
        return player_context(conn, principal)

    return Depends(dependency)


Read = Annotated[PlayerContext, player(Permission.SPOTIFY_READ)]
Playback = Annotated[PlayerContext, player(Permission.SPOTIFY_PLAYBACK)]
QueueAdd = Annotated[PlayerContext, player(Permission.SPOTIFY_QUEUE)]
Device = Annotated[PlayerContext, player(Permission.SPOTIFY_DEVICE)]
Playlist = Annotated[PlayerContext, player(Permission.SPOTIFY_PLAYLIST)]
Worker = Annotated[PlayerContext, player(Permission.SPOTIFY_WORKER)]


def playlist_in_path(playlist_id: Annotated[PlaylistId, Path()]) -> PlaylistTarget:
    """The playlist a URL names, validated as a GraphQL argument is (422 when malformed)."""
    return PlaylistTarget(playlist_id=playlist_id)


Target = Annotated[PlaylistTarget, Depends(playlist_in_path)]


@router.get("/state", responses=SPOTIFY_ERRORS)
async def get_state(ctx: Read) -> StateOut:
    """Now playing, queue, devices and playlists, fetched in parallel. A part that
    failed is null and explained in ``errors``."""
    return await reads.state(ctx)


@router.post("/playback", responses=SPOTIFY_ERRORS)
async def post_playback(ctx: Playback, body: PlaybackIn) -> ActionOut:
    """Control playback: play (track ``uri``, ``context_uri`` with ``offset_uri``, or
    nothing to resume), pause, next, previous, skip_to (a queued ``uri``), seek
    (``position_ms``), volume (``volume_percent``), shuffle (``state``), repeat
    (``mode``)."""
    return await playback.control(ctx, body)


@router.get("/queue", responses=SPOTIFY_ERRORS)
async def get_queue(ctx: Read) -> QueueOut:
    """What plays now and next."""
    return await reads.queue(ctx)


@router.post("/queue", responses=SPOTIFY_ERRORS)
async def post_queue(ctx: QueueAdd, body: QueueIn) -> ActionOut:
    """Add a track to the queue."""
    return await playback.add_to_queue(ctx, body)


@router.get("/devices", responses=SPOTIFY_ERRORS)
async def get_devices(ctx: Read) -> list[DeviceOut]:
    """The user's available Spotify Connect devices."""
    return await reads.devices(ctx)


@router.post("/devices", responses=SPOTIFY_ERRORS)
async def post_devices(ctx: Device, body: TransferIn) -> ActionOut:
    """Move playback to ``device_id`` (``play``: start playing there)."""
    return await playback.transfer(ctx, body)


@router.get("/playlists", responses=SPOTIFY_ERRORS)
async def get_playlists(ctx: Read, page: Annotated[PlaylistsPageIn, Query()]) -> list[PlaylistOut]:
    """The playlists the user owns or follows (``limit`` 1-50)."""
    return await reads.playlists(ctx, page)


@router.post("/playlists", responses=SPOTIFY_ERRORS)
async def post_playlists(ctx: Playlist, body: PlayPlaylistIn) -> ActionOut:
    """Start playing a playlist; ``name``, ``cover_url``, ``track_count`` and
    ``playlist_url`` describe it in the event."""
    return await playlists.play_playlist(ctx, body)


@router.post("/playlists/new", status_code=status.HTTP_201_CREATED, responses=SPOTIFY_ERRORS)
async def create_playlist(ctx: Playlist, body: CreatePlaylistIn) -> PlaylistOut:
    """Create a playlist for the user."""
    return await playlists.create_playlist(ctx, body)


@router.patch("/playlists/{playlist_id}", responses=SPOTIFY_ERRORS)
async def rename_playlist(ctx: Playlist, target: Target, body: RenamePlaylistIn) -> DoneOut:
    """Change a playlist's name and/or description."""
    return await playlists.rename_playlist(ctx, target, body)


@router.delete("/playlists/{playlist_id}", responses=SPOTIFY_ERRORS)
async def delete_playlist(ctx: Playlist, target: Target) -> DoneOut:
    """Delete a playlist (for Spotify: unfollow it)."""
    return await playlists.delete_playlist(ctx, target)


@router.get("/playlists/{playlist_id}/tracks", responses=SPOTIFY_ERRORS)
async def get_playlist_tracks(
    ctx: Read, target: Target, page: Annotated[PlaylistTracksPageIn, Query()]
) -> PlaylistTracksOut:
    """A page of a playlist's entries (``limit`` 1-100)."""
    return await reads.playlist_tracks(ctx, target, page)


@router.post("/playlists/{playlist_id}/tracks", responses=SPOTIFY_ERRORS)
async def add_playlist_tracks(ctx: Playlist, target: Target, body: AddTracksIn) -> SnapshotOut:
    """Append tracks (at most 100) to a playlist."""
    return await playlists.add_tracks(ctx, target, body)


@router.delete("/playlists/{playlist_id}/tracks", responses=SPOTIFY_ERRORS)
async def remove_playlist_track(ctx: Playlist, target: Target, body: RemoveTrackIn) -> SnapshotOut:
    """Remove every occurrence of a track from a playlist."""
    return await playlists.remove_track(ctx, target, body)


@router.get("/search", responses=SPOTIFY_ERRORS)
async def search(ctx: Read, request: Annotated[SearchIn, Query()]) -> list[TrackOut]:
    """Search tracks (``limit`` 1-50, default 20)."""
    return await reads.search(ctx, request)


@router.get("/manual-connect", responses={**AUTH_ERRORS, 429: RATE_LIMITED})
async def get_manual_connect(ctx: Read) -> ManualStatusOut:
    """Whether manual polling is on, and for how many seconds still."""
    return await manual_connect.manual_status(ctx)


@router.post(
    "/manual-connect",
    responses={**AUTH_ERRORS, 409: SPOTIFY_ERRORS[409], 429: RATE_LIMITED},
)
async def post_manual_connect(ctx: Worker) -> ManualStatusOut:
    """Poll this account's Spotify for the next 30 minutes."""
    return await manual_connect.start_manual(ctx)


@router.delete("/manual-connect", responses={**AUTH_ERRORS, 429: RATE_LIMITED})
async def delete_manual_connect(ctx: Worker) -> ManualStoppedOut:
    """Stop manual polling now; ``stopped`` says whether it was on."""
    return ManualStoppedOut(stopped=await manual_connect.stop_manual(ctx))


EVENTS_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    400: error_doc("The cursor is not one this listing gave."),
    422: error_doc("Unknown event type, since after until, or limit out of range."),
    429: RATE_LIMITED,
}


@router.get("/events", responses=EVENTS_ERRORS)
async def get_events(ctx: Read, request: Annotated[EventsQueryIn, Query()]) -> EventPage:
    """The account's playback events, newest first."""
    return await reads.list_events(ctx, request)
