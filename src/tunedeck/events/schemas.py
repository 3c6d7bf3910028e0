"""Shapes of events: what the recorder takes, what the API and the bus hand out.

Parameters by type (``params``), as the player records them:

- ``spotify:play``: ``uri`` and/or ``context_uri`` when given
- ``spotify:skip``: ``to_uri`` for skip_to, nothing for next
- ``spotify:seek``: ``position_ms``
- ``spotify:volume``: :class:`VolumeParams` (``old_volume``, ``new_volume``)
- ``spotify:shuffle``: ``state``; ``spotify:repeat``: ``mode``
- ``spotify:queue_add``: ``uri``
- ``spotify:device``: ``device_id`` (and ``device_name``, ``play`` when known)
- ``spotify:playlist``: :class:`PlaylistParams`
- ``spotify:pause``, ``spotify:previous``: nothing
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tunedeck.accounts.permissions import Principal
from tunedeck.events.types import EventType


class TrackSnapshot(BaseModel):
    """The track playing when the action happened."""

    name: str
    artists: list[str] = Field(default_factory=list)
    album: str | None = None
    art_url: str | None = None
    uri: str | None = None
    duration_ms: int | None = None
    progress_ms: int | None = None


class Actor(BaseModel):
    """The principal that triggered the action (the key's id and label, and its kind)."""

    # Bounded like the columns they land in, so a bad actor fails the action, not the relay.
    key_id: str | None = Field(max_length=64)
    label: str = Field(max_length=100)
    kind: str = Field(max_length=16)

    @classmethod
    def from_principal(cls, principal: Principal) -> Actor:
        key_id = principal.key_id
        return cls(
            key_id=str(key_id) if key_id is not None else None,
            label=principal.label,
            kind=principal.kind.value,
        )


class VolumeParams(BaseModel):
    """``params`` of ``spotify:volume``: the volume before (if known) and after."""

    old_volume: int | None = Field(default=None, ge=0, le=100)
    new_volume: int = Field(ge=0, le=100)


class PlaylistParams(BaseModel):
    """``params`` of ``spotify:playlist``: the playlist started, as the caller described it."""

    uri: str
    name: str | None = None
    cover_url: str | None = None
    track_count: int | None = Field(default=None, ge=0)
    playlist_url: str | None = None


class EventOut(BaseModel):
    """One recorded event, as stored, listed and broadcast (inside an ``event`` message)."""

    model_config = ConfigDict(use_enum_values=False)

    id: uuid.UUID
    account_id: uuid.UUID
    type: EventType
    occurred_at: datetime
    actor: Actor
    params: dict[str, Any] = Field(default_factory=dict)
    track: TrackSnapshot | None = None

    def to_message(self) -> dict[str, Any]:
        """The bus payload: ``{"type": "event", "event": <the JSON form>}`` (song request
        events: a ``request`` message, :func:`event_message`)."""
        return event_message(self.model_dump(mode="json"))


REQUEST_EVENTS = "request:"
"""The prefix of song request events: they travel as ``request`` messages."""


def event_message(payload: dict[str, Any]) -> dict[str, Any]:
    """The live channel's message for an event in JSON form (the bus adds the ``id``):
    ``{"type": "event", "event": ...}`` for playback events, and for song request events
    ``{"type": "request", "event_type", "request", "actor", "event"}`` (the request as its
    event carries it, null for a change of the whole queue: bans, settings, a clear), so
    that each reaches only the clients allowed to read it."""
    kind = str(payload.get("type", ""))
    if kind.startswith(REQUEST_EVENTS):
        params = payload.get("params") or {}
        return {
            "type": "request",
            "event_type": kind,
            "request": params.get("request") if isinstance(params, dict) else None,
            "actor": payload.get("actor"),
            "event": payload,
        }
    return {"type": "event", "event": payload}


class EventPage(BaseModel):
    """A page of an account's events, newest first; ``next_cursor`` fetches the older ones."""

    items: list[EventOut]
    next_cursor: str | None = None
