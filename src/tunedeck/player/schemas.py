"""Request and response shapes of the player (snake_case), built from Spotify's objects.

The service returns these; REST serves them as they are and GraphQL mirrors them.
Request bodies only describe the JSON: the rules on values live in ``validation``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from tunedeck.events.schemas import EventOut
from tunedeck.spotify.models import (
    Device,
    Episode,
    Playback,
    Playlist,
    PlaylistItem,
    Queue,
    SimplifiedPlaylist,
    Track,
)

PlaybackAction = Literal[
    "play", "pause", "next", "previous", "skip_to", "seek", "volume", "shuffle", "repeat"
]
PLAYBACK_ACTIONS: tuple[PlaybackAction, ...] = (
    "play",
    "pause",
    "next",
    "previous",
    "skip_to",
    "seek",
    "volume",
    "shuffle",
    "repeat",
)


# ---- responses -------------------------------------------------------------------------


class TrackOut(BaseModel):
    """A track (or podcast episode) as the dashboard and the overlay show it."""

    uri: str
    id: str | None = None
    type: str = "track"
    name: str
    artists: list[str] = Field(default_factory=list)
    album: str | None = None
    album_art_url: str | None = None
    duration_ms: int
    explicit: bool = False
    url: str | None = None

    @classmethod
    def of(cls, item: Track | Episode) -> TrackOut:
        return cls(
            uri=item.uri,
            id=item.id,
            type=item.type,
            name=item.name,
            artists=item.artist_names,
            album=item.album_name,
            album_art_url=item.image_url(),
            duration_ms=item.duration_ms,
            explicit=item.explicit,
            url=item.url,
        )


class DeviceOut(BaseModel):
    """A Spotify Connect device."""

    id: str | None = None
    name: str
    type: str
    is_active: bool = False
    is_restricted: bool = False
    volume_percent: int | None = None
    supports_volume: bool = True

    @classmethod
    def of(cls, device: Device) -> DeviceOut:
        return cls(
            id=device.id,
            name=device.name,
            type=device.type,
            is_active=device.is_active,
            is_restricted=device.is_restricted,
            volume_percent=device.volume_percent,
            supports_volume=device.supports_volume,
        )


class NowPlayingOut(BaseModel):
    """What plays now, where, and how (shuffle, repeat, volume)."""

    is_playing: bool
    progress_ms: int | None = None
    track: TrackOut | None = None
    device: DeviceOut | None = None
    context_uri: str | None = None
    shuffle: bool = False
    repeat: str = "off"
    volume_percent: int | None = None
    # Spotify's timestamp (ms since the epoch) of the progress reading.
    timestamp: int | None = None
    requested_by: str | None = Field(
        default=None,
        description="The display name of the viewer who requested the track playing, if one did.",
    )

    @classmethod
    def of(cls, playback: Playback) -> NowPlayingOut:
        device = playback.device
        return cls(
            is_playing=playback.is_playing,
            progress_ms=playback.progress_ms,
            track=TrackOut.of(playback.item) if playback.item else None,
            device=DeviceOut.of(device) if device else None,
            context_uri=playback.context.uri if playback.context else None,
            shuffle=playback.shuffle_state,
            repeat=playback.repeat_state,
            volume_percent=device.volume_percent if device else None,
            timestamp=playback.timestamp,
        )


class QueueOut(BaseModel):
    """The current item and what plays after it, in order."""

    currently_playing: TrackOut | None = None
    items: list[TrackOut] = Field(default_factory=list)

    @classmethod
    def of(cls, queue: Queue) -> QueueOut:
        current = queue.currently_playing
        return cls(
            currently_playing=TrackOut.of(current) if current else None,
            items=[TrackOut.of(item) for item in queue.queue],
        )


class PlaylistOut(BaseModel):
    """One of the user's playlists."""

    id: str
    uri: str
    name: str
    description: str | None = None
    public: bool | None = None
    collaborative: bool = False
    owner: str | None = None
    image_url: str | None = None
    track_count: int = 0
    url: str | None = None

    @classmethod
    def of(cls, playlist: SimplifiedPlaylist | Playlist) -> PlaylistOut:
        owner = playlist.owner
        return cls(
            id=playlist.id,
            uri=playlist.uri,
            name=playlist.name,
            description=playlist.description,
            public=playlist.public,
            collaborative=playlist.collaborative,
            owner=(owner.display_name or owner.id) if owner else None,
            image_url=playlist.image_url(),
            track_count=playlist.total_items,
            url=playlist.url,
        )


class PlaylistTrackOut(BaseModel):
    """One entry of a playlist; ``track`` is null when the item is no longer available."""

    added_at: datetime | None = None
    track: TrackOut | None = None

    @classmethod
    def of(cls, entry: PlaylistItem) -> PlaylistTrackOut:
        return cls(added_at=entry.added_at, track=TrackOut.of(entry.item) if entry.item else None)


class PlaylistTracksOut(BaseModel):
    """A page of a playlist's entries."""

    playlist_id: str
    offset: int
    limit: int
    items: list[PlaylistTrackOut]


class PartErrorOut(BaseModel):
    """Why one part of the combined state is missing."""

    code: str
    message: str


class StateErrorsOut(BaseModel):
    """The parts of the combined state that failed, each with its reason."""

    now_playing: PartErrorOut | None = None
    queue: PartErrorOut | None = None
    devices: PartErrorOut | None = None
    playlists: PartErrorOut | None = None


class StateOut(BaseModel):
    """Now playing, queue, devices and playlists; a failed part is null and in ``errors``."""

    now_playing: NowPlayingOut | None = None
    queue: QueueOut | None = None
    devices: list[DeviceOut] | None = None
    playlists: list[PlaylistOut] | None = None
    errors: StateErrorsOut = Field(default_factory=StateErrorsOut)


class ActionOut(BaseModel):
    """A playback action that succeeded, and the event recorded for it."""

    action: str
    event: EventOut


class SnapshotOut(BaseModel):
    """A playlist change that succeeded: the playlist's new version."""

    playlist_id: str
    snapshot_id: str


class DoneOut(BaseModel):
    """A change that succeeded and has nothing else to say."""

    ok: Literal[True] = True


class ManualStatusOut(BaseModel):
    """Manual connect: whether the account is being polled, and for how long still."""

    active: bool
    remaining_seconds: int
    expires_at: datetime | None = None


class ManualStoppedOut(BaseModel):
    """Manual connect stopped; ``stopped`` is false when it was not on."""

    stopped: bool


# ---- requests --------------------------------------------------------------------------


class PlaybackIn(BaseModel):
    """``POST /playback``. Which fields count depends on ``action``:

    play: ``uri`` (a track) or ``context_uri`` (album, artist, playlist, show) and
    optionally ``offset_uri``, or nothing to resume; skip_to: ``uri`` of a queued track;
    seek: ``position_ms``; volume: ``volume_percent``; shuffle: ``state``; repeat: ``mode``.
    ``device_id`` (optional) targets a device instead of the active one.
    """

    action: PlaybackAction
    uri: str | None = None
    context_uri: str | None = None
    offset_uri: str | None = None
    position_ms: int | None = None
    volume_percent: int | None = None
    state: bool | None = None
    mode: str | None = None
    device_id: str | None = None


class QueueIn(BaseModel):
    """``POST /queue``: the track to add."""

    uri: str


class TransferIn(BaseModel):
    """``POST /devices``: the device to move playback to; ``play`` starts it there."""

    device_id: str
    play: bool = False


class PlayPlaylistIn(BaseModel):
    """``POST /playlists``: the playlist to play; the rest describes it in the event."""

    uri: str
    name: str | None = None
    cover_url: str | None = None
    track_count: int | None = None
    playlist_url: str | None = None


class CreatePlaylistIn(BaseModel):
    """``POST /playlists/new``."""

    name: str
    public: bool | None = None
    description: str | None = None


class RenamePlaylistIn(BaseModel):
    """``PATCH /playlists/{id}``."""

    name: str


class AddTracksIn(BaseModel):
    """``POST /playlists/{id}/tracks``: tracks to append, in order."""

    uris: list[str]


class RemoveTrackIn(BaseModel):
    """``DELETE /playlists/{id}/tracks``: the track whose every occurrence goes."""

    uri: str
