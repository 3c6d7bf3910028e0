"""The input of every player operation: one validated model each, shared by both doors.

REST takes these models as its JSON bodies and query strings; GraphQL builds the same
models (its input types are generated from them, its arguments are fed to them through
:func:`parse`). So a field added here appears in both doors, a value is refused by
both with the same ``validation_error`` and the same message, and every limit lives
here once. Unknown fields are refused, naming them. Nothing reaches Spotify before its
input validated.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from tunedeck.events import service as events
from tunedeck.kit.errors import ValidationFailed

# ---- limits ----------------------------------------------------------------------------

MAX_POSITION_MS = 24 * 3600 * 1000
"""Spotify refuses positions beyond a day; so do we, before asking."""
MAX_SEARCH_LIMIT = 50
DEFAULT_SEARCH_LIMIT = 20
MAX_QUERY_LENGTH = 250
MAX_PLAYLIST_NAME = 100
MAX_PLAYLIST_DESCRIPTION = 300
MAX_TRACKS_PER_CALL = 100
MAX_PLAYLISTS_PAGE = 50
MAX_PLAYLIST_TRACKS_PAGE = 100
MAX_DEVICE_ID = 128
MAX_TEXT = 2048
MAX_CURSOR = 512
MAX_ACTOR_KEY_ID = 64  # the actor_key_id column
DEFAULT_EVENTS_LIMIT = events.DEFAULT_LIMIT
MAX_EVENTS_LIMIT = events.MAX_LIMIT

# ---- value types -----------------------------------------------------------------------

_ID = r"[0-9A-Za-z]{22}"
TRACK_URI = re.compile(rf"^spotify:track:{_ID}$")
PLAYLIST_ID = re.compile(r"^[0-9A-Za-z]{1,64}$")
PLAYLIST_URI = re.compile(r"^spotify:playlist:([0-9A-Za-z]{1,64})$")
CONTEXT_URI = re.compile(
    rf"^spotify:(album|artist|show):{_ID}$|^spotify:playlist:[0-9A-Za-z]{{1,64}}$"
)
# Visible ASCII only: Spotify's device ids are hex, and a space or control byte is a typo.
DEVICE_ID = re.compile(rf"^[\x21-\x7e]{{1,{MAX_DEVICE_ID}}}$")
HTTP_URL = re.compile(r"^https?://\S+$")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _matching(pattern: re.Pattern[str], rule: str, what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.match(value):
            raise PydanticCustomError(
                rule, "must be {what}, got {got}", {"what": what, "got": _shown(value)}
            )
        return value

    return check


def _between(low: int, high: int) -> Callable[[int], int]:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise PydanticCustomError(
                "out_of_range",
                "must be between {low} and {high}, got {got}",
                {"low": low, "high": high, "got": value},
            )
        return value

    return check


def _at_least(low: int) -> Callable[[int], int]:
    def check(value: int) -> int:
        if value < low:
            raise PydanticCustomError(
                "out_of_range", "must be at least {low}, got {got}", {"low": low, "got": value}
            )
        return value

    return check


# NUL (PostgreSQL refuses it in text) and unpaired surrogates (not encodable as UTF-8).
_UNSAFE_CHARACTER = re.compile("[\x00\ud800-\udfff]")


def _safe_characters(value: str) -> str:
    if _UNSAFE_CHARACTER.search(value):
        raise PydanticCustomError(
            "invalid_character", "must not contain NUL characters or unpaired surrogates"
        )
    return value


def _text(maximum: int, *, blank_ok: bool) -> Callable[[str], str]:
    """Trimmed text of at most ``maximum`` characters (not empty unless ``blank_ok``)."""

    def check(value: str) -> str:
        text = _safe_characters(value).strip()
        if not text and not blank_ok:
            raise PydanticCustomError("empty", "must not be empty")
        if len(text) > maximum:
            raise PydanticCustomError(
                "too_long", "must be at most {maximum} characters", {"maximum": maximum}
            )
        return text

    return check


TrackUri = Annotated[
    StrictStr,
    AfterValidator(
        _matching(TRACK_URI, "track_uri", "a Spotify track URI (spotify:track:<22 base62>)")
    ),
]
ContextUri = Annotated[
    StrictStr,
    AfterValidator(
        _matching(
            CONTEXT_URI,
            "context_uri",
            "a Spotify album, artist, show or playlist URI (spotify:album:<id>, ...)",
        )
    ),
]
PlaylistUri = Annotated[
    StrictStr,
    AfterValidator(
        _matching(PLAYLIST_URI, "playlist_uri", "a Spotify playlist URI (spotify:playlist:<id>)")
    ),
]
PlaylistId = Annotated[
    StrictStr,
    AfterValidator(_matching(PLAYLIST_ID, "playlist_id", "a Spotify playlist id (base62)")),
]
DeviceId = Annotated[
    StrictStr,
    AfterValidator(
        _matching(DEVICE_ID, "device_id", f"a device id (1-{MAX_DEVICE_ID} visible characters)")
    ),
]
HttpUrl = Annotated[
    StrictStr,
    AfterValidator(_text(MAX_TEXT, blank_ok=False)),
    # Covers and playlist links end up in overlays: no other schemes.
    AfterValidator(_matching(HTTP_URL, "http_url", "an http or https URL")),
]
PlaylistName = Annotated[StrictStr, AfterValidator(_text(MAX_PLAYLIST_NAME, blank_ok=False))]
Description = Annotated[StrictStr, AfterValidator(_text(MAX_PLAYLIST_DESCRIPTION, blank_ok=True))]
VolumePercent = Annotated[StrictInt, AfterValidator(_between(0, 100))]
PositionMs = Annotated[StrictInt, AfterValidator(_between(0, MAX_POSITION_MS))]
Count = Annotated[StrictInt, AfterValidator(_at_least(0))]
RepeatMode = Literal["off", "context", "track"]


# Page sizes and offsets come in query strings, as text: lax ints, checked the same way.
SearchLimit = Annotated[int, AfterValidator(_between(1, MAX_SEARCH_LIMIT))]
PlaylistsLimit = Annotated[int, AfterValidator(_between(1, MAX_PLAYLISTS_PAGE))]
PlaylistTracksLimit = Annotated[int, AfterValidator(_between(1, MAX_PLAYLIST_TRACKS_PAGE))]
EventsLimit = Annotated[int, AfterValidator(_between(1, MAX_EVENTS_LIMIT))]
Offset = Annotated[int, AfterValidator(_at_least(0))]


class _Input(BaseModel):
    """Every input refuses fields it does not know, naming them."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _required_for(action: str, field: str) -> PydanticCustomError:
    return PydanticCustomError(
        "missing_for_action", "is required for {action}", {"action": action, "field": field}
    )


# ---- playback --------------------------------------------------------------------------


class PlaybackAction(StrEnum):
    PLAY = "play"
    PAUSE = "pause"
    NEXT = "next"
    PREVIOUS = "previous"
    SKIP_TO = "skip_to"
    SEEK = "seek"
    VOLUME = "volume"
    SHUFFLE = "shuffle"
    REPEAT = "repeat"


# The field each action cannot do without.
_NEEDS: dict[PlaybackAction, str] = {
    PlaybackAction.SKIP_TO: "uri",
    PlaybackAction.SEEK: "position_ms",
    PlaybackAction.VOLUME: "volume_percent",
    PlaybackAction.SHUFFLE: "state",
    PlaybackAction.REPEAT: "mode",
}


class PlaybackIn(_Input):
    """Control playback. Which fields count depends on ``action``:

    play: ``uri`` (a track) and/or ``context_uri`` (album, artist, playlist, show; with
    ``uri`` or ``offset_uri`` naming the track to start from), or nothing to resume;
    skip_to: ``uri`` of a queued track; seek: ``position_ms``; volume: ``volume_percent``;
    shuffle: ``state``; repeat: ``mode``. ``device_id`` targets a device instead of the
    active one.
    """

    action: PlaybackAction
    uri: TrackUri | None = None
    context_uri: ContextUri | None = None
    offset_uri: TrackUri | None = Field(
        default=None, description="With context_uri: the track of the context to start from."
    )
    position_ms: PositionMs | None = None
    volume_percent: VolumePercent | None = None
    state: StrictBool | None = None
    mode: RepeatMode | None = None
    device_id: DeviceId | None = None

    @model_validator(mode="after")
    def _fields_of_action(self) -> PlaybackIn:
        needed = _NEEDS.get(self.action)
        if needed is not None and getattr(self, needed) is None:
            raise _required_for(self.action.value, needed)
        if self.offset_uri is not None and self.context_uri is None:
            raise PydanticCustomError(
                "offset_without_context",
                "needs context_uri (the context to start within)",
                {"field": "offset_uri"},
            )
        if self.uri is not None and self.offset_uri is not None:
            raise PydanticCustomError(
                "offset_twice", "give uri or offset_uri, not both", {"field": "offset_uri"}
            )
        return self

    @property
    def start_uri(self) -> str | None:
        """With a context: the track to start from (``offset_uri``, or ``uri``)."""
        return self.offset_uri or self.uri


class QueueIn(_Input):
    """Add a track to the queue."""

    uri: TrackUri


class TransferIn(_Input):
    """Move playback to ``device_id``; ``play`` starts it there."""

    device_id: DeviceId
    play: StrictBool = False


# ---- playlists -------------------------------------------------------------------------


class PlayPlaylistIn(_Input):
    """Play a playlist; ``name``, ``cover_url``, ``track_count`` and ``playlist_url``
    describe it in the event (as the caller says; they are not checked with Spotify)."""

    uri: PlaylistUri
    name: (
        Annotated[StrictStr, AfterValidator(_text(MAX_PLAYLIST_NAME * 2, blank_ok=True))] | None
    ) = None
    cover_url: HttpUrl | None = None
    track_count: Count | None = None
    playlist_url: HttpUrl | None = None


class CreatePlaylistIn(_Input):
    """Create a playlist for the user."""

    name: PlaylistName
    public: StrictBool | None = None
    description: Description | None = None


class RenamePlaylistIn(_Input):
    """Change a playlist's name, its description, or both."""

    name: PlaylistName | None = None
    description: Description | None = None

    @model_validator(mode="after")
    def _something(self) -> RenamePlaylistIn:
        if self.name is None and self.description is None:
            raise PydanticCustomError(
                "missing", "give a name, a description, or both", {"field": "name"}
            )
        return self


class AddTracksIn(_Input):
    """Append tracks to a playlist, in order."""

    uris: Annotated[list[TrackUri], Field(min_length=1, max_length=MAX_TRACKS_PER_CALL)]


class RemoveTrackIn(_Input):
    """Remove every occurrence of a track from a playlist."""

    uri: TrackUri


class PlaylistTarget(_Input):
    """Which playlist an operation changes or reads (a REST path, a GraphQL argument)."""

    playlist_id: PlaylistId


# ---- reads -----------------------------------------------------------------------------


class SearchIn(_Input):
    """Search tracks."""

    query: Annotated[StrictStr, AfterValidator(_text(MAX_QUERY_LENGTH, blank_ok=False))]
    limit: SearchLimit = DEFAULT_SEARCH_LIMIT


class PlaylistsPageIn(_Input):
    """A page of the user's playlists."""

    limit: PlaylistsLimit = MAX_PLAYLISTS_PAGE
    offset: Offset = 0


class PlaylistTracksPageIn(_Input):
    """A page of a playlist's entries."""

    limit: PlaylistTracksLimit = MAX_PLAYLIST_TRACKS_PAGE
    offset: Offset = 0


class EventsQueryIn(_Input):
    """Which recorded events to list, newest first."""

    types: list[str] | None = Field(
        default=None,
        alias="type",
        description="Only these types (repeat the parameter, or comma-separate).",
    )
    actor: (
        Annotated[
            str, Field(min_length=1, max_length=MAX_ACTOR_KEY_ID), AfterValidator(_safe_characters)
        ]
        | None
    ) = Field(
        default=None,
        description="Only what this actor did: the id of the API key that acted "
        "(an event's actor.key_id).",
    )
    since: datetime | None = Field(default=None, description="From this time (inclusive).")
    until: datetime | None = Field(default=None, description="Before this time (exclusive).")
    cursor: Annotated[str, Field(max_length=MAX_CURSOR)] | None = Field(
        default=None, description="next_cursor of the previous page."
    )
    limit: EventsLimit = DEFAULT_EVENTS_LIMIT


# ---- building a model from a door's arguments -----------------------------------------

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], **values: Any) -> M:
    """``model`` from keyword values (a GraphQL door's arguments), refused the way REST
    refuses a body: ``validation_error`` naming each field. ``None`` means "not given"."""
    try:
        return model.model_validate({k: v for k, v in values.items() if v is not None})
    except PydanticValidationError as exc:
        raise ValidationFailed.of_pydantic(exc) from exc
