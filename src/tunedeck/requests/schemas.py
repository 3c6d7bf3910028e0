"""What the request doors take and give: one model each, shared by REST and GraphQL.

A request as every door shows it is :class:`RequestOut`; its ``position`` (1-based among
the requests waiting: pending and queued) and ``eta_ms`` (how long until it plays, from
what is left of the playing item and the lengths of the songs ahead; null when unknown)
are computed when it is read, never stored.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from tunedeck.events.service import CURSOR
from tunedeck.requests.settings import RequestSettings
from tunedeck.requests.viewers import Role

MAX_QUERY_INPUT = 10_000
"""The longest query a door accepts to read: longer is refused by the parser anyway."""
MAX_REASON_TEXT = 300
MAX_CLOSED_MESSAGE = 200
DEFAULT_HISTORY_LIMIT = 50
MAX_HISTORY_LIMIT = 200


class State(StrEnum):
    """Where a request stands (SPEC §10)."""

    PENDING = "pending"  # awaiting a moderator's approval
    QUEUED = "queued"
    SENT = "sent"  # handed to Spotify, not seen playing yet
    PLAYING = "playing"
    PLAYED = "played"
    SKIPPED = "skipped"
    REMOVED = "removed"
    REJECTED = "rejected"


WAITING = frozenset({State.PENDING, State.QUEUED})
"""States whose requests count against the caps and can be moved, approved or removed."""
IN_QUEUE = frozenset({State.PENDING, State.QUEUED, State.SENT, State.PLAYING})
"""States the queue shows."""
ENDED = frozenset({State.PLAYED, State.SKIPPED, State.REMOVED, State.REJECTED})


class Source(StrEnum):
    """Which door a request came through."""

    CHAT = "chat"
    API = "api"
    DASHBOARD = "dashboard"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ViewerOut(BaseModel):
    """Who asked, as their chat bot (or key) described them."""

    platform: str
    id: str
    login: str | None = None
    display_name: str
    role: Role


class RequestTrackOut(BaseModel):
    """The song a request resolved to, as kept with it (no Spotify call to read it)."""

    uri: str
    name: str
    artists: list[str] = Field(default_factory=list)
    album: str | None = None
    duration_ms: int
    explicit: bool = False
    album_art_url: str | None = None


class RequestOut(BaseModel):
    """One song request."""

    id: uuid.UUID
    viewer: ViewerOut
    source: Source
    query: str = Field(description="What the viewer typed (cleaned).")
    track: RequestTrackOut
    state: State
    reason: str | None = Field(default=None, description="A reason code when refused or ended.")
    reason_text: str | None = Field(default=None, description="The reason as a sentence.")
    position: int | None = Field(
        default=None, description="1-based place among the requests waiting; null otherwise."
    )
    eta_ms: int | None = Field(
        default=None, description="Estimated time until it plays; null when unknown."
    )
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None


class RefusalOut(BaseModel):
    """Why a request was not taken: a reason code and the sentence a viewer reads."""

    code: str
    message: str


class QueueOut(BaseModel):
    """The channel's queue: the request playing, the one sent to Spotify, then those
    waiting in order (with positions and ETAs)."""

    open: bool
    closed_message: str = ""
    items: list[RequestOut]


class HistoryPage(BaseModel):
    """A page of requests, newest first; ``next_cursor`` fetches older ones."""

    items: list[RequestOut]
    next_cursor: str | None = None


class ViewerPlace(BaseModel):
    """Where a viewer's next request stands (``!pos``, ``!when``)."""

    request: RequestOut | None = Field(
        default=None, description="Their request that plays soonest, if any."
    )
    waiting: int = Field(description="How many of their requests are waiting.")


class SettingsOut(BaseModel):
    """The channel's request settings (rules per role, open/closed, lists)."""

    settings: RequestSettings
    version: int = Field(description="Changes with every change to the queue or the settings.")


class BanOut(BaseModel):
    """A viewer who may not request on this channel."""

    platform: str
    id: str
    login: str | None = None
    display_name: str
    reason: str | None = None
    actor: str | None = None
    created_at: datetime


class SkipOut(BaseModel):
    """The request skipped; null when no request was playing (nothing was skipped)."""

    skipped: RequestOut | None


class ClearedOut(BaseModel):
    """How many waiting requests a clear removed."""

    removed: int


class ViewerIn(_In):
    """A viewer named by whoever submits for them (a bot holding ``requests:submit``)."""

    platform: StrictStr = Field(default="api", min_length=1, max_length=16)
    id: StrictStr | None = Field(default=None, min_length=1, max_length=64)
    login: StrictStr | None = Field(default=None, min_length=1, max_length=64)
    display_name: StrictStr = Field(min_length=1, max_length=64)
    role: Role = Role.REGULAR


class SubmitIn(_In):
    """``POST /v1/requests``: what to play, and for whom (the caller when absent)."""

    query: StrictStr = Field(max_length=MAX_QUERY_INPUT)
    viewer: ViewerIn | None = None


class RejectIn(_In):
    reason: StrictStr | None = Field(default=None, max_length=MAX_REASON_TEXT)


class MoveIn(_In):
    """Where to move a request; required (checked once the request is found, so an
    unknown request is a 404 whatever the body)."""

    position: StrictInt | None = Field(
        default=None, ge=1, le=100_000, description="1-based place among those waiting."
    )


class CloseIn(_In):
    message: StrictStr | None = Field(default=None, max_length=MAX_CLOSED_MESSAGE)


class BanIn(_In):
    """Ban a viewer (``platform`` and ``id``, or ``login``), optionally removing their
    waiting requests."""

    platform: StrictStr = Field(min_length=1, max_length=16)
    id: StrictStr | None = Field(default=None, min_length=1, max_length=64)
    login: StrictStr | None = Field(default=None, min_length=1, max_length=64)
    display_name: StrictStr | None = Field(default=None, max_length=64)
    reason: StrictStr | None = Field(default=None, max_length=MAX_REASON_TEXT)
    remove_waiting: bool = True


class UnbanIn(_In):
    platform: StrictStr = Field(min_length=1, max_length=16)
    id: StrictStr = Field(min_length=1, max_length=100)


class HistoryIn(_In):
    """A page of the request history: newest first, optionally in given states."""

    state: list[State] | None = None
    cursor: StrictStr | None = Field(
        default=None,
        max_length=128,
        description="next_cursor of the previous page.",
        json_schema_extra={"pattern": CURSOR},
    )
    limit: int = Field(default=DEFAULT_HISTORY_LIMIT, ge=1, le=MAX_HISTORY_LIMIT)


SettingsDocument = dict[str, Any]
"""A whole settings document as sent (validated by ``settings.RequestSettings``)."""
