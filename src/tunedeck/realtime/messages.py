"""What an account's live channel carries: one model per message ``type``.

Every message has a ``type`` and, once published, an ``id`` that increases per account
channel in the order messages are delivered (the bus assigns it). Producers build these
models and publish ``model.to_wire()``; the hub forwards the dict serialized once.

- ``hello``: first message of a connection: account, server time, what it may read;
- ``now_playing``: the REST state's ``now_playing`` plus ``server_time`` (ms since the
  epoch) so a client can interpolate progress; ``now_playing`` is null when nothing plays;
- ``event``: a recorded playback event (API keys only, never overlay tokens);
- ``request``: a song request changed (keys holding ``requests:read`` only): the event's
  type (``request:added``...), the request (null for a change of the whole queue), the
  actor, and the event as stored;
- ``status``: ``polling`` / ``idle`` / ``needs_reauth`` / ``rate_limited`` (``retry_at``)
  / ``no_active_device``;
- ``play``: a play of the history started or ended (API keys with spotify:read only);
- ``reset``: a resume asked for messages too old to replay; a snapshot follows.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from tunedeck.events.schemas import Actor, EventOut
from tunedeck.events.types import EventType
from tunedeck.player.schemas import NowPlayingOut
from tunedeck.requests.schemas import RequestOut


def server_time_ms() -> int:
    """Milliseconds since the epoch, the clock clients interpolate progress against."""
    return int(time.time() * 1000)


class _Message(BaseModel):
    id: int | None = Field(
        default=None, description="Increases per account channel; set when published."
    )

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Hello(_Message):
    type: Literal["hello"] = "hello"
    account_id: uuid.UUID
    server_time: int = Field(default_factory=server_time_ms)
    reads: list[Literal["now_playing", "event", "status", "request", "play"]] = Field(
        description="The message types this connection receives."
    )


class NowPlaying(_Message):
    type: Literal["now_playing"] = "now_playing"
    now_playing: NowPlayingOut | None
    server_time: int = Field(default_factory=server_time_ms)


class Event(_Message):
    type: Literal["event"] = "event"
    event: EventOut


class RequestChange(_Message):
    type: Literal["request"] = "request"
    event_type: EventType
    request: RequestOut | None = Field(
        default=None, description="The request changed; null for a change of the whole queue."
    )
    actor: Actor
    event: EventOut


class StatusKind(StrEnum):
    POLLING = "polling"
    IDLE = "idle"
    NEEDS_REAUTH = "needs_reauth"
    RATE_LIMITED = "rate_limited"
    NO_ACTIVE_DEVICE = "no_active_device"


class Status(_Message):
    type: Literal["status"] = "status"
    status: StatusKind
    message: str
    retry_at: datetime | None = Field(
        default=None, description="rate_limited: when Spotify will take requests again."
    )


class PlayChange(_Message):
    """A play started (``ended_at`` null) or ended: the history's row as it is now."""

    type: Literal["play"] = "play"
    change: Literal["started", "ended"]
    play: dict[str, Any] = Field(description="The play, as GET /v1/history lists it.")


class Reset(_Message):
    type: Literal["reset"] = "reset"
    reason: str


# Types a connection authenticated with an overlay token may receive.
OVERLAY_TYPES = frozenset({"hello", "now_playing", "status", "reset"})
