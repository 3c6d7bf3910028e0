"""Request and response shapes of the play history (snake_case): REST serves them as they
are, GraphQL mirrors them, the live feed's ``play`` message carries a :class:`PlayOut`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Row

from tunedeck.history.models import Play, Stream

EndReasonName = Literal["natural", "skipped", "previous", "replaced", "stopped", "unknown"]
ExportFormat = Literal["youtube", "csv", "json", "markdown", "m3u"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("youtube", "csv", "json", "markdown", "m3u")
MAX_HISTORY_PAGE = 200
DEFAULT_HISTORY_PAGE = 50


class PlayOut(BaseModel):
    """One play: the item as it was, when and how long it played, how it ended, where
    it came from, and its place in a stream."""

    id: uuid.UUID
    item_uri: str | None
    item_type: str
    name: str
    artists: list[str]
    album: str | None
    duration_ms: int | None
    art_url: str | None
    started_at: datetime
    ended_at: datetime | None = Field(description="Null while it plays.")
    ended_estimated: bool = Field(
        description="ended_at is an estimate: TuneDeck did not see the play end."
    )
    listened_ms: int = Field(description="How long it was heard, pauses excluded.")
    end_reason: EndReasonName | None
    context_uri: str | None
    context_type: str | None
    source: str = Field(description="context, request or queue.")
    request_id: uuid.UUID | None
    requested_by: str | None
    skipped_by: str | None = Field(description="Who ended it through TuneDeck, if someone did.")
    stream_id: uuid.UUID | None
    offset_ms: int | None = Field(description="From the start of its stream.")

    @classmethod
    def of(cls, row: Play | Row[Any]) -> PlayOut:
        """From a play, or a row of its columns (``repository.PAGE_COLUMNS``)."""
        return cls(
            id=row.id,
            item_uri=row.item_uri,
            item_type=row.item_type,
            name=row.name,
            artists=list(row.artists or []),
            album=row.album,
            duration_ms=row.duration_ms,
            art_url=row.art_url,
            started_at=row.started_at,
            ended_at=row.ended_at,
            ended_estimated=row.ended_estimated,
            listened_ms=row.listened_ms,
            end_reason=row.end_reason,
            context_uri=row.context_uri,
            context_type=row.context_type,
            source=row.source,
            request_id=row.request_id,
            requested_by=row.requested_by,
            skipped_by=row.skipped_by,
            stream_id=row.stream_id,
            offset_ms=row.offset_ms,
        )


class PlayPage(BaseModel):
    """A page of plays, newest first; ``next_cursor`` fetches the older ones."""

    items: list[PlayOut]
    next_cursor: str | None = None


class StreamOut(BaseModel):
    id: uuid.UUID
    title: str | None
    started_at: datetime
    stopped_at: datetime | None = Field(description="Null while the stream is live.")
    started_by: str
    stopped_by: str | None = Field(description='Who stopped it; "idle" when nothing played.')
    plays: int = 0
    listened_ms: int = 0

    @classmethod
    def of(cls, row: Stream, plays: int = 0, listened_ms: int = 0) -> StreamOut:
        return cls(
            id=row.id,
            title=row.title,
            started_at=row.started_at,
            stopped_at=row.stopped_at,
            started_by=row.started_by,
            stopped_by=row.stopped_by,
            plays=plays,
            listened_ms=listened_ms,
        )


class StreamsOut(BaseModel):
    items: list[StreamOut]


class StartStreamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=200)


class HistoryQueryIn(BaseModel):
    """Which plays: a stream's, or a period's (``since`` inclusive, ``until`` exclusive),
    containing ``search`` in the name, artist, album or requester."""

    model_config = ConfigDict(extra="forbid")

    stream: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = Field(default=None, max_length=200)
    cursor: str | None = Field(default=None, max_length=100)
    limit: int = Field(default=DEFAULT_HISTORY_PAGE, ge=1, le=MAX_HISTORY_PAGE)


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: ExportFormat
    offset_seconds: int = Field(
        default=0,
        ge=0,
        le=86_400,
        description="YouTube chapters: seconds of pre-roll before the first play.",
    )
    prefix: str | None = Field(
        default=None, max_length=100, description="YouTube chapters: the pre-roll's title."
    )


class ExportOut(BaseModel):
    """An export: its media type, a file name and the text."""

    format: ExportFormat
    media_type: str
    filename: str
    content: str


class SavePlaylistIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    public: bool = False


class SavedPlaylistOut(BaseModel):
    playlist_id: str
    playlist_uri: str
    url: str | None
    tracks: int = Field(description="How many tracks were added.")


class StatsQueryIn(BaseModel):
    """A stream's stats, or a period's (``from`` inclusive, ``to`` exclusive: both)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    stream: uuid.UUID | None = None
    since: datetime | None = Field(default=None, alias="from")
    until: datetime | None = Field(default=None, alias="to")
    top: int = Field(default=10, ge=1, le=50)


class CountOut(BaseModel):
    key: str
    label: str
    plays: int
    listened_ms: int
    heard: float | None = Field(
        default=None, description="Tracks: the mean fraction of the track that was heard."
    )


class SkipRateOut(BaseModel):
    plays: int
    skipped: int
    rate: float | None


class RuleCountOut(BaseModel):
    rule: str
    count: int


class StatsOut(BaseModel):
    since: datetime
    until: datetime
    stream_id: uuid.UUID | None
    plays: int
    listened_ms: int
    top_tracks: list[CountOut]
    top_artists: list[CountOut]
    top_requesters: list[CountOut]
    skip_rate: SkipRateOut
    skip_rate_requests: SkipRateOut
    skip_rate_own: SkipRateOut
    end_reasons: list[RuleCountOut]
    requests_accepted: int
    requests_refused: list[RuleCountOut]
    request_wait_ms: int | None = Field(
        description="Mean time from a request to its play (requests that played)."
    )
    timeline: list[PlayOut] = Field(
        default_factory=list, description="A stream's plays in order (stats of a stream)."
    )
