"""GraphQL types: mirrors of the REST response shapes (``player.schemas``), camelCased."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, TypeVar, cast

import strawberry
from pydantic import BaseModel
from strawberry.experimental.pydantic import type as from_model
from strawberry.scalars import JSON

from tunedeck.events.schemas import EventOut, EventPage
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
    StateErrorsOut,
    StateOut,
    TrackOut,
)

T = TypeVar("T")


def mirror(kind: type[T], value: BaseModel) -> T:
    """The GraphQL object of ``kind`` mirroring the response model ``value``."""
    return cast(T, kind.from_pydantic(value))  # type: ignore[attr-defined]


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


@strawberry.enum
class SpotifyPlaybackAction(Enum):
    PLAY = "play"
    PAUSE = "pause"
    NEXT = "next"
    PREVIOUS = "previous"
    SKIP_TO = "skip_to"
    SEEK = "seek"
    VOLUME = "volume"
    SHUFFLE = "shuffle"
    REPEAT = "repeat"


@strawberry.input
class SpotifyPlaybackInput:
    """What ``POST /v1/spotify/playback`` takes: the fields that count depend on
    ``action`` (play: uri and/or contextUri; skipTo: uri; seek: positionMs; volume:
    volumePercent; shuffle: state; repeat: mode off/context/track)."""

    action: SpotifyPlaybackAction
    uri: str | None = None
    context_uri: str | None = None
    position_ms: int | None = None
    volume_percent: int | None = None
    state: bool | None = None
    mode: str | None = None
    device_id: str | None = None
