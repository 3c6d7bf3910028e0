"""GraphQL types: mirrors of the REST response shapes (``player.schemas``) and of the
operations' input models (``player.inputs``), camelCased."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar, cast

import strawberry
from pydantic import BaseModel
from strawberry.experimental.pydantic import input as from_input_model
from strawberry.experimental.pydantic import type as from_model
from strawberry.scalars import JSON

from tunedeck.events.schemas import EventOut, EventPage
from tunedeck.player.inputs import PlaybackAction, PlaybackIn
from tunedeck.player.schemas import (
    ActionOut,
    DeviceOut,
    ManualStatusOut,
    NowPlayingOut,
    PartErrorOut,
    PlaylistOut,
    PlaylistTrackOut,
    PlaylistTracksOut,
    QueueOut,
    SnapshotOut,
    StateErrorsOut,
    StateOut,
    TrackOut,
)

T = TypeVar("T")


def mirror(kind: type[T], value: BaseModel) -> T:
    """The GraphQL object of ``kind`` mirroring the response model ``value``: the model
    itself, which a type made from it accepts as its own (Strawberry's ``is_type_of`` for
    such types) and whose fields resolve by attribute, nested models included.

    ``kind.from_pydantic(value)`` would copy every field of every nested model first,
    asked for or not: for a state with 50 playlists, about as long as the rest of the
    GraphQL request.
    """
    model = getattr(kind, "_pydantic_type", None)
    if model is None or not isinstance(value, model):
        raise TypeError(f"{kind.__name__} does not mirror {type(value).__name__}")
    return cast(T, value)


@from_model(model=TrackOut, all_fields=True, name="SpotifyTrack")
class SpotifyTrack:
    pass


@from_model(model=DeviceOut, all_fields=True, name="SpotifyDevice")
class SpotifyDevice:
    pass


@from_model(model=NowPlayingOut, all_fields=True, name="SpotifyNowPlaying")
class SpotifyNowPlaying:
    # Milliseconds since the epoch do not fit GraphQL's 32-bit Int.
    timestamp: float | None


@from_model(model=QueueOut, all_fields=True, name="SpotifyQueue")
class SpotifyQueue:
    pass


@from_model(model=PlaylistOut, all_fields=True, name="SpotifyPlaylist")
class SpotifyPlaylist:
    pass


@from_model(model=PlaylistTrackOut, all_fields=True, name="SpotifyPlaylistTrack")
class SpotifyPlaylistTrack:
    pass


@from_model(model=PlaylistTracksOut, all_fields=True, name="SpotifyPlaylistTracks")
class SpotifyPlaylistTracks:
    pass


@from_model(model=PartErrorOut, all_fields=True, name="SpotifyStatePartError")
class SpotifyStatePartError:
    pass


@from_model(model=StateErrorsOut, all_fields=True, name="SpotifyStateErrors")
class SpotifyStateErrors:
    pass


@from_model(model=StateOut, all_fields=True, name="SpotifyState")
class SpotifyState:
    pass


@from_model(model=ManualStatusOut, all_fields=True, name="SpotifyManualStatus")
class SpotifyManualStatus:
    pass


@strawberry.type
class SpotifyEventActor:
    key_id: str | None
    label: str
    kind: str


@strawberry.type
class SpotifyEventTrack:
    name: str
    artists: list[str]
    album: str | None
    art_url: str | None
    uri: str | None
    duration_ms: int | None
    progress_ms: int | None


@strawberry.type
class SpotifyEvent:
    """One recorded playback event."""

    id: strawberry.ID
    type: str
    occurred_at: datetime
    actor: SpotifyEventActor
    params: JSON
    track: SpotifyEventTrack | None

    @classmethod
    def of(cls, event: EventOut) -> SpotifyEvent:
        track = event.track
        params: Any = event.params
        return cls(
            id=strawberry.ID(str(event.id)),
            type=event.type.value,
            occurred_at=event.occurred_at,
            actor=SpotifyEventActor(
                key_id=event.actor.key_id, label=event.actor.label, kind=event.actor.kind
            ),
            params=params,
            track=SpotifyEventTrack(**track.model_dump()) if track else None,
        )


@strawberry.type
class SpotifyEventPage:
    items: list[SpotifyEvent]
    next_cursor: str | None

    @classmethod
    def of(cls, page: EventPage) -> SpotifyEventPage:
        return cls(items=[SpotifyEvent.of(e) for e in page.items], next_cursor=page.next_cursor)


@strawberry.type
class SpotifyActionResult:
    """A playback action that succeeded, and the event recorded for it."""

    action: str
    event: SpotifyEvent

    @classmethod
    def of(cls, result: ActionOut) -> SpotifyActionResult:
        return cls(action=result.action, event=SpotifyEvent.of(result.event))


@strawberry.type
class SpotifyPlaylistChange:
    """A change to a playlist's tracks that succeeded: the playlist's new version."""

    ok: bool
    playlist_id: str
    snapshot_id: str

    @classmethod
    def of(cls, result: SnapshotOut) -> SpotifyPlaylistChange:
        return cls(ok=True, playlist_id=result.playlist_id, snapshot_id=result.snapshot_id)


# The input types are made from the operations' models (player.inputs): a field added to
# a model appears here, under its camelCase name, with nothing else to write.
SpotifyPlaybackAction = strawberry.enum(PlaybackAction, name="SpotifyPlaybackAction")


@from_input_model(model=PlaybackIn, all_fields=True, name="SpotifyPlaybackInput")
class SpotifyPlaybackInput:
    """What ``POST /v1/spotify/playback`` takes: the fields that count depend on
    ``action`` (play: uri and/or contextUri with offsetUri; skipTo: uri; seek:
    positionMs; volume: volumePercent; shuffle: state; repeat: mode off/context/track)."""

    # GraphQL has no literal types: the model checks the value.
    mode: str | None = None
