"""Pydantic models of the Spotify Web API objects TuneDeck reads.

They ignore fields they do not know, accept ``null`` wherever Spotify has been seen to
send it (ids of local files, devices without id or volume, an ad as ``item: null``),
and require only what the product relies on (names, uris, durations). Playlist objects
are normalised: the older ``track`` / ``tracks`` keys are read as ``item`` / ``items``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

RepeatState = Literal["off", "context", "track"]


def _none_as_empty_list(value: Any) -> Any:
    return [] if value is None else value


def _none_as_empty_dict(value: Any) -> Any:
    return {} if value is None else value


class SpotifyModel(BaseModel):
    """Base of every Spotify object: unknown fields are ignored, instances are immutable."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Image(SpotifyModel):
    """One image of an album, playlist, show or user; sizes are unknown for some."""

    url: str
    height: int | None = None
    width: int | None = None


Images = Annotated[list[Image], BeforeValidator(_none_as_empty_list)]
ExternalUrls = Annotated[dict[str, str], BeforeValidator(_none_as_empty_dict)]


def pick_image(images: list[Image], *, largest: bool = True) -> str | None:
    """URL of the largest (or smallest) image; unknown sizes count as large."""
    if not images:
        return None

    def area(image: Image) -> int:
        if image.width is None or image.height is None:
            return 1 << 30
        return image.width * image.height

    chosen = max(images, key=area) if largest else min(images, key=area)
    return chosen.url


class ArtistRef(SpotifyModel):
    """A simplified artist, as nested in tracks and albums (ids are null for local files)."""

    id: str | None = None
    name: str
    uri: str | None = None
    external_urls: ExternalUrls = Field(default_factory=dict)


class AlbumRef(SpotifyModel):
    """A simplified album, as nested in a track."""

    id: str | None = None
    name: str = ""
    uri: str | None = None
    album_type: str | None = None
    release_date: str | None = None
    artists: Annotated[list[ArtistRef], BeforeValidator(_none_as_empty_list)] = Field(
        default_factory=list
    )
    images: Images = Field(default_factory=list)
    external_urls: ExternalUrls = Field(default_factory=dict)

    def image_url(self, *, largest: bool = True) -> str | None:
        """URL of the album art, the largest by default (the smallest with ``largest=False``)."""
        return pick_image(self.images, largest=largest)


class Restrictions(SpotifyModel):
    """Why an item cannot be played: ``market``, ``product``, ``explicit`` or another."""

    reason: str | None = None


class LinkedTrack(SpotifyModel):
    """The track that was asked for, when Spotify answered another copy of it (relinking)."""

    id: str | None = None
    uri: str | None = None


class Track(SpotifyModel):
    """A track; local files have ``is_local`` set and ``id`` null.

    Asked for in a ``market``, a track says whether it plays there (``is_playable``, with
    ``restrictions`` when it does not, and ``linked_from`` when Spotify answered another
    copy); asked for without one, it lists the ``available_markets`` instead.
    """

    type: Literal["track"] = "track"
    id: str | None = None
    name: str
    uri: str
    duration_ms: int
    artists: Annotated[list[ArtistRef], BeforeValidator(_none_as_empty_list)] = Field(
        default_factory=list
    )
    album: AlbumRef | None = None
    explicit: bool = False
    is_local: bool = False
    is_playable: bool | None = None
    available_markets: list[str] | None = None
    restrictions: Restrictions | None = None
    linked_from: LinkedTrack | None = None
    popularity: int | None = None
    preview_url: str | None = None
    track_number: int | None = None
    disc_number: int | None = None
    external_urls: ExternalUrls = Field(default_factory=dict)

    @property
    def artist_names(self) -> list[str]:
        """The artists' names, in credit order."""
        return [artist.name for artist in self.artists]

    @property
    def artists_text(self) -> str:
        """The artists' names joined for display: "A, B"."""
        return ", ".join(self.artist_names)

    @property
    def album_name(self) -> str | None:
        """The album's name, if the track has one."""
        return self.album.name if self.album else None

    def image_url(self, *, largest: bool = True) -> str | None:
        """URL of the album art, if any."""
        return self.album.image_url(largest=largest) if self.album else None

    @property
    def url(self) -> str | None:
        """The open.spotify.com link."""
        return self.external_urls.get("spotify")


class ShowRef(SpotifyModel):
    """A simplified show (podcast), as nested in an episode."""

    id: str | None = None
    name: str = ""
    uri: str | None = None
    publisher: str | None = None
    images: Images = Field(default_factory=list)
    external_urls: ExternalUrls = Field(default_factory=dict)


class Episode(SpotifyModel):
    """A podcast episode."""

    type: Literal["episode"] = "episode"
    id: str | None = None
    name: str
    uri: str
    duration_ms: int
    description: str | None = None
    explicit: bool = False
    is_playable: bool | None = None
    release_date: str | None = None
    images: Images = Field(default_factory=list)
    show: ShowRef | None = None
    external_urls: ExternalUrls = Field(default_factory=dict)

    @property
    def artist_names(self) -> list[str]:
        """What stands in for artists on an episode: the show's publisher (or name)."""
        if self.show is None:
            return []
        return [self.show.publisher or self.show.name]

    @property
    def artists_text(self) -> str:
        """The publisher, for display."""
        return ", ".join(self.artist_names)

    @property
    def album_name(self) -> str | None:
        """The show's name, standing in for an album."""
        return self.show.name if self.show else None

    def image_url(self, *, largest: bool = True) -> str | None:
        """The episode's image, or else the show's."""
        return pick_image(self.images, largest=largest) or (
            pick_image(self.show.images, largest=largest) if self.show else None
        )

    @property
    def url(self) -> str | None:
        """The open.spotify.com link."""
        return self.external_urls.get("spotify")


Playable = Annotated[Track | Episode, Field(discriminator="type")]
"""A track or an episode, told apart by ``type``."""

_PLAYABLE_TYPES = ("track", "episode")


def _known_playable(value: Any) -> Any:
    """Prepare one raw item for the Track | Episode union: infer a missing ``type``,
    and turn anything else (an ad, a chapter) into ``None``."""
    if not isinstance(value, dict):
        return value
    kind = value.get("type")
    if kind is None:
        return {**value, "type": "episode" if "show" in value else "track"}
    return value if kind in _PLAYABLE_TYPES else None


def _known_playables(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, list):
        return [item for item in map(_known_playable, value) if item is not None]
    return value


OptionalPlayable = Annotated[Playable | None, BeforeValidator(_known_playable)]
PlayableList = Annotated[list[Playable], BeforeValidator(_known_playables)]


class Device(SpotifyModel):
    """A Spotify Connect device; ``id`` and ``volume_percent`` can be null."""

    id: str | None = None
    name: str
    type: str
    is_active: bool = False
    is_private_session: bool = False
    is_restricted: bool = False
    volume_percent: int | None = None
    supports_volume: bool = True


class Context(SpotifyModel):
    """What playback is playing from: an album, playlist, artist or show."""

    type: str | None = None
    uri: str
    href: str | None = None
    external_urls: ExternalUrls = Field(default_factory=dict)


class Actions(SpotifyModel):
    """Which playback actions the current context disallows (true = disallowed)."""

    disallows: Annotated[dict[str, bool], BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=dict
    )

    def allows(self, action: str) -> bool:
        """Whether ``action`` (``pausing``, ``skipping_next``, ...) is not disallowed."""
        return not self.disallows.get(action, False)


class Playback(SpotifyModel):
    """The playback state (GET /me/player) or the currently playing object
    (GET /me/player/currently-playing, which has no device, repeat or shuffle:
    those read as None, "off" and False)."""

    device: Device | None = None
    repeat_state: RepeatState = "off"
    shuffle_state: bool = False
    smart_shuffle: bool | None = None
    context: Context | None = None
    timestamp: int | None = None
    progress_ms: int | None = None
    is_playing: bool = False
    item: OptionalPlayable = None
    currently_playing_type: str = "unknown"
    actions: Actions = Field(default_factory=Actions)

    @field_validator("actions", mode="before")
    @classmethod
    def _actions_or_empty(cls, value: Any) -> Any:
        return {} if value is None else value


class Queue(SpotifyModel):
    """The user's queue: what plays now and what comes next."""

    currently_playing: OptionalPlayable = None
    queue: PlayableList = Field(default_factory=list)


class User(SpotifyModel):
    """The current user's profile."""

    id: str
    display_name: str | None = None
    email: str | None = None
    country: str | None = None
    product: str | None = None
    uri: str | None = None
    images: Images = Field(default_factory=list)
    external_urls: ExternalUrls = Field(default_factory=dict)

    @property
    def is_premium(self) -> bool:
        """Whether the user can control playback (Spotify Premium)."""
        return self.product == "premium"


class PlaylistUser(SpotifyModel):
    """A user as nested in a playlist: its owner or who added an item."""

    id: str | None = None
    display_name: str | None = None
    uri: str | None = None
    external_urls: ExternalUrls = Field(default_factory=dict)


T = TypeVar("T")


class Paging(SpotifyModel, Generic[T]):
    """One page of a list; null entries (unavailable objects) are dropped."""

    href: str | None = None
    items: list[T] = Field(default_factory=list)
    limit: int = 0
    offset: int = 0
    total: int = 0
    next: str | None = None
    previous: str | None = None

    @field_validator("items", mode="before")
    @classmethod
    def _drop_nulls(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, list):
            return [item for item in value if item is not None]
        return value


class PlaylistItem(SpotifyModel):
    """One entry of a playlist; ``item`` is read from ``item`` or the older ``track``,
    and is None when the track is no longer available."""

    added_at: datetime | None = None
    added_by: PlaylistUser | None = None
    is_local: bool = False
    item: OptionalPlayable = None

    @model_validator(mode="before")
    @classmethod
    def _item_from_track(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("item") is None and "track" in data:
            data = {**data, "item": data["track"]}
        return data


class PlaylistItemsRef(SpotifyModel):
    """Where a playlist's items are and how many there are."""

    href: str | None = None
    total: int = 0


def _items_from_tracks(data: Any) -> Any:
    if isinstance(data, dict) and data.get("items") is None and "tracks" in data:
        data = {**data, "items": data["tracks"]}
    return data


class _PlaylistBase(SpotifyModel):
    id: str
    name: str
    uri: str
    description: str | None = None
    public: bool | None = None
    collaborative: bool = False
    snapshot_id: str | None = None
    owner: PlaylistUser | None = None
    images: Images = Field(default_factory=list)
    external_urls: ExternalUrls = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _normalise_items(cls, data: Any) -> Any:
        return _items_from_tracks(data)

    def image_url(self, *, largest: bool = True) -> str | None:
        """URL of the playlist's cover, if it has one."""
        return pick_image(self.images, largest=largest)

    @property
    def url(self) -> str | None:
        """The open.spotify.com link."""
        return self.external_urls.get("spotify")


class SimplifiedPlaylist(_PlaylistBase):
    """A playlist as listed in the user's playlists: ``items`` only links and counts."""

    items: PlaylistItemsRef | None = None

    @property
    def total_items(self) -> int:
        """How many tracks and episodes the playlist holds."""
        return self.items.total if self.items else 0


class Followers(SpotifyModel):
    """Follower count of a playlist."""

    total: int = 0


class Playlist(_PlaylistBase):
    """A full playlist with the first page of its items."""

    items: Paging[PlaylistItem] | None = None
    followers: Followers | None = None

    @property
    def total_items(self) -> int:
        """How many tracks and episodes the playlist holds."""
        return self.items.total if self.items else 0


class Devices(SpotifyModel):
    """Response of GET /me/player/devices."""

    devices: Annotated[list[Device], BeforeValidator(_none_as_empty_list)] = Field(
        default_factory=list
    )


class TrackSearch(SpotifyModel):
    """Response of GET /search with ``type=track``."""

    tracks: Paging[Track] = Field(default_factory=Paging[Track])


class SnapshotId(SpotifyModel):
    """Response of a playlist change: the playlist's new version."""

    snapshot_id: str = ""


class ErrorBody(SpotifyModel):
    """The ``error`` object of a Web API error response."""

    status: int | None = None
    message: str = ""
    reason: str | None = None
