"""The input of every player operation: one validated model each, shared by both doors.

REST takes these models as its JSON bodies and query strings; GraphQL builds the same
models (its input types are generated from them, its arguments are fed to them through
:func:`parse`). So a field added here appears in both doors, a value is refused by
both with the same ``validation_error`` and the same message, and every limit lives
here once. Unknown fields are refused, naming them. Nothing reaches Spotify before its
input validated.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from tunedeck.events import service as events
from tunedeck.events.types import EventType
from tunedeck.kit.constraints import Between, DateTimeText, JsonInteger, Matching, Text
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
# The deepest page Spotify serves: 100,000 for a user's playlists (its reference says
# so); a playlist's items the way the simulator models Spotify. Beyond: refused here.
MAX_PLAYLISTS_OFFSET = 100_000
MAX_PLAYLIST_TRACKS_OFFSET = 1_000_000
DEFAULT_EVENTS_LIMIT = events.DEFAULT_LIMIT
MAX_EVENTS_LIMIT = events.MAX_LIMIT

# ---- value types -----------------------------------------------------------------------
# Patterns as the description states them (see kit.constraints): anchored, matched whole.

_ID = "[0-9A-Za-z]{22}"
TRACK_URI = f"^spotify:track:{_ID}$"
PLAYLIST_ID = "^[0-9A-Za-z]{1,64}$"
PLAYLIST_URI = "^spotify:playlist:([0-9A-Za-z]{1,64})$"
CONTEXT_URI = f"^spotify:((album|artist|show):{_ID}|playlist:[0-9A-Za-z]{{1,64}})$"
# Visible ASCII only: Spotify's device ids are hex, and a space or control byte is a typo.
DEVICE_ID = rf"^[\x21-\x7e]{{1,{MAX_DEVICE_ID}}}$"
# Covers and playlist links end up in overlays: no other schemes, nothing invisible.
HTTP_URL = rf"^https?://[\x21-\x7e]{{1,{MAX_TEXT}}}$"

TrackUri = Annotated[
    StrictStr,
    Matching(TRACK_URI, "track_uri", "a Spotify track URI (spotify:track:<22 base62>)"),
]
ContextUri = Annotated[
    StrictStr,
    Matching(
        CONTEXT_URI,
        "context_uri",
        "a Spotify album, artist, show or playlist URI (spotify:album:<id>, ...)",
    ),
]
PlaylistUri = Annotated[
    StrictStr,
    Matching(PLAYLIST_URI, "playlist_uri", "a Spotify playlist URI (spotify:playlist:<id>)"),
]
PlaylistId = Annotated[
    StrictStr, Matching(PLAYLIST_ID, "playlist_id", "a Spotify playlist id (base62)")
]
DeviceId = Annotated[
    StrictStr,
    Matching(DEVICE_ID, "device_id", f"a device id (1-{MAX_DEVICE_ID} visible characters)"),
]
HttpUrl = Annotated[StrictStr, Matching(HTTP_URL, "http_url", "an http or https URL")]
PlaylistName = Annotated[StrictStr, Text(MAX_PLAYLIST_NAME)]
Description = Annotated[StrictStr, Text(MAX_PLAYLIST_DESCRIPTION, blank_ok=True)]
# Integers in JSON bodies: 90 or 90.0 (JSON Schema's integers), never true or "90".
VolumePercent = Annotated[int, JsonInteger(), Between(0, 100)]
PositionMs = Annotated[int, JsonInteger(), Between(0, MAX_POSITION_MS)]
Count = Annotated[int, JsonInteger(), Between(0)]
RepeatMode = Literal["off", "context", "track"]


# Page sizes and offsets come in query strings, as text: lax ints, checked the same way.
SearchLimit = Annotated[int, Between(1, MAX_SEARCH_LIMIT)]
PlaylistsLimit = Annotated[int, Between(1, MAX_PLAYLISTS_PAGE)]
PlaylistTracksLimit = Annotated[int, Between(1, MAX_PLAYLIST_TRACKS_PAGE)]
EventsLimit = Annotated[int, Between(1, MAX_EVENTS_LIMIT)]
PlaylistsOffset = Annotated[int, Between(0, MAX_PLAYLISTS_OFFSET)]
PlaylistTracksOffset = Annotated[int, Between(0, MAX_PLAYLIST_TRACKS_OFFSET)]
Moment = Annotated[datetime, DateTimeText()]


class _Input(BaseModel):
    """Every input refuses fields it does not know, naming them."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _required_for(action: str, field: str) -> PydanticCustomError:
    return PydanticCustomError(
        "missing_for_action", "is required for {action}", {"action": action, "field": field}
    )


def _given(*fields: str) -> dict[str, Any]:
    """JSON schema: each of ``fields`` is present and not null (a null means "not given")."""
    return {"required": list(fields), "properties": {f: {"not": {"type": "null"}} for f in fields}}


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

    # The rules below, stated in the description too.
    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {"if": {"properties": {"action": {"const": a.value}}}, "then": _given(f)}
                for a, f in _NEEDS.items()
            ]
            + [
                {"if": _given("offset_uri"), "then": _given("context_uri")},
                {"not": _given("uri", "offset_uri")},
            ]
        }
    )

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
    name: Annotated[StrictStr, Text(MAX_PLAYLIST_NAME * 2, blank_ok=True)] | None = None
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

    model_config = ConfigDict(json_schema_extra={"anyOf": [_given("name"), _given("description")]})

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

    query: Annotated[StrictStr, Text(MAX_QUERY_LENGTH)]
    limit: SearchLimit = DEFAULT_SEARCH_LIMIT


class PlaylistsPageIn(_Input):
    """A page of the user's playlists."""

    limit: PlaylistsLimit = MAX_PLAYLISTS_PAGE
    offset: PlaylistsOffset = 0


class PlaylistTracksPageIn(_Input):
    """A page of a playlist's entries."""

    limit: PlaylistTracksLimit = MAX_PLAYLIST_TRACKS_PAGE
    offset: PlaylistTracksOffset = 0


ACTOR = rf"^[\x21-\x7e]{{1,{MAX_ACTOR_KEY_ID}}}$"
# One type, or several comma-separated (``spotify:play,spotify:pause``).
_EVENT_TYPE = "(" + "|".join(t.value for t in EventType) + ")"
EVENT_TYPES = f"^{_EVENT_TYPE}(,{_EVENT_TYPE})*$"


class EventsQueryIn(_Input):
    """Which recorded events to list, newest first."""

    # The service refuses an unknown type as ``unknown_event_type``; the pattern says so.
    types: list[Annotated[str, Field(json_schema_extra={"pattern": EVENT_TYPES})]] | None = Field(
        default=None,
        alias="type",
        description="Only these types (repeat the parameter, or comma-separate).",
    )
    actor: Annotated[StrictStr, Matching(ACTOR, "actor", "an API key id")] | None = Field(
        default=None,
        description="Only what this actor did: the id of the API key that acted "
        "(an event's actor.key_id).",
    )
    since: Moment | None = Field(default=None, description="From this time (inclusive).")
    until: Moment | None = Field(default=None, description="Before this time (exclusive).")
    cursor: Annotated[str, Field(max_length=MAX_CURSOR)] | None = Field(
        default=None,
        description="next_cursor of the previous page.",
        json_schema_extra={"pattern": events.CURSOR},
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
